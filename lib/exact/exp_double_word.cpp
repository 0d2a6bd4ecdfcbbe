// exp(x) = 2^k·exp(r), r = x − k·ln 2, with exp(r) by its Taylor series on double-words and a
// proven error bound (theory/reference-arithmetic.md, "exp by a double-word series"):
//   reduction   r̂ = x − k·L̂ as a double-word, L̂ = ln 2 to 2⁻¹⁰⁵ relative, |k| ≤ 1011:
//               |r̂ − (x − k ln 2)| ≤ δ = 2⁻⁹⁴, and |r̂| ≤ 0.36 is checked;
//   series      P_N(r̂) = Σ_{n≤N} r̂ⁿ/n!, N = 24, by Horner (each operation charged 8u²):
//               |p̂ − P_N(r̂)| ≤ (γ_{2N}(8u²)(1 + 2⁻¹⁰⁴) + 2⁻¹⁰⁴)·e^0.36,
//               |exp(r̂) − P_N(r̂)| ≤ 0.36^(N+1)/(N+1)!·e^0.36 (Lagrange),
//               |exp(x − k ln 2) − exp(r̂)| ≤ e^0.36·(e^δ − 1);
//   rounding    RN(2^k·z) = 2^k·RN(z) for results in the normal range (|x| ≤ 700), so the
//               decision is taken on exp(r) and the result scaled exactly.
#include "exact/exp_double_word.h"

#include <cmath>

#include <mpfr.h>

#include "exact/double_word.h"

namespace fpaudit::exact::detail {

namespace {

constexpr int kTerms = 24;       // P_N with N = kTerms
constexpr double kMaxR = 0.36;   // |r̂| ≤ kMaxR, checked per call (ln 2 / 2 < 0.3466)

struct Constants {
  Dw inv_factorial[kTerms + 1];
  Dw ln2;
  double error;  ///< bound on |p̂ − exp(x − k ln 2)|, p̂ the double-word series
};

Constants make_constants() {
  Constants k{};
  mpfr_t a, b, c;
  mpfr_inits2(256, a, b, c, static_cast<mpfr_ptr>(nullptr));
  mpfr_set_ui(c, 1, MPFR_RNDN);  // n!, exact at 256 bits for n ≤ 24
  for (int n = 0; n <= kTerms; ++n) {
    if (n > 0) mpfr_mul_ui(c, c, static_cast<unsigned long>(n), MPFR_RNDN);
    mpfr_ui_div(a, 1, c, MPFR_RNDN);
    k.inv_factorial[n] = to_dw(a, b);
  }
  mpfr_const_log2(a, MPFR_RNDN);
  k.ln2 = to_dw(a, b);
  // e^0.36·(γ_{2N}(8u²)(1 + 2⁻¹⁰⁴) + 2⁻¹⁰⁴ + 0.36^(N+1)/(N+1)! + (e^δ − 1)), every step upward.
  mpfr_set_ui(a, 16UL * kTerms, MPFR_RNDU);
  mpfr_mul_2si(a, a, -106, MPFR_RNDU);  // 2N·8u²
  mpfr_ui_sub(b, 1, a, MPFR_RNDD);
  mpfr_div(a, a, b, MPFR_RNDU);         // γ_{2N}(8u²)
  mpfr_set_ui_2exp(b, 1, -104, MPFR_RNDU);
  mpfr_add_ui(b, b, 1, MPFR_RNDU);
  mpfr_mul(a, a, b, MPFR_RNDU);
  mpfr_set_ui_2exp(b, 1, -104, MPFR_RNDU);
  mpfr_add(a, a, b, MPFR_RNDU);
  mpfr_set_d(b, kMaxR, MPFR_RNDU);
  mpfr_pow_ui(b, b, kTerms + 1, MPFR_RNDU);
  mpfr_fac_ui(c, kTerms + 1, MPFR_RNDD);
  mpfr_div(b, b, c, MPFR_RNDU);         // 0.36^(N+1)/(N+1)!
  mpfr_add(a, a, b, MPFR_RNDU);
  mpfr_set_ui_2exp(b, 1, -94, MPFR_RNDU);
  mpfr_expm1(b, b, MPFR_RNDU);          // e^δ − 1
  mpfr_add(a, a, b, MPFR_RNDU);
  mpfr_set_d(b, kMaxR, MPFR_RNDU);
  mpfr_exp(b, b, MPFR_RNDU);
  mpfr_mul(a, a, b, MPFR_RNDU);
  k.error = mpfr_get_d(a, MPFR_RNDU);
  mpfr_clears(a, b, c, static_cast<mpfr_ptr>(nullptr));
  return k;
}

const Constants& constants() {
  static const Constants k = make_constants();
  return k;
}

}  // namespace

bool exp_reduced(double x, Dw& p, int& k, double& error) {
  if (!(x != 0 && std::fabs(x) <= 700)) return false;
  const Constants& c = constants();
  // Any integer k gives an exact identity; this one makes |r| ≤ ln 2 / 2 (+ rounding).
  const double kd = std::nearbyint(x * 1.4426950408889634);
  // r̂ = x − k·L̂: k·L̂.hi exactly (TwoProd), k·L̂.lo rounded once (within 2⁻⁵³·|k·L̂.lo|).
  const Dw k_hi = two_prod(kd, c.ln2.hi);
  const Dw r = add(add({x, 0.0}, neg(k_hi)), {-(kd * c.ln2.lo), 0.0});
  if (!(std::fabs(r.hi) <= kMaxR * (1 - 0x1p-50))) return false;  // then |r̂.hi + r̂.lo| < kMaxR
  p = c.inv_factorial[kTerms];
  for (int n = kTerms - 1; n >= 0; --n) p = add(mul(p, r), c.inv_factorial[n]);
  k = static_cast<int>(kd);
  error = c.error;
  return true;
}

bool exp_double_word(double x, double& value) {
  // exp(0) = 1 is exact: exp_reduced declines it, and MPFR says so.
  Dw p;
  int k = 0;
  double e = 0;
  // exp(x − k ln 2) ∈ [p̂ − E, p̂ + E]; p̂ ≥ e^-0.36 − E > 0.69.
  if (!exp_reduced(x, p, k, e) || !pins_hi(p, e)) return false;
  value = std::ldexp(p.hi, k);  // exact: the result is a normal number
  return true;
}

}  // namespace fpaudit::exact::detail
