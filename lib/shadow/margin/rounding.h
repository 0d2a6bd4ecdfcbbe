// Upward corrections for the binary64 arithmetic of the margin bound (theory/margin-bound.md §3,
// after theory/bounds-arithmetic.md §1).
#pragma once

#include "bounds/model.h"
#include "bounds/transfer.h"

namespace fpaudit::margin {

/// The absolute allowance for underflow (bounds/transfer.h): 2^-900 covers the underflow terms
/// (2^-1075 each, theory/bounds-arithmetic.md §1(a)) of 2^174 products, so one term covers all of
/// an expression. It is normal, and so are its products with the rounding factors (≥ 2^-53) and
/// with any weight above 2^-69: radii and bounds built on it never become subnormal, whose every
/// product costs a microcode assist on Intel cores. With 2^-1071 here and 2^-1074 per product in
/// safe_sum, the CNN's margin pass ran five times slower on a Xeon than in flush-to-zero mode.
using bounds::kUnderflowFloor;

/// x ≥ 0 computed with at most 8 binary64 roundings, each of relative size ≤ 2^-53, from
/// nonnegative terms: the exact value is at most x·(1 + 2^-53)^8 < x·(1 + 9·2^-53). inflate's own
/// addition x + x·2^-49 may round down by a relative 2^-53, so it returns at least
/// x·(1 + 2^-49)(1 - 2^-53) > x·(1 + 14·2^-53), which covers the eight (with 2^-50 it would be
/// x·(1 + 7·2^-53): seven). Where a rounding underflows it may also lose 2^-1075 absolute
/// (theory/bounds-arithmetic.md §1(a)): the absolute term kUnderflowFloor covers eight such
/// and inflate's own product; each rounding's absolute error must reach x through additions only (a
/// sum of many products is finished by bounds::safe_sum first).
inline double inflate(double x) { return x + x * 0x1p-49 + kUnderflowFloor; }

/// The binary64 error of a sum of n products Σ w·m computed in any order, abs_sum the binary64
/// value of Σ|w·m|: at most γ_n(2^-53)·Σ|w||m| + n·2^-1075 (Higham, Lemma 3.1 /
/// theory/dot-product.md with u = 2^-53 and the underflow term of each product), Σ|w||m| at
/// most abs_sum's safety factor and allowance; kUnderflowFloor covers the n + 2 underflow
/// terms, abs_sum's and this expression's own (theory/margin-bound.md, Lemma 3).
inline double dot_rounding(long n, double abs_sum) {
  return bounds::gamma(n, 0x1p-53) * abs_sum * bounds::safety(2 * n) + kUnderflowFloor;
}

}  // namespace fpaudit::margin
