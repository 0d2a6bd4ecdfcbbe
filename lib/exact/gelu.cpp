// GELU with the exact normal CDF, x·Φ(x), correctly rounded as one function: a Ziv loop over
// an MPFR evaluation whose error is bounded below (theory/reference-arithmetic.md §6).
#include <algorithm>
#include <cmath>
#include <limits>

#include "exact/composite_functions.h"
#include "exact/elementary.h"
#include "exact/erfc_continued_fraction.h"

namespace fpaudit::exact {

namespace detail {

ErrorBits gelu_approximation(mpfr_ptr out, mpfr_srcptr x, mpfr_prec_t prec) {
  // u = 2^-prec; s2 = RN(√2) = √2(1+δ0); every operation rounds to nearest (relative ≤ u).
  // The scaled argument a = |x|/√2 is computed as â = RN(|x|/s2) = a(1+θ), |θ| ≤ 2.01u.
  mpfr_ptr s2 = scratch().t[1];
  mpfr_ptr a = scratch().t[2];
  mpfr_ptr e = scratch().t[3];
  mpfr_set_prec(s2, prec);
  mpfr_set_prec(a, prec);
  mpfr_set_prec(e, prec);
  mpfr_sqrt_ui(s2, 2, MPFR_RNDN);
  mpfr_div(a, x, s2, MPFR_RNDN);
  mpfr_abs(a, a, MPFR_RNDN);  // exact
  if (mpfr_sgn(x) > 0) {
    // x·Φ(x) = (x/2)(1 + erf(a)). |erf(â) - erf(a)| ≤ (2/√π)·max(t e^{-t²})·2.01u ≤ 0.98u; the
    // rounding of erf adds ≤ u, of the sum 1 + erf ≥ 1 relative ≤ u, of the product ≤ u;
    // halving is exact. Relative error ≤ 4.1u, so |out - f| < 8u·2^EXP(out): prec - 3 bits.
    mpfr_erf(e, a, MPFR_RNDN);
    mpfr_add_ui(e, e, 1, MPFR_RNDN);
    mpfr_mul(out, x, e, MPFR_RNDN);
    mpfr_div_2ui(out, out, 1, MPFR_RNDN);
    return static_cast<ErrorBits>(prec) - 3;
  }
  // x < 0: x·Φ(x) = (x/2)·erfc(a), a > 0. With M(t) = |d/dt log erfc(t)| = 2e^{-t²}/(√π erfc(t))
  // < t + √(t² + 2) ≤ 2t + √2 (Abramowitz & Stegun 7.1.13), erfc(â) = erfc(a)·e^{±λ} with
  // λ ≤ 2.01u·a·(2.02a + 1.42). Rounding erfc and the product add ≤ 2u relative, so
  // |out/f - 1| ≤ (2.01 + 2.031a(2.02a + 1.42))u whenever λ ≤ 0.02 (e^λ - 1 ≤ 1.01λ): K·u with
  // K computed below from â in binary64 with margins for that computation's own rounding.
  const double ad = mpfr_get_d(a, MPFR_RNDU) * (1 + 0x1p-40);  // ≥ a
  const double k = 2.2 + 2.04 * ad * (2.03 * ad + 1.43);
  if (!(k * std::ldexp(1.0, -static_cast<int>(std::min<mpfr_prec_t>(prec, 1000))) <= 0x1p-10)) return kNoBound;
  mpfr_erfc(e, a, MPFR_RNDN);
  mpfr_mul(out, x, e, MPFR_RNDN);
  mpfr_div_2ui(out, out, 1, MPFR_RNDN);
  // |out - f| ≤ K·u·|f| ≤ 1.01·K·u·|out| < 2^(EXP(out) - prec + ceil(log2(1.01 K))).
  return static_cast<ErrorBits>(prec) - static_cast<ErrorBits>(std::ceil(std::log2(1.01 * k)));
}

/// For |x| ≥ 4: with T = 1 - Φ(|x|) enclosed by its continued fraction
/// (erfc_continued_fraction.h), x·Φ(x) = x·T for x < 0 and x·(1 - T) for x > 0. True when the
/// enclosure pins the binary64 result.
bool gelu_by_continued_fraction(double x, double& value) {
  MpfrScratch& s = scratch();
  if (!normal_tail_enclosure(std::fabs(x), s.lo, s.hi)) return false;
  if (x > 0) {  // 1 - T: [1 - hi, 1 - lo]
    mpfr_ui_sub(s.lo, 1, s.lo, MPFR_RNDU);
    mpfr_ui_sub(s.hi, 1, s.hi, MPFR_RNDD);
    mpfr_swap(s.lo, s.hi);
  } else {  // multiplying by x < 0 swaps the ends
    mpfr_swap(s.lo, s.hi);
  }
  mpfr_mul_d(s.lo, s.lo, x, MPFR_RNDD);
  mpfr_mul_d(s.hi, s.hi, x, MPFR_RNDU);
  return pins_binary64(s.lo, s.hi, value);
}

}  // namespace detail

Certified gelu_rn(double x) {
  if (std::isnan(x) || x == 0 || x == std::numeric_limits<double>::infinity()) return {x, 0.0};
  if (x == -std::numeric_limits<double>::infinity()) return {-0.0, 0.0};  // the limit
  // Tails decided by bounds alone (theory §6): for x ≥ 9, 0 < x - xΦ(x) = x(1 - Φ(x)) and
  // 1 - Φ(9) < 2^-62, far below the half gap under x (≥ x·2^-54): RN = x. For x ≤ -40,
  // |xΦ(x)| ≤ φ(x) = e^{-x²/2}/√(2π) < 2^-1154 (Mills' ratio): RN = -0.
  if (x >= 9) return correctly_rounded(x, false);
  if (x <= -40) return {-0.0, std::numeric_limits<double>::denorm_min()};
  detail::MpfrEnvironment env;
  mpfr_ptr arg = detail::exact_arg(x);
  double value = 0;
  if (std::fabs(x) >= 4 && detail::gelu_by_continued_fraction(x, value)) return correctly_rounded(value, false);
  return detail::ziv_binary64([&](mpfr_ptr out, mpfr_prec_t prec) { return detail::gelu_approximation(out, arg, prec); });
}

}  // namespace fpaudit::exact
