// Reading OpKernel::run_batch's operands (kernels/op.h): sample b's inputs are
// in[b·I, (b+1)·I) and its outputs out[b·O, (b+1)·O).
#pragma once

#include <algorithm>
#include <span>
#include <vector>

#include "core/tensor.h"

namespace fpaudit::ops {

/// A batched GEMM's scratch operands stay within 32 MB of binary64: whole samples per GEMM, at
/// least one, so that `run` on a large model holds about the batch's activations and not several
/// times them. Splitting the batch changes no bit: each output is the same sum either way.
constexpr long kMaxScratchValues = 1L << 22;
/// How many of `samples` samples one GEMM takes when each needs `values_per_sample` scratch values.
inline long samples_per_gemm(long samples, long values_per_sample) {
  return std::max(1L, std::min(samples, kMaxScratchValues / std::max(1L, values_per_sample)));
}

/// Input i of every sample in a batch: the same tensor (a constant, or absent in all)?
/// A GEMM of the batch needs its left operand shared.
inline bool shared_input(std::span<const Tensor* const> in, long samples, std::size_t i) {
  const std::size_t ni = in.size() / static_cast<std::size_t>(samples);
  if (i >= ni) return true;
  for (std::size_t b = 1; b < static_cast<std::size_t>(samples); ++b)
    if (in[b * ni + i] != in[i]) return false;
  return true;
}

/// Input i of sample b (null where absent).
inline const Tensor* input_of(std::span<const Tensor* const> in, long samples, long b, std::size_t i) {
  const std::size_t ni = in.size() / static_cast<std::size_t>(samples);
  return i < ni ? in[static_cast<std::size_t>(b) * ni + i] : nullptr;
}

/// Every sample's input i (resp. output o) data.
inline std::vector<const double*> input_data(std::span<const Tensor* const> in, long samples, std::size_t i) {
  std::vector<const double*> x;
  for (long b = 0; b < samples; ++b) x.push_back(input_of(in, samples, b, i)->data.data());
  return x;
}
inline std::vector<double*> output_data(std::span<Tensor* const> out, long samples, std::size_t o) {
  const std::size_t no = out.size() / static_cast<std::size_t>(samples);
  std::vector<double*> y;
  for (long b = 0; b < samples; ++b) y.push_back(out[static_cast<std::size_t>(b) * no + o]->data.data());
  return y;
}

}  // namespace fpaudit::ops
