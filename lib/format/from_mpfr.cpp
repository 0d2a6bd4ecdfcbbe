#include "format/from_mpfr.h"

#include <limits>

namespace fpaudit {

Rounded round_mpfr(const Format& f, mpfr_srcptr x, Round mode, std::uint64_t random_bits) {
  if (mpfr_nan_p(x)) return round_exact(f, std::numeric_limits<double>::quiet_NaN(), 0, mode);
  if (mpfr_inf_p(x) || mpfr_zero_p(x)) return round_exact(f, mpfr_get_d(x, MPFR_RNDN), 0, mode);
  double t = mpfr_get_d(x, MPFR_RNDZ);  // truncated to binary64
  if (mpfr_cmp_d(x, t) != 0) {
    // Inexact: set the sticky bit. A value below binary64's range truncates to zero; its odd
    // rounding is then the smallest subnormal, far below half a spacing of every format.
    if (t == 0) t = mpfr_signbit(x) ? -std::numeric_limits<double>::denorm_min()
                                    : std::numeric_limits<double>::denorm_min();
    else t = round_to_odd53(t, mpfr_signbit(x) ? -1.0 : 1.0);  // same sign as t: sets the last bit
  }
  return round_exact(f, t, 0, mode, random_bits);
}

}  // namespace fpaudit
