// exp at a binary64 argument, correctly rounded to nearest binary64 without MPFR where a
// double-word evaluation with a proven error bound decides the rounding: theory/
// reference-arithmetic.md, "exp by a double-word series". exp_rn (elementary.h) calls it first
// and falls back to MPFR where it declines. Internal to lib/exact.
#pragma once

namespace fpaudit::exact::detail {

/// For 0 < |x| ≤ 700: sets value = RN(exp(x)) and returns true when the enclosure of exp(x)
/// pins it; false (value untouched) otherwise.
bool exp_double_word(double x, double& value);

}  // namespace fpaudit::exact::detail
