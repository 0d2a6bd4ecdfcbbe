// Bound rules of BatchNormalization (inference) and LayerNormalization (the native operator;
// the decomposition PyTorch exports is bounded operator by operator): theory/normalization.md.
#pragma once

#include <cstdint>

#include "bounds/elementwise.h"
#include "bounds/interval.h"

namespace fpaudit::bounds {

// ---- BatchNormalization ----------------------------------------------------------------
// The chain folds each channel into scale = round_S(γ/√(σ²+ε)) and shift =
// round_S(fma(-μ, scale, β)) (binary64, from its own rounded constants), then y = round_S(x·scale
// + shift). The fold encloses the chain's scale and shift and bounds their distance from the
// exact γ̄/√(σ̄²+ε) and β̄ - μ̄·γ̄/√(σ̄²+ε).

struct BatchNormFold {
  Interval scale, shift;           ///< the chain's rounded scale and shift lie here
  double scale_err = 0, shift_err = 0;  ///< their distance from the exact ones
};
BatchNormFold batchnorm_fold(const ArithmeticModel& m, Operand gamma, Operand beta, Operand mean, Operand var, double epsilon);
/// One output element x·scale + shift. Inline: called twice per element and pass.
inline double batchnorm_bound(const ArithmeticModel& m, const BatchNormFold& f, Operand x) {
  if (std::isnan(x.lo) || std::isnan(x.hi) || std::isnan(x.err)) return __builtin_inf();
  // y_c = round_S(x_c·ŝ + ĥ) (one rounding: an exact product of two storage values); the exact
  // ȳ = x̄·s̄ + h̄. |x_c ŝ + ĥ - x̄ s̄ - h̄| ≤ |x_c||ŝ - s̄| + |x_c - x̄||s̄| + |ĥ - h̄|.
  const Interval y = Interval{x.lo, x.hi} * f.scale + f.shift;
  const double local = m.storage.error(y.magnitude());
  const double prop = x.magnitude() * f.scale_err + x.err * (f.scale.magnitude() + f.scale_err) + f.shift_err;
  // prop's two products: the underflow allowance of theory/bounds-arithmetic.md §1(a).
  return nan_to_inf(safe_sum(local + prop, 8, 2));
}

/// A run of elements of one channel: inputs lo, hi, ed (and ep, or null when the probabilistic
/// input bound is the deterministic one); outputs det[i] = batchnorm_bound(x_i with ed) and
/// prob[i] = min(det[i], the bound with ep) (det[i] when ep is null).
struct BatchNormRun {
  const double *lo = nullptr, *hi = nullptr, *ed = nullptr, *ep = nullptr;
  double *det = nullptr, *prob = nullptr;
  long n = 0;
};
/// batchnorm_bound over a run, several elements at a time: the same bits element by element.
void batchnorm_bounds(const ArithmeticModel& m, const BatchNormFold& f, const BatchNormRun& x);

// ---- LayerNormalization ------------------------------------------------------------------
// Over the n normalised elements, in the accumulation format A (docs/chain-semantics.md):
// μ = Σx/n, d = x - μ, v = Σd²/n, r = 1/√(v + ε), y = round_S(d·r·γ + β).

struct LayerNormRow {
  long n = 0;
  const Enclosure* x = nullptr;
  long x_base = 0;                         ///< x_j at x_base + j (outputs at the same offsets)
  const Enclosure* gamma = nullptr;
  const std::int64_t* gamma_at = nullptr;  ///< the γ element of position j
  const Enclosure* beta = nullptr;         ///< null: no bias
  const std::int64_t* beta_at = nullptr;
  double epsilon = 1e-5;
};
/// Writes the row's bounds; returns the failure probability of the probabilistic one.
double layernorm_bound(const ArithmeticModel& m, double lambda, const LayerNormRow& row, Tensor& det, Tensor& prob);

}  // namespace fpaudit::bounds
