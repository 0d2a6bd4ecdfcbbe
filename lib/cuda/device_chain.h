// The fp16 chains with their GEMMs on the GPU (`fpaudit audit --device cuda`): the same
// ChainArithmetic, except that gemm() — which Gemm, MatMul and Conv (im2col + GEMM) call —
// launches the CUDA kernel that computes this chain's arithmetic bit for bit:
//   fp16 (binary16 accumulation)       sequential → gemm-hfma, two-lane → gemm-half2,
//                                      tensor-core-B[+G] → gemm-mma-acc16, other → gemm-chain-b16
//   fp16-acc32 (binary32 accumulation) tensor-core-B[+G] → gemm-mma-acc32, other → gemm-chain-b32
// Everything else (other chains, every other operation) runs on the host as usual.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "cuda/kernels.h"
#include "core/arithmetic.h"

namespace fpaudit::cuda {

/// The GEMM kernel that computes `spec`'s arithmetic on a GPU of architecture `sm`, if any.
/// Throws std::invalid_argument for a tensor-core chain whose model is not this GPU's (its
/// results would not be the chain's), naming the schedule that GPU has.
std::optional<GemmKernel> device_gemm_for(const ChainSpec& spec, int sm);

/// A chain arithmetic for `spec`: on the GPU when device_gemm_for has a kernel, else the host's.
/// Requires device_status().available.
std::unique_ptr<Arithmetic> make_device_chain_arithmetic(const ChainSpec& spec);

/// "gemm-hfma" etc. for the listing of which chains run where.
std::string_view gemm_kernel_name(GemmKernel k);

}  // namespace fpaudit::cuda
