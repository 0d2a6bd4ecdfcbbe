// exp at a binary64 argument, correctly rounded to nearest binary64 without MPFR where a
// double-word evaluation with a proven error bound decides the rounding: theory/
// reference-arithmetic.md, "exp by a double-word series". exp_rn (elementary.h) calls it first
// and falls back to MPFR where it declines. Internal to lib/exact.
#pragma once

#include "exact/double_word.h"

namespace fpaudit::exact::detail {

/// For 0 < |x| ≤ 700: exp(x) = 2^k·z with |z − (p.hi + p.lo)| ≤ error and z ≥ e^-0.36 (the
/// series before its rounding test, for functions built on exp). false where it declines.
bool exp_reduced(double x, Dw& p, int& k, double& error);

/// For 0 < |x| ≤ 700: sets value = RN(exp(x)) and returns true when the enclosure of exp(x)
/// pins it; false (value untouched) otherwise.
bool exp_double_word(double x, double& value);

/// For 2^-30 ≤ |x| ≤ 19: RN(tanh(x)) as m/(m + 2), m = expm1(2|x|), decided as exp's value is
/// (theory/reference-arithmetic.md, "tanh by double-words"); false where it declines.
bool tanh_double_word(double x, double& value);

}  // namespace fpaudit::exact::detail
