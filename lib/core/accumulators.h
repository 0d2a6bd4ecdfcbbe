// Accumulator policies for accumulate() (schedule.h): how one step of a sum or dot product
// rounds. Each holds its running sum as a binary32 value (exact for every format involved),
// and is compiled for host and device, so the CUDA kernels use the very same steps.
#pragma once

#include <cmath>

#include "common/hd.h"
#include "format/bfloat16.h"
#include "format/binary16.h"
#include "core/tensor_core_block.h"

namespace fpaudit::acc {

/// One term of a dot product: x·w. (A plain sum uses w = 1.)
struct Term {
  float x, w;
};

/// Terms [begin, end) as one tensor-core block after the accumulator value c: the binary32 result
/// of tensor_core_block.h's model. Products of binary32 values are exact in binary64.
template <class Terms>
FPAUDIT_HD float tensor_core_block(float c, long begin, long end, int fraction_bits, const Terms& terms) {
  return tc::fused_block(c, end - begin, fraction_bits, [&](long i) {
    const Term t = terms(begin + i);
    return static_cast<double>(t.x) * static_cast<double>(t.w);
  });
}

/// binary16 accumulation with a fused multiply-add per term (hfma): every step rounds the
/// exact acc + x·w once to binary16. Operands must be binary16 values.
struct Binary16Fma {
  using value = float;
  FPAUDIT_HD float zero() const { return 0.0f; }
  FPAUDIT_HD float step(float acc, Term t) const { return b16::fma_f(t.x, t.w, acc); }
  FPAUDIT_HD float combine(float a, float b) const { return b16::add_f(a, b); }
  /// A tensor core with binary16 accumulators: the block's binary32 result rounded to nearest.
  template <class Terms>
  FPAUDIT_HD float fused_block(float acc, long begin, long end, int fraction_bits, const Terms& terms) const {
    return b16::round_f(tensor_core_block(acc, begin, end, fraction_bits, terms));
  }
};

/// bfloat16 accumulation with one rounding per multiply-add. Operands must be bfloat16 values.
struct Bfloat16Fma {
  using value = float;
  FPAUDIT_HD float zero() const { return 0.0f; }
  FPAUDIT_HD float step(float acc, Term t) const { return bf16::fma_f(t.x, t.w, acc); }
  FPAUDIT_HD float combine(float a, float b) const { return bf16::add_f(a, b); }
};

/// binary32 accumulation with a fused multiply-add per term (FFMA): exact product, one
/// rounding to binary32. Serves fp32 and every "-acc32" chain (binary16/bfloat16/FP8 storage
/// times storage is exact in the FMA's internal product anyway).
struct Binary32Fma {
  using value = float;
  FPAUDIT_HD float zero() const { return 0.0f; }
  FPAUDIT_HD float step(float acc, Term t) const { return std::fma(t.x, t.w, acc); }
  FPAUDIT_HD float combine(float a, float b) const { return a + b; }
  /// A tensor core with binary32 accumulators.
  template <class Terms>
  FPAUDIT_HD float fused_block(float acc, long begin, long end, int fraction_bits, const Terms& terms) const {
    return tensor_core_block(acc, begin, end, fraction_bits, terms);
  }
};

}  // namespace fpaudit::acc
