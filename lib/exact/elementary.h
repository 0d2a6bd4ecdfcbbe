// The elementary functions networks use, for the reference chain: each returns the exact
// function value at a binary64 argument correctly rounded to nearest binary64 (ties to even,
// subnormals, overflow to ±Inf), with its certified error bound (certified.h): 0 when the
// value is exact, half an ulp otherwise.
//
// How (cost per call measured on the development machine, AMD EPYC Zen 4, shared; README):
//   sqrt, div               IEEE 754 hardware operations, correctly rounded by definition
//   pow(x, 0|±1|2|±0.5)       (20-60 ns with the exactness certificate), through PowConstant
//   exp (0 < |x| ≤ 700),    a double-word series with a proven error bound, accepted when it
//   erf (2^-30 ≤ |x| < 3),    pins the binary64 result (exp_double_word.cpp, erf_double_word.cpp,
//   sigmoid (−500 ≤ x < 40),  sigmoid.cpp): erf 0.76, exp 0.41, sigmoid 0.46, tanh 0.50 µs
//   tanh (2^-30 ≤ |x| ≤ 19)   (MPFR: 5.2, 0.97, 1.2, 1.3 µs); MPFR below where it declines
//   log, rsqrt, and exp,    one MPFR call at 64 bits toward zero, then round-to-odd and one
//   erf, tanh elsewhere, pow  rounding to binary64 (mpfr_support.h): rsqrt 0.2 µs, exp, log,
//                             tanh 1-3 µs, pow ~5 µs, erf 2-17 µs
//   erf (|x| ≥ 3), gelu     enclosure by Laplace's continued fraction
//     (|x| ≥ 4)               (erfc_continued_fraction.h): 3-15 µs
//   sigmoid elsewhere,      Ziv loop (ziv.h) over a proven error bound of an MPFR evaluation:
//     gelu (|x| < 4)          sigmoid 1-2 µs, gelu 2-25 µs
//   tails                   decided by bounds: sigmoid (x ≥ 40, x ≤ -746), gelu (x ≥ 9,
//                             x ≤ -40): ~ns
// Names end in _rn so that a using-directive never makes std::exp(double) ambiguous.
// Thread-safe (per-thread MPFR scratch); the caller's MPFR exponent range and flags are kept.
#pragma once

#include "exact/certified.h"

namespace fpaudit::exact {

Certified exp_rn(double x);
Certified log_rn(double x);
Certified tanh_rn(double x);
/// 1 / (1 + e^-x).
Certified sigmoid_rn(double x);
Certified erf_rn(double x);
/// GELU with the exact normal CDF, x·Φ(x) = (x/2)(1 + erf(x/√2)), as one function (not the
/// composition of rounded steps). gelu(-Inf) is the limit, -0.
Certified gelu_rn(double x);
Certified sqrt_rn(double x);
/// 1/√x as one correctly rounded function.
Certified rsqrt_rn(double x);
/// a / b.
Certified div_rn(double a, double b);
/// x^c with C99/IEEE 754 special cases (pow(x, ±0) = 1, pow(-Inf, 0.5) = +Inf, ...).
Certified pow_rn(double x, double c);

/// x^c for a constant exponent c (a layer's attribute): the strategy is chosen once. The
/// exponents 0, ±1, 2 and ±0.5 use exact or IEEE-correctly-rounded hardware operations;
/// others call MPFR.
class PowConstant {
 public:
  explicit PowConstant(double c);
  Certified operator()(double x) const;
  double exponent() const { return c_; }

 private:
  enum class Kind { One, Identity, Square, Reciprocal, Sqrt, Rsqrt, General };
  double c_;
  Kind kind_;
};

}  // namespace fpaudit::exact
