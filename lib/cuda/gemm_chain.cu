// The host's GEMM on the device: one thread per output runs accumulate() (schedule.h) with an
// accumulator policy from accumulators.h, the very functions gemm_float_scalar runs on the CPU,
// compiled for the GPU through FPAUDIT_HD. Any schedule works (sequential, two-lane, blocked,
// pairwise, tensor-core model), with binary16 (software b16::fma_f) or binary32 (fmaf)
// accumulation: agreement with the host is by construction, and --check confirms it.
#include "cuda/epilogue.cuh"

namespace fpaudit::cuda {

namespace {

constexpr int kBlockX = 32, kBlockY = 8;

template <class A>
__global__ void gemm_chain_kernel(A acc, DotSchedule s, GemmProblem p) {
  const long n = static_cast<long>(blockIdx.x) * kBlockX + threadIdx.x;
  const long m = static_cast<long>(blockIdx.y) * kBlockY + threadIdx.y;
  if (m >= p.M || n >= p.N) return;
  const std::uint16_t* w = p.W + m * p.K;
  const std::uint16_t* x = p.X + n;
  const float v = accumulate(acc, s, p.K, [&](long k) { return acc::Term{b16::to_float(w[k]), b16::to_float(x[k * p.ldx])}; });
  store_output<A>(p, m, n, v);
}

template <class A>
void launch(const DotSchedule& s, const GemmProblem& p, cudaStream_t stream) {
  const dim3 block(kBlockX, kBlockY), grid = grid_2d(p.N, p.M, kBlockX, kBlockY);
  gemm_chain_kernel<A><<<grid, block, 0, stream>>>(A{}, s, p);
  check_launch("gemm_chain_kernel");
}

}  // namespace

void gemm_chain(kernels::AccPolicy policy, const DotSchedule& s, const GemmProblem& p, cudaStream_t stream) {
  if (p.M <= 0 || p.N <= 0) return;
  switch (policy) {
    case kernels::AccPolicy::Binary16Fma: return launch<acc::Binary16Fma>(s, p, stream);
    case kernels::AccPolicy::Binary32Fma: return launch<acc::Binary32Fma>(s, p, stream);
    case kernels::AccPolicy::Bfloat16Fma: break;
  }
  throw std::invalid_argument("gemm_chain: binary16 operands take a Binary16Fma or Binary32Fma accumulator");
}

}  // namespace fpaudit::cuda
