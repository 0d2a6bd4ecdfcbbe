#include "exact/compensated_sum.h"

#include <bit>
#include <limits>

namespace fpaudit::exact {

namespace {

/// Half of the smaller of the two gaps around y (y normal, |y| ≥ 2^-960): every real number
/// closer to y than this rounds to y. ulp(y)/2 in general, ulp(y)/4 when |y| is a power of two
/// (the gap below is then half the gap above). A power of two ≥ 2^-1014, so exact.
double min_half_gap(double y) {
  const auto bits = std::bit_cast<std::uint64_t>(std::fabs(y));
  const auto biased = static_cast<int>(bits >> 52);
  const bool power_of_two = (bits & ((std::uint64_t{1} << 52) - 1)) == 0;
  // ulp(y) = 2^(biased - 1075).
  return std::bit_cast<double>(static_cast<std::uint64_t>(biased - 53 - (power_of_two ? 1 : 0)) << 52);
}

}  // namespace

std::optional<Certified> certify_nearest(const CompensatedSum& sum) {
  if (!std::isfinite(sum.s) || !std::isfinite(sum.c) || !std::isfinite(sum.abs_c)) return std::nullopt;
  // Every error term is zero (a sum of magnitudes is zero only then): S = s exactly, and s
  // carries the IEEE sign of an exact zero.
  if (sum.abs_c == 0) return Certified{sum.s, 0.0};
  if (sum.errors > kMaxCertifiedErrors) return std::nullopt;

  // y + f = s + c exactly; S = y + f + (Σe - c).
  const SumAndError yf = two_sum(sum.s, sum.c);
  const double y = yf.s, f = yf.e;
  if (!std::isfinite(y) || !std::isfinite(f) || std::fabs(y) < 0x1p-960) return std::nullopt;

  // |Σe - c| ≤ 2(m-1)u·a ≤ fl(fl(4(m+1)u)·a) + 2^-1074: the factor 4(m+1) over 2(m-1) pays for
  // the rounding of the product, and 2^-1074 for its possible underflow (proof: theory §3).
  const double per_term = static_cast<double>(sum.errors + 1) * 0x1p-51;  // exact: m < 2^52
  const double bound = per_term * sum.abs_c + std::numeric_limits<double>::denorm_min();
  const double h = min_half_gap(y);
  // fl(|f| + bound) ≤ h(1 - 2^-50) implies |f| + bound < h, since fl(a + b) ≥ (a + b)(1 - u).
  if (std::fabs(f) + bound <= h - h * 0x1p-50) return correctly_rounded(y, false);
  return std::nullopt;
}

std::optional<Certified> certify_exact_errors(const CompensatedSum& sum, int grid_exponent) {
  if (!std::isfinite(sum.s) || !std::isfinite(sum.c) || !std::isfinite(sum.abs_c)) return std::nullopt;
  // Every partial sum of the error terms is a multiple of 2^g no larger than Σ|e|, hence
  // representable while Σ|e| < 2^(g+53); and the computed abs_c reaches 2^(g+53) whenever Σ|e|
  // does (rounding is monotonic and 2^(g+53) is representable). ldexp is exact here: the
  // callers' grids satisfy g + 53 ≥ -1074, and a threshold above the range is +Inf.
  if (!(sum.abs_c < std::ldexp(1.0, grid_exponent + 53))) return std::nullopt;
  const SumAndError yf = two_sum(sum.s, sum.c);  // y = RN(s + c) = RN(S)
  return correctly_rounded(yf.s, yf.e == 0);
}

}  // namespace fpaudit::exact
