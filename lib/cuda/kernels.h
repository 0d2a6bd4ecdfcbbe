// The binary16 GPU kernels, as host functions that launch them on device memory. Each kernel's
// arithmetic is the FP16 chains' own: per-element steps come from accumulators.h / binary16.h
// (FPAUDIT_HD, the same source the CPU chains run) or from a hardware instruction that is
// bit-identical to them, and every sum follows a DotSchedule (schedule.h). registry.h lists
// the kernels with their schedules; `fpaudit kernels --check` compares each with the host.
//
// Conventions: binary16 values travel as their bit patterns (std::uint16_t); accumulator
// values (binary16 or binary32) travel as binary32 floats, the form the host kernels use.
// Matrices are row-major. Launches go to `stream`; errors throw CudaError (device.h).
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

#include "common/hd.h"
#include "core/gemm_float.h"
#include "core/schedule.h"

namespace fpaudit::cuda {

/// The elementwise function a GEMM epilogue applies to the storage-rounded result, as the
/// chain's separate activation operator would: ReLU exactly, the others as round_S(f_64(x)).
enum class Activation : std::uint8_t { None, Relu, Gelu, Sigmoid, Tanh };

/// Y = W·X (+ bias), every output a dot product over k = 0..K−1.
struct GemmProblem {
  long M = 0, N = 0, K = 0;
  const std::uint16_t* W = nullptr;  ///< M×K binary16, row stride K
  const std::uint16_t* X = nullptr;  ///< K×N binary16, row stride ldx
  long ldx = 0;
  const float* bias = nullptr;       ///< M accumulator-format values, added with the accumulator's own addition; or null
  float* Y = nullptr;                ///< M×N accumulator values (bias included), row stride ldy; or null
  long ldy = 0;
  std::uint16_t* Y16 = nullptr;      ///< M×N binary16: Y rounded to nearest binary16, then `activation`; or null
  long ldy16 = 0;
  Activation activation = Activation::None;
};

/// binary16 FMA chain, sequential schedule, hardware __hfma (tiled through shared memory).
void gemm_hfma(const GemmProblem& p, cudaStream_t stream);
/// binary16 FMA chain, two-lane schedule: __hfma2 on half2 accumulators (even k in the low
/// lane, odd k in the high lane), lanes added at the end.
void gemm_half2(const GemmProblem& p, cudaStream_t stream);
/// Any accumulator policy (Binary16Fma or Binary32Fma) and any schedule, one thread per
/// output running accumulate() itself: the host's gemm_float_scalar on the device.
void gemm_chain(kernels::AccPolicy policy, const DotSchedule& s, const GemmProblem& p, cudaStream_t stream);

/// Tensor-core accumulators: binary32 (mma .f32) or binary16 (mma .f16).
enum class TensorCoreAccumulator : std::uint8_t { Binary32, Binary16 };
/// mma.sync on tensor cores (m16n8k16 on sm_80+, two m16n8k8 on sm_75), one accumulator per
/// output fed in k order: the tensor-core schedule of the device's architecture (registry.h).
void gemm_mma(TensorCoreAccumulator acc, const GemmProblem& p, cudaStream_t stream);

/// The GEMM a convolution runs after im2col (im2col.cu).
enum class GemmKernel : std::uint8_t { Hfma, Half2, ChainBinary16, ChainBinary32, MmaBinary32, MmaBinary16 };
void gemm(GemmKernel kernel, const DotSchedule& chain_schedule, const GemmProblem& p, cudaStream_t stream);

/// 2-D convolution of one NCHW batch: per sample and group, im2col (k = (c, kh, kw) in
/// row-major order, padding as exact zeros) and the chosen GEMM with the bias per output
/// channel. x: [N, C, H, W], w: [M, C/groups, KH, KW], y: [N, M, OH, OW] (Y/Y16 as in GemmProblem).
struct ConvProblem {
  long N = 1, C = 1, H = 1, W = 1, M = 1, KH = 1, KW = 1;
  long stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dilation_h = 1, dilation_w = 1, groups = 1;
  FPAUDIT_HD long OH() const { return (H + 2 * pad_h - dilation_h * (KH - 1) - 1) / stride_h + 1; }
  FPAUDIT_HD long OW() const { return (W + 2 * pad_w - dilation_w * (KW - 1) - 1) / stride_w + 1; }
  FPAUDIT_HD long K() const { return C / groups * KH * KW; }
};
void conv2d(GemmKernel kernel, const DotSchedule& chain_schedule, const ConvProblem& c, const std::uint16_t* x,
            const std::uint16_t* w, const float* bias, float* y, std::uint16_t* y16, Activation act, cudaStream_t stream);
/// The im2col step alone: col[(c·KH + kh)·KW + kw][oh·OW + ow] for one sample and group.
void im2col(const ConvProblem& c, const std::uint16_t* x_group, std::uint16_t* col, cudaStream_t stream);

/// y[i] = activation(x[i]) for n binary16 values (the epilogue's function, alone).
void activation(Activation act, const std::uint16_t* x, std::uint16_t* y, long n, cudaStream_t stream);

/// The accumulation of a reduction: a policy (Binary16Fma for the fp16 chain, Binary32Fma for
/// fp16-acc32) and the chain's schedule.
struct Reduction {
  kernels::AccPolicy policy = kernels::AccPolicy::Binary16Fma;
  DotSchedule schedule;
};
/// Softmax of `rows` contiguous rows of `length` binary16 values, ops/softmax.cpp's steps:
/// m = max (exact), d = x − m and e = exp(d) rounded to binary16, s = Σe by the schedule in
/// the accumulation format, y = e / s rounded to binary16.
void softmax(const Reduction& r, const std::uint16_t* x, std::uint16_t* y, long rows, long length, cudaStream_t stream);
/// LayerNormalization over `length` contiguous values per row, docs/chain-semantics.md's steps;
/// gamma and beta (binary16, `length` values each) may be null.
void layernorm(const Reduction& r, const std::uint16_t* x, const std::uint16_t* gamma, const std::uint16_t* beta,
               double epsilon, std::uint16_t* y, long rows, long length, cudaStream_t stream);

/// 2-D pooling of [N·C, H, W] planes; padding never enters a window's sum or maximum.
struct PoolProblem {
  long planes = 1, H = 1, W = 1, KH = 1, KW = 1, stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  bool count_include_pad = false;  ///< AveragePool's divisor: every tap, or only those inside
  FPAUDIT_HD long OH() const { return (H + 2 * pad_h - KH) / stride_h + 1; }
  FPAUDIT_HD long OW() const { return (W + 2 * pad_w - KW) / stride_w + 1; }
};
/// Maximum over each window (exact; NaN if the window holds one).
void max_pool(const PoolProblem& p, const std::uint16_t* x, std::uint16_t* y, cudaStream_t stream);
/// s = Σ window (taps in row-major order) by the schedule in the accumulation format;
/// y = s / count rounded to binary16.
void average_pool(const Reduction& r, const PoolProblem& p, const std::uint16_t* x, std::uint16_t* y, cudaStream_t stream);

}  // namespace fpaudit::cuda
