// Approximations with proven error bounds of the functions MPFR has no single call for, for
// the Ziv loops (ziv.h) of the binary64 reference (elementary.h) and of the mpfr:BITS mode.
#pragma once

#include <mpfr.h>

#include "exact/ziv.h"

namespace fpaudit::exact::detail {

/// out ≈ 1/(1 + e^-x) at precision prec (≥ 64) with |out - σ(x)| ≤ 2^(EXP(out) - (prec - 3)).
/// x: any finite MPFR number (exact, any precision) for which e^-|x| does not underflow to
/// zero in the current exponent range (the caller checks mpfr_zero_p of the value it gets).
ErrorBits sigmoid_approximation(mpfr_ptr out, mpfr_srcptr x, mpfr_prec_t prec);
/// RN(σ(x)) without MPFR for −500 ≤ x < 40, x ≠ 0, where a double-word evaluation with a proven
/// error bound decides it (sigmoid.cpp); false (value untouched) where it declines.
bool sigmoid_double_word(double x, double& value);

/// out ≈ x·Φ(x) at precision prec (≥ 64), error as returned (kNoBound when prec is too low
/// for the analysis at this x). x: finite, nonzero, and erfc(|x|/√2) not underflowing in the
/// current exponent range (the caller checks).
ErrorBits gelu_approximation(mpfr_ptr out, mpfr_srcptr x, mpfr_prec_t prec);

}  // namespace fpaudit::exact::detail
