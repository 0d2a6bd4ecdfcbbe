// The host side of the non-GEMM checks: each operator computed the way the CPU chains compute
// it, through the chain's own Arithmetic (ChainArithmetic) and the same step order as
// lib/kernels/ops (softmax.cpp) and docs/chain-semantics.md (LayerNormalization, pooling).
#pragma once

#include <cstdint>
#include <vector>

#include "cuda/kernels.h"
#include "core/arithmetic.h"

namespace fpaudit::cuda::check {

/// The chain a device reduction stands for: fp16 (Binary16Fma) or fp16-acc32 (Binary32Fma),
/// with the reduction's schedule.
ChainSpec chain_of(const Reduction& r);

/// Activation `act` of one binary16 value as the fp16 chain's elementwise operator computes it.
std::uint16_t host_activation(Activation act, std::uint16_t x);

/// Softmax of rows × length binary16 values (ops/softmax.cpp's steps).
std::vector<std::uint16_t> host_softmax(const Arithmetic& a, const std::vector<std::uint16_t>& x, long rows, long length);
/// LayerNormalization (docs/chain-semantics.md; gamma, beta may be empty).
std::vector<std::uint16_t> host_layernorm(const Arithmetic& a, const std::vector<std::uint16_t>& x, const std::vector<std::uint16_t>& gamma,
                                          const std::vector<std::uint16_t>& beta, double epsilon, long rows, long length);
/// MaxPool and AveragePool over `p`'s planes.
std::vector<std::uint16_t> host_max_pool(const PoolProblem& p, const std::vector<std::uint16_t>& x);
std::vector<std::uint16_t> host_average_pool(const Arithmetic& a, const PoolProblem& p, const std::vector<std::uint16_t>& x);

/// im2col on the host, the same layout as the device's (k = (c, kh, kw), p = (oh, ow)).
std::vector<float> host_im2col(const ConvProblem& c, const float* x_group);

}  // namespace fpaudit::cuda::check
