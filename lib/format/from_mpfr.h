// Conversion of an MPFR number (any precision) into a format, correctly rounded once.
#pragma once

#include <mpfr.h>

#include "format/round.h"

namespace fpaudit {

/// Rounds the MPFR value x into f: x is first rounded to odd at 53 bits (truncation plus a
/// sticky last bit, computed exactly by MPFR), which preserves every rounding to p ≤ 51 bits.
Rounded round_mpfr(const Format& f, mpfr_srcptr x, Round mode = Round::NearestEven, std::uint64_t random_bits = 0);

}  // namespace fpaudit
