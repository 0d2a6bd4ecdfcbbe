// bfloat16 arithmetic on values held in binary32, host and device (FPAUDIT_HD): the arithmetic
// of fpaudit's bf16 chains. bfloat16 is the top half of binary32, so rounding a binary32 value
// to bfloat16 is an integer rounding of its bit pattern; the exact results of + and fma are
// formed as binary32 pairs (TwoSum) and rounded to odd first, as in binary16.h.
#pragma once

#include <cmath>
#include <cstdint>

#include "common/hd.h"
#include "format/binary16.h"

namespace fpaudit::bf16 {

/// binary32 → bfloat16 (as a binary32 value), round to nearest even; NaN stays NaN, overflow
/// gives ±Inf. Works across subnormals: bfloat16 subnormals are binary32 subnormals.
FPAUDIT_HD inline float round_f(float x) {
  const std::uint32_t u = float_bits(x);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return bits_float(u | 0x00400000u);  // quiet NaN
  const std::uint32_t rounded = (u + 0x7FFFu + ((u >> 16) & 1u)) & 0xFFFF0000u;
  return bits_float(rounded);
}

/// A binary64 value rounded to odd at 53 bits, rounded to odd at binary32 precision: the
/// composition of odd roundings is the odd rounding at the narrower precision.
FPAUDIT_HD inline float double_to_float_odd(double d) {
  float f = static_cast<float>(d);
  if (static_cast<double>(f) == d || !(f - f == 0.0f)) return f;
  std::uint32_t b = float_bits(f);
  if (std::fabs(static_cast<double>(f)) > std::fabs(d)) b -= 1;  // truncate toward zero
  return bits_float(b | 1u);
}

/// a × b + c rounded once to bfloat16, for bfloat16 a, b, c.
FPAUDIT_HD inline float fma_f(float a, float b, float c) {
  const float p = a * b;
  if (std::fabs(p) >= 1.1754943508222875e-38f || p == 0.0f) {  // product exact in binary32
    const float s = p + c;
    if (!(s - s == 0.0f)) return round_f(s);
    return round_f(b16::round_to_odd24(s, b16::two_sum_err(p, c, s)));
  }
  // The product fell into binary32's subnormal range, where it may be inexact: form it in
  // binary64 (exact), add c with TwoSum, and round to odd on the way down.
  const double pd = static_cast<double>(a) * static_cast<double>(b);
  return round_f(double_to_float_odd(sum_to_odd53(pd, static_cast<double>(c))));
}

/// a + b rounded once to bfloat16.
FPAUDIT_HD inline float add_f(float a, float b) {
  const float s = a + b;
  if (!(s - s == 0.0f)) return round_f(s);
  return round_f(b16::round_to_odd24(s, b16::two_sum_err(a, b, s)));
}

}  // namespace fpaudit::bf16
