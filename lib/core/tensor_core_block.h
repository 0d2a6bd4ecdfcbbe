// One step of an NVIDIA tensor core's dot product, as a model (host and device, FPAUDIT_HD).
//
// Tensor cores do not accumulate like an IEEE FMA chain. Fasi, Higham, Mikaitis & Pranesh
// ("Numerical behavior of NVIDIA tensor cores", PeerJ CS 7:e330, 2021) found on V100, T4 and
// A100 that a block of b products and the accumulator c are added in one multi-operand step:
//   1. every product of two inputs is exact;
//   2. the addends (c and the b products) are aligned to the largest exponent E among them, and
//      each keeps only its bits of weight ≥ 2^(E − F): the rest is cut off (truncated toward
//      zero), with no guard, round or sticky bit; F = 23 (binary32's fraction) on those GPUs;
//   3. the aligned addends are added exactly (enough carry bits on the left never to overflow);
//   4. the sum is normalised to binary32 with truncation (round toward zero);
//   5. with binary16 accumulators, that binary32 value is rounded to nearest binary16.
// Block sizes: 4 on V100/T4, 8 on A100. Blocks follow each other in k order, each taking the
// previous result as its c. Later GPUs (and this model's fit to any GPU) can only be measured
// on the GPU itself: `fpaudit kernels --check` compares this model with the hardware bit for
// bit and tries neighbouring block sizes and alignment widths. theory/tensor-core.md derives the
// error bound of this model.
#pragma once

#include <cstdint>
#include <cstring>

#include "common/hd.h"

namespace fpaudit::tc {

/// Bits kept below the leading bit of the largest addend when F has no extra bits: binary32's.
constexpr int kBinary32FractionBits = 23;

/// 2^e exactly, for -1022 ≤ e ≤ 1023.
FPAUDIT_HD inline double pow2(int e) { return bits_double(static_cast<std::uint64_t>(e + 1023) << 52); }
/// ⌊log2 |x|⌋ of a finite, nonzero, normal binary64 number.
FPAUDIT_HD inline int exponent_of(double x) { return static_cast<int>((double_bits(x) >> 52) & 0x7FF) - 1023; }

/// x rounded toward zero to binary32 (overflow gives the largest finite value, as IEEE's
/// roundTowardZero does; NaN stays NaN).
FPAUDIT_HD inline float round_toward_zero_binary32(double x) {
  float f = static_cast<float>(x);  // to nearest
  const double back = f;
  // When the nearest value lies farther from zero than x (or is ±Inf), the next one toward zero
  // is RZ(x): stepping the bit pattern down by one moves a nonzero binary32 magnitude one ulp
  // toward zero (Inf → the largest finite). A nearest value of ±0 is never farther than x.
  const double mag_back = back < 0 ? -back : back, mag_x = x < 0 ? -x : x;
  if (mag_back > mag_x) f = bits_float(float_bits(f) - 1u);
  return f;
}

/// One tensor-core block: c + Σ_{i<count} product(i), aligned to the largest exponent with
/// `fraction_bits` bits kept below its leading bit, truncated, added exactly and normalised
/// toward zero into binary32. product(i) returns the exact product as a binary64 number (the
/// products of two binary32-representable values always are). A NaN or infinite addend makes
/// the result the IEEE sum of the addends; when every addend is zero, it is their IEEE sum too
/// (which fixes the sign of a zero result).
template <class Products>
FPAUDIT_HD float fused_block(float c, long count, int fraction_bits, const Products& product) {
  constexpr int kNone = -100000;
  double ieee = c;
  bool special = !(c - c == 0.0f);
  int emax = c != 0.0f && !special ? exponent_of(c) : kNone;
  for (long i = 0; i < count; ++i) {
    const double p = product(i);
    ieee += p;
    if (!(p - p == 0.0)) {
      special = true;
    } else if (p != 0.0) {
      const int e = exponent_of(p);
      emax = e > emax ? e : emax;
    }
  }
  if (special || emax == kNone) return static_cast<float>(ieee);
  // Every addend is a multiple of 2^lsb after truncation; |addend|·2^-lsb < 2^(F+1), so the
  // scaled addends are integers that an int64 holds, and so is their sum (count < 2^30).
  const int lsb = emax - fraction_bits;
  const double scale = pow2(-lsb);
  auto aligned = [&](double a) { return static_cast<std::int64_t>(a * scale); };  // truncates toward zero
  std::int64_t sum = aligned(c);
  for (long i = 0; i < count; ++i) sum += aligned(product(i));
  // |sum| < 2^53: the conversion and the power-of-two scaling are exact.
  return round_toward_zero_binary32(static_cast<double>(sum) * pow2(lsb));
}

}  // namespace fpaudit::tc
