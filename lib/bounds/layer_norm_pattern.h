// The exported LayerNorm (lib/graph/layer_norm_pattern.h) bounded at its Div as one operator of
// its input x: theory/layernorm-pattern.md. The chain runs the seven operators one by one, each
// rounded into its storage format; the exact network computes n̂(x̄) = (x̄ - μ)/√(v + ε̄).
#pragma once

#include "bounds/elementwise.h"
#include "bounds/transfer.h"

namespace fpaudit::bounds {

/// One row: x, the Div's numerator d̂ and its output at base + j (j < n); the denominator ŝ
/// at s_at. Enclosures and error bounds as every rule gets them (lib/bounds/transfer.h).
struct LayerNormPatternRow {
  long n = 0, base = 0, s_at = 0;
  const Enclosure* x = nullptr;
  const Enclosure* d = nullptr;
  const Enclosure* s = nullptr;
  Operand epsilon;  ///< the chain's ε (lo = hi) and its distance from the exact ε
};

/// Lowers det[base + j] and prob[base + j] (the Div rule's bounds on entry) to the pattern's
/// bounds where those are smaller: the local chain of the seven roundings plus the drift of n̂
/// (Theorem 1), and the saturation bound |ŷ| + |n̂(x̄)| (Theorem 2). Deterministic in its own
/// roundings: the probabilistic bound differs only through x's probabilistic error bound, so it
/// adds no failure probability.
void layer_norm_pattern_bound(const ArithmeticModel& m, double lambda, const LayerNormPatternRow& row, Tensor& det,
                              Tensor& prob);

}  // namespace fpaudit::bounds
