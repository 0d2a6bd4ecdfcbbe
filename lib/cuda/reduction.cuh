// Device helpers of the reductions (softmax, layernorm, pooling): rounding binary64 values into
// the accumulation format, and sums by the chain's schedule with the chain's accumulator.
//
// Quotients are computed in binary64 and rounded once more into the target format, and this
// equals rounding the exact quotient directly: let q = x/y with x of at most p_x bits, y of
// at most p_y bits (here p_x, p_y ≤ 24), and m a midpoint of the target (p + 1 bits, p ≤ 24).
// If q ≠ m, then x − m·y is a nonzero multiple of 2^min(ulp exponents), which makes
// |q − m| > 2^-(p + p_y + 1)·|m| or > 2^-p_x·|q| — at least 2^-49 relative, while rounding q
// to binary64 moves it by at most 2^-53 relative. So binary64 rounding never carries q onto or
// across a midpoint of the target, and RN_p(RN_53(q)) = RN_p(q). (When q = m exactly, binary64
// holds m exactly and the tie is broken once.) theory/tensor-core.md, appendix, has the details.
#pragma once

#include <cmath>

#include "cuda/kernels.h"
#include "format/round_binary64.h"
#include "core/accumulators.h"

namespace fpaudit::cuda {

/// A binary64 value rounded once to nearest in the accumulation format, returned as a float.
__device__ inline float round_to_accumulator(kernels::AccPolicy policy, double d) {
  return policy == kernels::AccPolicy::Binary16Fma ? b16::to_float(b16::from_double(d)) : static_cast<float>(d);
}

/// a + b (exact, binary64 operands) rounded once into the accumulation format.
__device__ inline float sum_to_accumulator(kernels::AccPolicy policy, double a, double b) {
  return policy == kernels::AccPolicy::Binary16Fma ? b16::to_float(b16::sum_from_double(a, b)) : binary32_sum_from_double(a, b);
}

/// Σ terms(i), i < n, by the reduction's schedule and accumulator (the host's accumulate()).
template <class Terms>
__device__ float reduce(const Reduction& r, long n, const Terms& terms) {
  if (r.policy == kernels::AccPolicy::Binary16Fma) return accumulate(acc::Binary16Fma{}, r.schedule, n, terms);
  return accumulate(acc::Binary32Fma{}, r.schedule, n, terms);
}

/// The accumulator's own addition (acc::*::combine).
__device__ inline float add_in_accumulator(kernels::AccPolicy policy, float a, float b) {
  return policy == kernels::AccPolicy::Binary16Fma ? acc::Binary16Fma{}.combine(a, b) : acc::Binary32Fma{}.combine(a, b);
}

/// Reductions run Binary16Fma (fp16) or Binary32Fma (fp16-acc32) on binary16 data.
void require_binary16_reduction(const Reduction& r, const char* what);

}  // namespace fpaudit::cuda
