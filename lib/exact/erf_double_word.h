// erf at a binary64 argument, correctly rounded to nearest binary64 without MPFR where a
// double-word (about 106-bit) evaluation with a proven error bound decides the rounding:
// theory/reference-arithmetic.md, "erf by a double-word series". erf_rn (elementary.h) calls it
// first and falls back to MPFR where it declines. Internal to lib/exact.
#pragma once

namespace fpaudit::exact::detail {

/// For 2^-30 ≤ |x| < 3: sets value = RN(erf(x)) and returns true when the enclosure
/// [v − E, v + E] of erf(x) (v the double-word series, E its proven error) lies strictly between
/// two rounding boundaries; false (value untouched) outside that range or when it does not.
bool erf_double_word(double x, double& value);

}  // namespace fpaudit::exact::detail
