// Fast rigorous enclosures of the normal and error-function tails, from Laplace's continued
// fraction (Abramowitz & Stegun 7.1.14 and 26.2.14):
//     K_q(t) = 1/(t + q/(t + 2q/(t + 3q/(t + ...)))),
//     erfc(a)   = e^{-a²}/√π · K_{1/2}(a),        1 - Φ(t) = φ(t) · K_1(t),   t, a > 0.
// All partial numerators and denominators are positive, so the convergents alternate around
// the value: odd ones above, even ones below (theory/reference-arithmetic.md §6). One
// convergent of each parity, each evaluated with the rounding directions that push it outward,
// encloses K_q without any truncation-error estimate. For arguments ≥ 3 a few dozen terms give
// 2^-88: microseconds where MPFR's erfc takes 10-400 µs.
#pragma once

#include <mpfr.h>

namespace fpaudit::exact::detail {

/// lo ≤ erfc(a) ≤ hi for a binary64 a ≥ 1, relative width about 2^-88 (precision of lo, hi:
/// 120 bits). False if the enclosure stayed wider than 2^-84 (then use MPFR's erfc).
bool erfc_enclosure(double a, mpfr_ptr lo, mpfr_ptr hi);

/// lo ≤ 1 - Φ(t) ≤ hi for a binary64 t ≥ 1 (Φ the standard normal CDF), as erfc_enclosure.
bool normal_tail_enclosure(double t, mpfr_ptr lo, mpfr_ptr hi);

}  // namespace fpaudit::exact::detail
