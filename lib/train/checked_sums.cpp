#include "train/checked_sums.h"

#include <cmath>
#include <vector>

#include "bounds/sums.h"
#include "bounds/transfer.h"
#include "core/reference_arithmetic.h"

namespace fpaudit::train {

namespace {
const ExactArithmetic& exact_arithmetic() {
  static const ExactArithmetic exact;
  return exact;
}
constexpr double kLambda = 7.0;  // unused by the deterministic bound; sum_error wants one
}  // namespace

void SumCheck::add(double computed, double exact, double bound, long copies) {
  ++checked;
  bound_sq = bounds::up(bound_sq + bounds::up(static_cast<double>(copies) * bounds::up(bound * bound)));
  const double err = std::fabs(computed - exact);
  // A non-finite computed value under a finite bound is a violation, as in the forward audit.
  if (!(err <= bound)) ++violations;
  if (bound > 0 && std::isfinite(bound)) max_ratio = std::fmax(max_ratio, std::isfinite(err) ? err / bound : INFINITY);
}

void SumCheck::merge(const SumCheck& o) {
  checked += o.checked;
  violations += o.violations;
  max_ratio = std::fmax(max_ratio, o.max_ratio);
  bound_sq = bounds::up(bound_sq + o.bound_sq);
}

double backward_sum_bound(const bounds::ArithmeticModel& m, long n, double S, double exact) {
  using bounds::up;
  bounds::SumError e = bounds::sum_error(m, n, up(S), kLambda);
  double det = e.det;
  // Chains whose accumulation format is wider than storage round the finished sum once more.
  if (m.storage_differs) det = up(det + m.storage.error(up(up(S) + det)));
  // The exact sum the chain is compared with is itself rounded once to binary64.
  return up(det + up(std::fabs(exact) * 0x1p-53 + 0x1p-1074));
}

void checked_gemm(const BackwardArithmetic& b, const GemmArgs& g, std::span<const double> W, std::span<const double> X) {
  GemmArgs run = g;
  run.round_to_storage = true;
  run.w_packs = run.x_packs = nullptr;
  b.a.gemm(run);
  if (!b.check) return;
  // The exact product of the same operands, and Σ|w·x| (exact, rounded once) for the bound.
  std::vector<double> exact(static_cast<std::size_t>(g.M * g.ldy)), magnitude(exact.size());
  std::vector<double> w_abs(W.begin(), W.end()), x_abs(X.begin(), X.end());
  for (double& v : w_abs) v = std::fabs(v);
  for (double& v : x_abs) v = std::fabs(v);
  GemmArgs e = run;
  e.Y = exact.data();
  exact_arithmetic().gemm(e);
  e.W = w_abs.data();
  e.X = x_abs.data();
  e.Y = magnitude.data();
  exact_arithmetic().gemm(e);
  const bounds::ArithmeticModel& m = b.model;
  for (long i = 0; i < g.M; ++i)
    for (long j = 0; j < g.N; ++j) {
      const std::size_t k = static_cast<std::size_t>(i * g.ldy + j);
      b.check->add(g.Y[k], exact[k], backward_sum_bound(m, g.K, magnitude[k], exact[k]));
    }
}

double checked_dot(const BackwardArithmetic& b, std::span<const double> x, std::span<const double> w) {
  const long n = static_cast<long>(x.size());
  const double v = b.a.round(b.a.dot(x.data(), 1, w.data(), 1, n), Target::Storage);
  if (b.check) {
    const double exact = exact_arithmetic().dot(x.data(), 1, w.data(), 1, n);
    // Σ|x·w| needs no exact sum: binary64 products and sums of non-negative terms, rounded
    // upward by the safety factor of n + 1 operations with the underflow allowance of its n
    // products (theory/bounds-arithmetic.md §1(a)).
    double S = 0;
    for (long i = 0; i < n; ++i) S += std::fabs(x[static_cast<std::size_t>(i)] * w[static_cast<std::size_t>(i)]);
    S = bounds::up(bounds::safe_sum(S, n + 1, n));
    b.check->add(v, exact, backward_sum_bound(b.model, n, S, exact));
  }
  return v;
}

double checked_sum(const BackwardArithmetic& b, std::span<const double> x) {
  const long n = static_cast<long>(x.size());
  const double v = b.a.round(b.a.sum(x.data(), 1, n), Target::Storage);
  if (b.check) {
    const double exact = exact_arithmetic().sum(x.data(), 1, n);
    double S = 0;
    for (long i = 0; i < n; ++i) S += std::fabs(x[static_cast<std::size_t>(i)]);
    S = bounds::up(S * bounds::safety(n + 1));
    b.check->add(v, exact, backward_sum_bound(b.model, n, S, exact));
  }
  return v;
}

double norm_up(std::span<const double> x) {
  double s = 0;
  for (double v : x) s += v * v;
  const auto n = static_cast<long>(x.size());
  return sqrt_up(bounds::up(bounds::safe_sum(s, n + 1, n)));  // n products: §1(a)
}

double sqrt_up(double x) { return bounds::up(std::sqrt(x)); }

double checked_round(const BackwardArithmetic& b, double computed, double exact, long copies) {
  if (b.check) {
    const double bound = bounds::up(b.model.storage.error(bounds::up(std::fabs(exact))) + bounds::up(std::fabs(exact) * 0x1p-53 + 0x1p-1074));
    b.check->add(computed, exact, bound, copies);
  }
  return computed;
}

}  // namespace fpaudit::train
