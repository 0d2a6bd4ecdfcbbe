// 2-D convolution as im2col + GEMM, sample by sample and group by group, and the GEMM
// dispatcher the convolution and the device chains share.
#include <stdexcept>
#include <string>

#include "cuda/device_buffer.h"
#include "cuda/kernels.h"

namespace fpaudit::cuda {

void gemm(GemmKernel kernel, const DotSchedule& chain_schedule, const GemmProblem& p, cudaStream_t stream) {
  switch (kernel) {
    case GemmKernel::Hfma: return gemm_hfma(p, stream);
    case GemmKernel::Half2: return gemm_half2(p, stream);
    case GemmKernel::ChainBinary16: return gemm_chain(kernels::AccPolicy::Binary16Fma, chain_schedule, p, stream);
    case GemmKernel::ChainBinary32: return gemm_chain(kernels::AccPolicy::Binary32Fma, chain_schedule, p, stream);
    case GemmKernel::MmaBinary32: return gemm_mma(TensorCoreAccumulator::Binary32, p, stream);
    case GemmKernel::MmaBinary16: return gemm_mma(TensorCoreAccumulator::Binary16, p, stream);
  }
  throw std::invalid_argument("unknown GEMM kernel");
}

void conv2d(GemmKernel kernel, const DotSchedule& chain_schedule, const ConvProblem& c, const std::uint16_t* x,
            const std::uint16_t* w, const float* bias, float* y, std::uint16_t* y16, Activation act, cudaStream_t stream) {
  if (c.groups < 1 || c.C % c.groups != 0 || c.M % c.groups != 0)
    throw std::invalid_argument("conv2d: channels " + std::to_string(c.C) + " → " + std::to_string(c.M) +
                                " do not split into " + std::to_string(c.groups) + " groups");
  const long P = c.OH() * c.OW(), K = c.K(), Cg = c.C / c.groups, Mg = c.M / c.groups;
  if (P <= 0) throw std::invalid_argument("conv2d: the kernel does not fit the padded input");
  DeviceBuffer<std::uint16_t> col(static_cast<std::size_t>(K * P));
  ConvProblem group = c;
  group.C = Cg;
  group.groups = 1;
  for (long n = 0; n < c.N; ++n)
    for (long g = 0; g < c.groups; ++g) {
      im2col(group, x + (n * c.C + g * Cg) * c.H * c.W, col.get(), stream);
      GemmProblem p;
      p.M = Mg;
      p.N = P;
      p.K = K;
      p.W = w + g * Mg * K;
      p.X = col.get();
      p.ldx = P;
      p.bias = bias ? bias + g * Mg : nullptr;
      const long out = (n * c.M + g * Mg) * P;
      p.Y = y ? y + out : nullptr;
      p.ldy = P;
      p.Y16 = y16 ? y16 + out : nullptr;
      p.ldy16 = P;
      p.activation = act;
      gemm(kernel, chain_schedule, p, stream);
    }
  // The column buffer is freed when this returns: finish with it first.
  require_success(cudaStreamSynchronize(stream), "conv2d");
}

}  // namespace fpaudit::cuda
