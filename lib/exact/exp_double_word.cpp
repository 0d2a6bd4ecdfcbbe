// exp(x) = 2^k·exp(r), r = x − k·ln 2, with exp(r) by its Taylor series on double-words and a
// proven error bound (theory/reference-arithmetic.md, "exp by a double-word series"; tanh,
// built on it, at the end of this file, "tanh by double-words"):
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
#include "exact/fp_environment.h"
#include "exact/mpfr_support.h"

namespace fpaudit::exact::detail {

namespace {

constexpr int kTerms = 24;       // P_N with N = kTerms
constexpr double kMaxR = 0.36;   // |r̂| ≤ kMaxR, checked per call (ln 2 / 2 < 0.3466)

struct Constants {
  Dw inv_factorial[kTerms + 1];
  Dw ln2;
  double error;  ///< bound on |p̂ − exp(x − k ln 2)|, p̂ the double-word series
  /// Bound on |Q̂ − Q(a)| for 0 < a ≤ kMaxR, Q(a) = expm1(a)/a = Σ aⁿ/(n+1)! ≥ 1 (tanh_double_word).
  double expm1_error;
};

Constants make_constants() {
  MpfrEnvironment env;  // the caller's MPFR exponent range and flags come back unchanged
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
  horner_error_factor(a, b, 2L * kTerms);
  add_power_over_factorial(a, b, c, kMaxR, kTerms + 1, kTerms + 1);  // 0.36^(N+1)/(N+1)!
  mpfr_set_ui_2exp(b, 1, -94, MPFR_RNDU);
  mpfr_expm1(b, b, MPFR_RNDU);          // e^δ − 1
  mpfr_add(a, a, b, MPFR_RNDU);
  multiply_by_exp(a, b, kMaxR);
  k.error = mpfr_get_d(a, MPFR_RNDU);
  // Q_M(a) = Σ_{n<M} aⁿ/(n+1)!, M = kTerms, by Horner (2(M − 1) operations, charged 2M):
  // e^0.36·(γ_{2M}(8u²)(1 + 2⁻¹⁰⁴) + 2⁻¹⁰⁴ + 0.36^M/(M+1)!), the last Lagrange's remainder.
  horner_error_factor(a, b, 2L * kTerms);
  add_power_over_factorial(a, b, c, kMaxR, kTerms, kTerms + 1);
  multiply_by_exp(a, b, kMaxR);
  k.expm1_error = mpfr_get_d(a, MPFR_RNDU);
  mpfr_clears(a, b, c, static_cast<mpfr_ptr>(nullptr));
  return k;
}

const Constants& constants() {
  static const Constants k = make_constants();
  return k;
}

}  // namespace

/// (Its callers hold the default floating-point environment.)
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
  DefaultFloatingPointEnvironment fp_env;  // the proofs assume binary64 to nearest, no FTZ/DAZ
  // exp(0) = 1 is exact: exp_reduced declines it, and MPFR says so.
  Dw p;
  int k = 0;
  double e = 0;
  // exp(x − k ln 2) ∈ [p̂ − E, p̂ + E]; p̂ ≥ e^-0.36 − E > 0.69.
  if (!exp_reduced(x, p, k, e) || !pins_hi(p, e)) return false;
  value = std::ldexp(p.hi, k);  // exact: the result is a normal number
  return true;
}

bool tanh_double_word(double x, double& value) {
  const double ax = std::fabs(x);
  if (!(ax >= 0x1p-30 && ax <= 19)) return false;
  DefaultFloatingPointEnvironment fp_env;  // the proofs assume binary64 to nearest, no FTZ/DAZ
  const Constants& c = constants();
  // tanh|x| = m/(m + 2), m = expm1(a), a = 2|x| (exact). ρ_m bounds |m̂ − m|/m.
  const double a = 2 * ax;
  Dw m;
  double rho_m = 0;
  if (a <= kMaxR) {
    // m = a·Q(a), Q by Horner; Q ≥ 1, so E_Q is relative; the product by a adds 8u².
    Dw q = c.inv_factorial[kTerms];
    for (int n = kTerms - 2; n >= 0; --n) q = add(mul(q, {a, 0.0}), c.inv_factorial[n + 1]);
    m = mul(q, {a, 0.0});
    rho_m = (c.expm1_error + 9 * 0x1p-106) * (1 + 0x1p-40);
  } else {
    // m = 2^k·p̂ − 1: |2^k p̂ − e^a| ≤ e^a·E/0.697, the sum adds 8u², and e^a/m ≤ 3.39 for
    // a > 0.36 (e^0.36/expm1(0.36) < 3.30).
    Dw p;
    int k = 0;
    double e = 0;
    if (!exp_reduced(a, p, k, e)) return false;
    m = add(scale(p, k), {-1.0, 0.0});
    rho_m = (3.39 * (e / 0.697) + 9 * 0x1p-106) * (1 + 0x1p-40);
  }
  // ẑ = m̂·(1/(m̂ + 2)): the sum 8u² (and m̂'s error, at most ρ_m of m + 2), the reciprocal
  // 32u², the product 8u²: |ẑ/tanh|x| − 1| ≤ B = (2ρ_m + 49u²)(1 + 2⁻⁴⁰), the factor covering the
  // second-order terms; E = |ẑ.hi|·B·(1 + 2⁻⁴⁰) as for the sigmoid.
  const Dw z = mul(m, reciprocal(add(m, {2.0, 0.0})));
  const double b = (2 * rho_m + 49 * 0x1p-106) * (1 + 0x1p-40);
  if (!pins_hi(z, std::fabs(z.hi) * b * (1 + 0x1p-40))) return false;
  value = x < 0 ? -z.hi : z.hi;
  return true;
}

}  // namespace fpaudit::exact::detail
