// Double-word ("double-double") arithmetic with proven error bounds, for the reference's fast
// paths (erf_double_word.cpp, exp_double_word.cpp, sigmoid.cpp): a value is a pair hi + lo of binary64
// numbers with |lo| ≤ ulp(hi)/2. The sum and product are Joldes, Muller and Popescu's (ACM TOMS
// 44(2), 2017): Algorithm 6 (AccurateDWPlusDW), relative error ≤ 3u² + 13u³, and Algorithm 12
// (DWTimesDW3, with FMA), relative error ≤ 4u², u = 2⁻⁵³, both for inputs and results away from
// the subnormal range. The callers charge each 8u² (theory/reference-arithmetic.md). The file
// is compiled with -ffp-contract=off: no operation is fused except the fma written here.
// Internal to lib/exact.
#pragma once

#include <cmath>

#include <mpfr.h>

namespace fpaudit::exact::detail {

struct Dw {
  double hi = 0, lo = 0;
};

/// |a| ≥ |b| or a = 0: s + t = a + b exactly.
inline Dw fast_two_sum(double a, double b) {
  const double s = a + b;
  const double z = s - a;
  return {s, b - z};
}
inline Dw two_sum(double a, double b) {
  const double s = a + b;
  const double ap = s - b;
  const double bp = s - ap;
  return {s, (a - ap) + (b - bp)};
}
/// a·b = p + e exactly (no underflow).
inline Dw two_prod(double a, double b) {
  const double p = a * b;
  return {p, std::fma(a, b, -p)};
}
/// Joldes–Muller–Popescu Algorithm 6 (AccurateDWPlusDW).
inline Dw add(Dw x, Dw y) {
  const Dw s = two_sum(x.hi, y.hi);
  const Dw t = two_sum(x.lo, y.lo);
  const Dw v = fast_two_sum(s.hi, s.lo + t.hi);
  return fast_two_sum(v.hi, t.lo + v.lo);
}
/// Joldes–Muller–Popescu Algorithm 12 (DWTimesDW3, with FMA).
inline Dw mul(Dw x, Dw y) {
  const Dw c = two_prod(x.hi, y.hi);
  const double tl0 = x.lo * y.lo;
  const double tl1 = std::fma(x.hi, y.lo, tl0);
  const double cl2 = std::fma(x.lo, y.hi, tl1);
  return fast_two_sum(c.hi, c.lo + cl2);
}
inline Dw neg(Dw x) { return {-x.hi, -x.lo}; }
/// 2^k·x, exact when both parts stay normal.
inline Dw scale(Dw x, int k) { return {std::ldexp(x.hi, k), std::ldexp(x.lo, k)}; }
/// 1/s by one Newton step from q0 = RN(1/s.hi): q0 + q0·(1 − s·q0) in double-word operations.
/// Relative error ≤ 20.5u² (theory/reference-arithmetic.md, "sigmoid"), for s.hi ≥ 1 and
/// 1/s far from the subnormal range.
inline Dw reciprocal(Dw s) {
  const double q0 = 1.0 / s.hi;
  const Dw e = add({1.0, 0.0}, neg(mul(s, {q0, 0.0})));
  return add({q0, 0.0}, mul({q0, 0.0}, e));
}

/// hi = RN(v), lo = RN(v − hi) of an MPFR value of at least 106 bits: within 2⁻¹⁰⁵·|v| of v.
/// `scratch` must have v's precision or more.
inline Dw to_dw(mpfr_srcptr v, mpfr_ptr scratch) {
  const double hi = mpfr_get_d(v, MPFR_RNDN);
  mpfr_sub_d(scratch, v, hi, MPFR_RNDN);  // exact: |v − hi| ≤ ulp(hi)/2 fits v's precision
  return {hi, mpfr_get_d(scratch, MPFR_RNDN)};
}

/// a = γ_n(8u²)·(1 + 2⁻¹⁰⁴) + 2⁻¹⁰⁴ rounded upward: the relative error of Horner's rule with
/// n double-word operations (each within 8u²) on coefficients rounded to double-words (within
/// 2⁻¹⁰⁵), to be multiplied by Σ|c_k||y|^k. `scratch` is clobbered.
inline void horner_error_factor(mpfr_ptr a, mpfr_ptr scratch, long operations) {
  mpfr_set_ui(a, static_cast<unsigned long>(8 * operations), MPFR_RNDU);
  mpfr_mul_2si(a, a, -106, MPFR_RNDU);  // n·8u²
  mpfr_ui_sub(scratch, 1, a, MPFR_RNDD);
  mpfr_div(a, a, scratch, MPFR_RNDU);   // γ_n(8u²)
  mpfr_set_ui_2exp(scratch, 1, -104, MPFR_RNDU);
  mpfr_add_ui(scratch, scratch, 1, MPFR_RNDU);
  mpfr_mul(a, a, scratch, MPFR_RNDU);
  mpfr_set_ui_2exp(scratch, 1, -104, MPFR_RNDU);
  mpfr_add(a, a, scratch, MPFR_RNDU);
}

/// a += x^power / (factorial!·divisor), each step rounded upward: a series' remainder term in an
/// error bound. b and c are clobbered.
inline void add_power_over_factorial(mpfr_ptr a, mpfr_ptr b, mpfr_ptr c, double x, unsigned long power,
                                     unsigned long factorial, unsigned long divisor = 1) {
  mpfr_set_d(b, x, MPFR_RNDU);
  mpfr_pow_ui(b, b, power, MPFR_RNDU);
  mpfr_fac_ui(c, factorial, MPFR_RNDD);
  mpfr_mul_ui(c, c, divisor, MPFR_RNDD);
  mpfr_div(b, b, c, MPFR_RNDU);
  mpfr_add(a, a, b, MPFR_RNDU);
}

/// a ·= e^x, rounded upward (a bound's factor). b is clobbered.
inline void multiply_by_exp(mpfr_ptr a, mpfr_ptr b, double x) {
  mpfr_set_d(b, x, MPFR_RNDU);
  mpfr_exp(b, b, MPFR_RNDU);
  mpfr_mul(a, a, b, MPFR_RNDU);
}

/// RN(z) = v.hi for every z with |z − (v.hi + v.lo)| ≤ e (v.hi > 0, e ≥ 0): true when z's
/// offset from v.hi, between v.lo − e and v.lo + e, stays below half the gap to the neighbour on
/// each side (the gaps differ at a power of two). The factor 1 − 2⁻⁴⁰ covers the rounding of
/// the sums v.lo ± e; a sum that rounds to zero or below is exactly that.
inline bool pins_hi(Dw v, double e) {
  const double h = v.hi;
  if (!(h > 0 && e >= 0)) return false;
  const double gap_up = std::nextafter(h, 2.0 * h) - h, gap_down = h - std::nextafter(h, 0.0);
  constexpr double kRoom = 1 - 0x1p-40;
  return v.lo + e < 0.5 * gap_up * kRoom && e - v.lo < 0.5 * gap_down * kRoom;
}

}  // namespace fpaudit::exact::detail
