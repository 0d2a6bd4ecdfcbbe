// σ(x) = 1/(1 + e^-x), correctly rounded: a Ziv loop over an MPFR evaluation whose error is
// bounded below (theory/reference-arithmetic.md §6).
#include <algorithm>
#include <cmath>
#include <limits>

#include "exact/composite_functions.h"
#include "exact/elementary.h"
#include "exact/exp_double_word.h"
#include "exact/fp_environment.h"

namespace fpaudit::exact {

namespace detail {

ErrorBits sigmoid_approximation(mpfr_ptr out, mpfr_srcptr x, mpfr_prec_t prec) {
  // With u = 2^-prec and every operation rounded to nearest (relative error ≤ u):
  //   x ≥ 0: t = e^-x (1+δ1), d = (1 + t)(1+δ2), out = (1/d)(1+δ3). Since e^-x/(1+e^-x) ≤ 1/2,
  //          1 + t = (1 + e^-x)(1+δ1') with |δ1'| ≤ u/2, so |out/σ - 1| ≤ 2.6u.
  //   x < 0: σ = e^x/(1 + e^x): t = e^x (1+δ1), d = (1+t)(1+δ2), out = (t/d)(1+δ3):
  //          |out/σ - 1| ≤ 3.6u.
  // Then |out - σ| ≤ 3.6u(1 + 3.7u)|out| < 4u·2^EXP(out): prec - 2 bits; we claim prec - 3.
  // (If e^-x underflows for huge x ≥ 0, t's absolute error is below 2^emin ≪ u: same bound.)
  mpfr_ptr t = scratch().t[1];
  mpfr_ptr d = scratch().t[2];
  // t holds -x exactly (at least x's precision); e^-x is then rounded at least as finely as u.
  mpfr_set_prec(t, std::max(prec, mpfr_get_prec(x)));
  mpfr_set_prec(d, prec);
  if (mpfr_sgn(x) >= 0) {
    mpfr_neg(t, x, MPFR_RNDN);  // exact
    mpfr_exp(t, t, MPFR_RNDN);
    mpfr_add_ui(d, t, 1, MPFR_RNDN);
    mpfr_ui_div(out, 1, d, MPFR_RNDN);
  } else {
    mpfr_exp(t, x, MPFR_RNDN);
    mpfr_add_ui(d, t, 1, MPFR_RNDN);
    mpfr_div(out, t, d, MPFR_RNDN);
  }
  return static_cast<ErrorBits>(prec) - 3;
}

/// σ(x) for −500 ≤ x < 40, x ≠ 0, without MPFR where the double-word evaluation decides
/// (theory/reference-arithmetic.md, "sigmoid by double-words"): t = e^-x from exp's series,
/// s = 1 + t, σ = 1/s by a Newton step, with a relative error bound ρ_t + 9u² + 32u².
bool sigmoid_double_word(double x, double& value) {
  if (!(x >= -500 && x < 40 && x != 0)) return false;
  DefaultFloatingPointEnvironment fp_env;  // the proofs assume binary64 to nearest, no FTZ/DAZ
  Dw p;
  int k = 0;
  double e = 0;
  if (!exp_reduced(-x, p, k, e)) return false;
  // |t̂ − e^-x| ≤ e^-x·ρ_t with ρ_t = E/0.697 (the reduced value is ≥ e^-0.36 > 0.697).
  const double rho_t = e / 0.697 * (1 + 0x1p-40);
  const Dw z = reciprocal(add({1.0, 0.0}, scale(p, k)));
  // |ẑ − σ| ≤ σ·B, B = (ρ_r + ρ_s)/(1 − ρ_s) with ρ_s = ρ_t + 9u², ρ_r = 32u² (= 2⁻¹⁰¹), and
  // σ ≤ |ẑ|/(1 − B): E = |ẑ.hi|·B·(1 + 2⁻⁴⁰) covers both and this line's roundings.
  const double b = (rho_t + 0x1p-101 + 9 * 0x1p-106) * (1 + 0x1p-40);
  if (!pins_hi(z, std::fabs(z.hi) * b * (1 + 0x1p-40))) return false;
  value = z.hi;
  return true;
}

}  // namespace detail

Certified sigmoid_rn(double x) {
  if (std::isnan(x)) return {x, 0.0};
  if (x == std::numeric_limits<double>::infinity()) return {1.0, 0.0};
  if (x == -std::numeric_limits<double>::infinity()) return {0.0, 0.0};
  if (x == 0) return {0.5, 0.0};
  // Tails decided by bounds alone (theory §6): for x ≥ 40, 0 < 1 - σ(x) < e^-40 < 2^-57, below
  // half the gap under 1 (2^-54): RN = 1. For x ≤ -746, 0 < σ(x) < e^x < 2^-1076, below half
  // the smallest subnormal: RN = +0.
  if (x >= 40) return correctly_rounded(1.0, false);
  if (x <= -746) return {0.0, std::numeric_limits<double>::denorm_min()};
  double fast = 0;
  if (detail::sigmoid_double_word(x, fast)) return correctly_rounded(fast, false);
  detail::MpfrEnvironment env;
  mpfr_ptr arg = detail::exact_arg(x);
  return detail::ziv_binary64([&](mpfr_ptr out, mpfr_prec_t prec) { return detail::sigmoid_approximation(out, arg, prec); });
}

}  // namespace fpaudit::exact
