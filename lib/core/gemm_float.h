// The GEMM core of the fast chains: operands already rounded to their format and held as
// binary32, one accumulator policy (accumulators.h) and one schedule for every output element.
// Y[m][n] = combine(Σ_k W[m][k]·X[k][n], bias[m]) in the accumulation format.
#pragma once

#include "core/schedule.h"

namespace fpaudit::kernels {

enum class AccPolicy { Binary16Fma, Bfloat16Fma, Binary32Fma };

struct GemmFloat {
  long M = 0, N = 0, K = 0;
  const float* W = nullptr;     ///< M×K, row-major, contiguous
  const float* X = nullptr;     ///< K×N, row-major, row stride ldx
  const float* bias = nullptr;  ///< M values or null
  float* Y = nullptr;           ///< M×N, row-major, row stride ldy
  long ldx = 0, ldy = 0;
};

/// Portable implementation: accumulate() per output element. A TensorCore schedule needs
/// Binary16Fma or Binary32Fma (the accumulators tensor cores have).
void gemm_float_scalar(AccPolicy policy, const DotSchedule& s, const GemmFloat& g);
/// AVX2/FMA/F16C implementation of the first N - N % 8 columns, 8 output columns per vector;
/// bit-identical to the scalar one. Only call when gemm_float_avx2_supported(). Bfloat16Fma
/// requires every nonzero product |W·X| ≥ 2^-126 (exact in binary32); gemm_float checks.
void gemm_float_avx2(AccPolicy policy, const DotSchedule& s, const GemmFloat& g);
bool gemm_float_avx2_supported();
/// AVX-512F implementation of every column (16 per vector, the last few under a mask);
/// bit-identical to the scalar one, with the same conditions as the AVX2 one. Only call when
/// gemm_float_avx512_supported().
void gemm_float_avx512(AccPolicy policy, const DotSchedule& s, const GemmFloat& g);
bool gemm_float_avx512_supported();
/// The accumulator's combine step (a + b rounded in the accumulation format), as the kernels
/// apply it to add the bias.
float combine(AccPolicy policy, float a, float b);
/// Picks the fastest implementation the CPU supports.
void gemm_float(AccPolicy policy, const DotSchedule& s, const GemmFloat& g);

}  // namespace fpaudit::kernels
