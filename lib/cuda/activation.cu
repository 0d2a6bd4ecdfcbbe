// The epilogue's activation as a kernel of its own, so that --check can feed it every binary16
// value and compare with the host chain's elementwise operator.
#include "cuda/epilogue.cuh"

namespace fpaudit::cuda {

namespace {
__global__ void activation_kernel(Activation act, const std::uint16_t* x, std::uint16_t* y, long n) {
  const long i = static_cast<long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) y[i] = activate(act, x[i]);
}
}  // namespace

void activation(Activation act, const std::uint16_t* x, std::uint16_t* y, long n, cudaStream_t stream) {
  if (n <= 0) return;
  activation_kernel<<<blocks_for(n, 256), 256, 0, stream>>>(act, x, y, n);
  check_launch("activation_kernel");
}

}  // namespace fpaudit::cuda
