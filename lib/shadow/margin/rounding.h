// Upward corrections for the binary64 arithmetic of the margin bound (theory/margin-bound.md §3,
// after theory/bounds-arithmetic.md §1).
#pragma once

#include "bounds/model.h"
#include "bounds/transfer.h"

namespace fpaudit::margin {

/// x ≥ 0 computed with at most 8 binary64 roundings, each of relative size ≤ 2^-53, from
/// nonnegative terms: the exact value is at most x·(1 + 2^-53)^8 ≤ x·(1 + 2^-50); the absolute
/// term covers an underflow.
inline double inflate(double x) { return x + x * 0x1p-50 + 0x1p-1074; }

/// The binary64 error of a sum of n products Σ w·m computed in any order: at most
/// γ_n(2^-53)·Σ|w||m| (Higham, Lemma 3.1 / theory/dot-product.md with u = 2^-53).
inline double dot_rounding(long n, double abs_sum) {
  return bounds::gamma(n, 0x1p-53) * abs_sum * bounds::safety(2 * n);
}

}  // namespace fpaudit::margin
