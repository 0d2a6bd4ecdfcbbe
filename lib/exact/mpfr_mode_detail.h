// Shared pieces of the mpfr:BITS implementation: raw MPFR access to Boost's values, values of
// an exact precision, and the half-ulp bound of a correctly rounded result.
#pragma once

#include <mpfr.h>

#include "exact/mpfr_mode.h"

namespace fpaudit::exact::mp::detail {

inline mpfr_ptr raw(Real& r) { return r.backend().data(); }
inline mpfr_srcptr raw(const Real& r) { return r.backend().data(); }

/// A value (NaN) of exactly bits bits. Boost creates it at its default precision, which is
/// read (never written) here; mpfr_set_prec then gives it the precision asked for.
inline Real with_precision(long bits) {
  Real r;
  mpfr_set_prec(raw(r), bits);
  return r;
}

/// The bound of v as the correct rounding to nearest, at v's precision, of a value whose
/// rounding had ternary value ternary: 0 when exact, else 2^(EXP(v) - prec - 1); +Inf when v
/// is infinite after a rounding (overflow) or zero after one (underflow).
inline Real rounding_bound(const Real& v, int ternary) {
  Real b = with_precision(64);
  if (ternary == 0) mpfr_set_zero(raw(b), 1);
  else if (!mpfr_regular_p(raw(v))) mpfr_set_inf(raw(b), 1);
  else mpfr_set_ui_2exp(raw(b), 1, mpfr_get_exp(raw(v)) - mpfr_get_prec(raw(v)) - 1, MPFR_RNDU);
  return b;
}

}  // namespace fpaudit::exact::mp::detail
