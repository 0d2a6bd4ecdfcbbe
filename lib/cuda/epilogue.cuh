// What every GEMM kernel does with a finished sum (device code): add the bias with the
// accumulator's own addition (accumulators.h: the host's combine), store the accumulator value,
// and optionally round it to binary16 and apply the activation as the chain's separate
// operator would. Shared by gemm_*.cu.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "cuda/device.h"
#include "cuda/kernels.h"
#include "format/round_binary64.h"
#include "core/accumulators.h"
#include "core/activation64.h"

namespace fpaudit::cuda {

/// The activation of a binary16 value (bit pattern): ReLU as ops/elementwise_unary.cpp (NaN
/// stays, negatives and −0 become +0), the others round_S(f_64(x)) with activation64.h's f_64.
/// Not inlined: the binary64 exp/erfc/tanh are large, and a GEMM epilogue stores 64 outputs.
static __device__ __noinline__ std::uint16_t activate(Activation act, std::uint16_t h) {
  const float x = b16::to_float(h);
  switch (act) {
    case Activation::None: return h;
    case Activation::Relu: return x != x ? h : (x > 0.0f ? h : std::uint16_t{0});
    case Activation::Gelu: return b16::from_double(gelu64(x));
    case Activation::Sigmoid: return b16::from_double(sigmoid64(x));
    case Activation::Tanh: return b16::from_double(tanh64(x));
  }
  return h;
}

/// Output (m, n) of a GEMM whose sum came to v in accumulator policy Acc's format.
template <class Acc>
__device__ inline void store_output(const GemmProblem& p, long m, long n, float v) {
  if (p.bias) v = Acc{}.combine(v, p.bias[m]);
  if (p.Y) p.Y[m * p.ldy + n] = v;
  if (p.Y16) p.Y16[m * p.ldy16 + n] = activate(p.activation, b16::from_float(v));
}

/// Blocks of `per_block` covering `extent`.
inline unsigned blocks_for(long extent, long per_block) { return static_cast<unsigned>((extent + per_block - 1) / per_block); }
/// A 2-D grid with n along x and m along y; CUDA limits y to 65535 blocks.
inline dim3 grid_2d(long n, long m, long n_per_block, long m_per_block) {
  const long y = (m + m_per_block - 1) / m_per_block;
  if (y > 65535) throw std::invalid_argument("GEMM with M = " + std::to_string(m) + " rows exceeds one launch's grid");
  return dim3(blocks_for(n, n_per_block), static_cast<unsigned>(y));
}

}  // namespace fpaudit::cuda
