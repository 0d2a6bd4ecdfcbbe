// Rounding a binary64 value, or an exact sum held as a binary64 pair, once into binary16 or
// binary32, host and device (FPAUDIT_HD). The GPU kernels use these where the chains round a
// binary64 value (an elementwise function, a quotient, a fused multiply-add into storage).
//
// The trick is the one binary16.h uses: round to odd at a wider precision first, then to
// nearest at the target; rounding to odd at q ≥ p + 2 bits and then to nearest at p bits
// equals rounding to nearest at p bits directly (Boldo & Melquiond 2008), and odd roundings
// compose (odd at 53 then odd at 24 is odd at 24). A plain double → float → binary16 chain of
// nearest roundings would not be correct: it can round twice across a midpoint.
#pragma once

#include <cstdint>
#include <cstring>

#include "common/hd.h"
#include "format/bfloat16.h"
#include "format/binary16.h"

namespace fpaudit::b16 {

/// A binary64 value rounded once to nearest binary16 (ties to even; overflow to ±Inf).
FPAUDIT_HD inline std::uint16_t from_double(double d) { return from_float(bf16::double_to_float_odd(d)); }

/// a + b (binary64) rounded once to nearest binary16, through TwoSum and rounding to odd.
FPAUDIT_HD inline std::uint16_t sum_from_double(double a, double b) {
  const double s = a + b;
  if (!(s - s == 0.0)) return from_double(s);  // Inf or NaN
  return from_double(sum_to_odd53(a, b));
}

}  // namespace fpaudit::b16

namespace fpaudit {
/// a + b (binary64) rounded once to nearest binary32.
FPAUDIT_HD inline float binary32_sum_from_double(double a, double b) {
  const double s = a + b;
  if (!(s - s == 0.0)) return static_cast<float>(s);
  return static_cast<float>(sum_to_odd53(a, b));  // 53 ≥ 24 + 2: one rounding in effect
}
}  // namespace fpaudit
