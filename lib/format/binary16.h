// binary16 arithmetic on raw bit patterns, in binary32 operations only, compiled for host and
// device (FPAUDIT_HD): this is the arithmetic of fpaudit's fp16 chains and of its CUDA kernels.
//
// Every operation rounds once. The exact result is formed in binary32 as s + err (TwoSum, or a
// product, quotient or root residual from fmaf); s is then rounded to odd at 24 bits and that
// rounded to nearest at 11 bits, which equals rounding the exact result directly because
// 24 ≥ 11 + 2 (Boldo & Melquiond). Products of two binary16 values are exact in binary32
// (22 bits, exponents -48..31), so no step here ever underflows or overflows binary32.
#pragma once

#include <cmath>
#include <cstdint>

#include "common/hd.h"

namespace fpaudit::b16 {

constexpr std::uint16_t kPosInf = 0x7C00;
constexpr std::uint16_t kQuietNaN = 0x7E00;
constexpr std::uint16_t kMaxFinite = 0x7BFF;  // 65504

/// Exact conversion of a binary16 pattern to binary32.
FPAUDIT_HD inline float to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000) << 16;
  const std::uint32_t e = (h >> 10) & 0x1F;
  const std::uint32_t m = h & 0x3FF;
  if (e == 0x1F) return bits_float(sign | 0x7F800000u | (m << 13) | (m ? 0x400000u : 0u));
  if (e != 0) return bits_float(sign | ((e + 112) << 23) | (m << 13));
  // Subnormal (or zero): m × 2^-24, exact in binary32.
  const float mag = static_cast<float>(m) * 5.9604644775390625e-08f;
  return sign ? -mag : mag;
}

/// binary32 → binary16, round to nearest even; overflow gives ±Inf, NaN the quiet NaN.
FPAUDIT_HD inline std::uint16_t from_float(float x) {
  const std::uint32_t u = float_bits(x);
  const auto sign = static_cast<std::uint16_t>((u >> 16) & 0x8000);
  const std::uint32_t a = u & 0x7FFFFFFFu;
  if (a >= 0x7F800000u) return sign | (a > 0x7F800000u ? kQuietNaN : kPosInf);
  if (a >= 0x477FF000u) return sign | kPosInf;  // ≥ 65520: halfway to 2^16 ties to even = Inf
  if (a < 0x38800000u) {                        // below 2^-14: a subnormal result (or zero)
    if (a <= 0x33000000u) return sign;          // ≤ 2^-25: rounds to zero (the tie goes to even 0)
    const std::uint32_t mant = (a & 0x7FFFFFu) | 0x800000u;
    const std::uint32_t shift = 126 - (a >> 23);  // value = mant × 2^-24 / 2^shift
    const std::uint32_t kept = mant >> shift;
    const std::uint32_t rem = mant & ((1u << shift) - 1);
    const std::uint32_t half = 1u << (shift - 1);
    return sign | static_cast<std::uint16_t>(kept + ((rem > half || (rem == half && (kept & 1))) ? 1 : 0));
  }
  std::uint32_t h = (a >> 13) - (112u << 10);  // rebias the exponent, keep 10 fraction bits
  const std::uint32_t rem = a & 0x1FFFu;
  h += (rem > 0x1000u || (rem == 0x1000u && (h & 1))) ? 1 : 0;  // a carry moves into the exponent
  return sign | static_cast<std::uint16_t>(h);
}

/// s + err (the exact value, |err| ≤ ulp32(s)/2) rounded to odd at 24 bits.
FPAUDIT_HD inline float round_to_odd24(float s, float err) {
  if (err == 0.0f) return s;
  std::uint32_t b = float_bits(s);
  if ((err < 0.0f) != (s < 0.0f)) b -= 1;  // the exact magnitude is below |s|: truncate
  return bits_float(b | 1u);
}

/// An exact value s + err rounded once to binary16 (s finite, err its exact residual).
FPAUDIT_HD inline std::uint16_t round_pair(float s, float err) { return from_float(round_to_odd24(s, err)); }

/// a + b exactly as s + err (TwoSum in binary32).
FPAUDIT_HD inline float two_sum_err(float a, float b, float s) {
  const float bb = s - a;
  return (a - (s - bb)) + (b - bb);
}

FPAUDIT_HD inline std::uint16_t add(std::uint16_t a, std::uint16_t b) {
  const float fa = to_float(a), fb = to_float(b);
  const float s = fa + fb;
  if (!(s - s == 0.0f)) return from_float(s);  // Inf or NaN
  return round_pair(s, two_sum_err(fa, fb, s));
}
FPAUDIT_HD inline std::uint16_t sub(std::uint16_t a, std::uint16_t b) {
  return add(a, static_cast<std::uint16_t>(b ^ 0x8000));
}
FPAUDIT_HD inline std::uint16_t mul(std::uint16_t a, std::uint16_t b) {
  return from_float(to_float(a) * to_float(b));  // the binary32 product is exact
}
/// a × b + c with one rounding: the fp16 chain's multiply-add (hfma).
FPAUDIT_HD inline std::uint16_t fma(std::uint16_t a, std::uint16_t b, std::uint16_t c) {
  const float p = to_float(a) * to_float(b);  // exact
  const float fc = to_float(c);
  const float s = p + fc;
  if (!(s - s == 0.0f)) return from_float(s);
  return round_pair(s, two_sum_err(p, fc, s));
}
FPAUDIT_HD inline std::uint16_t div(std::uint16_t a, std::uint16_t b) {
  const float fa = to_float(a), fb = to_float(b);
  const float q = fa / fb;
  if (!(q - q == 0.0f) || q == 0.0f) return from_float(q);
  const float rem = std::fma(-q, fb, fa);  // fa - q·fb exactly; true quotient is q + rem/fb
  return round_pair(q, (rem == 0.0f) ? 0.0f : ((rem < 0.0f) != (fb < 0.0f) ? -1e-30f : 1e-30f));
}
FPAUDIT_HD inline std::uint16_t sqrt(std::uint16_t a) {
  const float fa = to_float(a);
  if (!(fa > 0.0f) || !(fa - fa == 0.0f)) return from_float(std::sqrt(fa));  // ±0, +Inf, NaN, < 0
  const float s = std::sqrt(fa);
  const float rem = std::fma(-s, s, fa);  // fa - s² exactly
  return round_pair(s, rem == 0.0f ? 0.0f : (rem < 0.0f ? -1e-30f : 1e-30f));
}

}  // namespace fpaudit::b16

namespace fpaudit::b16 {
// The same operations on binary16 values held in binary32 (the form the kernels keep them in).
FPAUDIT_HD inline float round_f(float x) { return to_float(from_float(x)); }
FPAUDIT_HD inline float fma_f(float a, float b, float c) {
  const float p = a * b;  // exact for binary16 a, b
  const float s = p + c;
  if (!(s - s == 0.0f)) return round_f(s);
  return round_f(round_to_odd24(s, two_sum_err(p, c, s)));
}
FPAUDIT_HD inline float add_f(float a, float b) {
  const float s = a + b;
  if (!(s - s == 0.0f)) return round_f(s);
  return round_f(round_to_odd24(s, two_sum_err(a, b, s)));
}
}  // namespace fpaudit::b16
