// Accumulator policies for accumulate() (schedule.h): how one step of a sum or dot product
// rounds. Each holds its running sum as a binary32 value (exact for every format involved),
// and is compiled for host and device, so the CUDA kernels use the very same steps.
#pragma once

#include <cmath>

#include "common/hd.h"
#include "format/bfloat16.h"
#include "format/binary16.h"

namespace fpaudit::acc {

/// One term of a dot product: x·w. (A plain sum uses w = 1.)
struct Term {
  float x, w;
};

/// binary16 accumulation with a fused multiply-add per term (hfma): every step rounds the
/// exact acc + x·w once to binary16. Operands must be binary16 values.
struct Binary16Fma {
  using value = float;
  FPAUDIT_HD float zero() const { return 0.0f; }
  FPAUDIT_HD float step(float acc, Term t) const { return b16::fma_f(t.x, t.w, acc); }
  FPAUDIT_HD float combine(float a, float b) const { return b16::add_f(a, b); }
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
};

}  // namespace fpaudit::acc
