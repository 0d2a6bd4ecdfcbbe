// An error-free running sum and the certificate that decides, from it alone, whether its
// floating-point evaluation is the correctly rounded exact sum.
//
// The terms are added with TwoSum (Knuth), which is exact barring overflow: after any number
// of additions the exact sum S of all terms is
//     S = s + Σ e_k            (e_k: the TwoSum errors, and any other exact error terms)
// The e_k are summed in floating point, in any order, into c, and their magnitudes into a.
// With m error terms, |Σ e_k - c| ≤ γ_{m-1} Σ|e_k| ≤ 2(m-1)u·a (u = 2^-53, m·u ≤ 2^-10), so S
// lies in a known small interval around s + c. If that interval lies inside the rounding
// interval of one binary64 number y, then y = RN(S) (theory/reference-arithmetic.md §3).
//
// This is the cheap half of the reference dot product (ideas of Ogita, Rump and Oishi,
// "Accurate sum and dot product", SISC 2005): it certifies almost every well- or moderately
// conditioned sum; when the certificate fails the caller recomputes with ExactAccumulator.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>

#include "exact/certified.h"

namespace fpaudit::exact {

/// The exact a + b as s + e (Knuth's TwoSum: six operations, no branch, any order of
/// magnitudes). Exact for finite a, b unless a + b overflows; an overflow anywhere inside
/// leaves s or e non-finite, never a finite wrong e.
struct SumAndError {
  double s, e;
};
inline SumAndError two_sum(double a, double b) {
  const double s = a + b;
  const double bb = s - a;
  const double e = (a - (s - bb)) + (b - bb);
  return {s, e};
}

struct CompensatedSum {
  /// Floating-point sum of the terms. Starts at -0 so that a sum of -0 terms stays -0, as
  /// IEEE 754 rounds the exact sum of signed zeros.
  double s = -0.0;
  double c = 0.0;              ///< floating-point sum of the error terms
  double abs_c = 0.0;          ///< floating-point sum of the magnitudes of the error terms
  std::uint64_t errors = 0;    ///< upper bound on the number of error terms in c

  /// Adds x: s, e = TwoSum(s, x); e joins the error terms.
  void add(double x) {
    const SumAndError r = two_sum(s, x);
    s = r.s;
    c += r.e;
    abs_c += std::fabs(r.e);
    ++errors;
  }
  /// Adds error terms already summed elsewhere: their floating-point sum, the sum of their
  /// magnitudes, and their number.
  void add_errors(double sum, double abs_sum, std::uint64_t count) {
    c += sum;
    abs_c += abs_sum;
    errors += count;
  }
};

/// The largest number of error terms the certificate accepts (it needs m·u ≤ 2^-10).
inline constexpr std::uint64_t kMaxCertifiedErrors = std::uint64_t{1} << 40;

/// RN(S) with its bound when the certificate proves it, nullopt when it cannot decide (huge
/// cancellation, S too close to a rounding boundary, a result below 2^-960, or a non-finite
/// intermediate: overflow, NaN or Inf among the terms).
std::optional<Certified> certify_nearest(const CompensatedSum& sum);

/// The second chance, for what certify_nearest cannot prove (exact ties are common in short
/// sums of binary32 products): if every error term is an integer multiple of 2^grid_exponent
/// (a bound the caller derives from the terms) and abs_c < 2^(grid_exponent + 53), then no
/// partial sum of the error terms was ever rounded, c is their exact sum, S = s + c, and
/// RN(S) = fl(s + c), ties and overflow included. nullopt otherwise.
std::optional<Certified> certify_exact_errors(const CompensatedSum& sum, int grid_exponent);

}  // namespace fpaudit::exact
