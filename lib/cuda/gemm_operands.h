// The host half of a device GEMM: ChainArithmetic::gemm's operands (binary64 storage values,
// read through each operand's own row stride and element step) packed into the dense binary16
// layout the CUDA GEMM kernels read (GemmProblem: W M×K with row stride K, X K×N with row
// stride N), and the bias rounded into the accumulation format. Host code only, so that the
// packing is tested without a GPU.
#pragma once

#include <cstdint>
#include <vector>

#include "core/arithmetic.h"

namespace fpaudit::cuda {

struct PackedGemmOperands {
  std::vector<std::uint16_t> w;  ///< M×K binary16 bits, row-major: w[m*K + k] = W(m, k)
  std::vector<std::uint16_t> x;  ///< K×N binary16 bits, row-major: x[k*N + n] = X(k, n)
  std::vector<float> bias;       ///< M accumulator-format values, or empty when g.bias is null
};

/// Packs g's operands as GemmArgs::w_at / x_at address them (Gemm with transA/transB, MatMul
/// on a transposed view and im2col columns all arrive with steps other than 1). W and X must
/// hold binary16 values (the chain's storage); `arithmetic` rounds the bias into its
/// accumulation format exactly as the host GEMM does.
PackedGemmOperands pack_gemm_operands(const GemmArgs& g, const Arithmetic& arithmetic);

}  // namespace fpaudit::cuda
