// 2-D max and average pooling, one thread per output. A window's taps inside the input form a
// rectangle (padding lies only at the borders), visited in row-major order; padding never
// enters a maximum or a sum. Average: s = Σ by the chain's schedule in its accumulation format,
// y = s / count rounded once to binary16 (reduction.cuh).
#include "cuda/epilogue.cuh"
#include "cuda/reduction.cuh"

namespace fpaudit::cuda {

namespace {

/// The taps of output (oh, ow) that fall inside the input: rows [h0, h1), columns [w0, w1).
struct Window {
  long h0, h1, w0, w1;
  __device__ Window(const PoolProblem& p, long oh, long ow) {
    const long top = oh * p.stride_h - p.pad_h, left = ow * p.stride_w - p.pad_w;
    h0 = top < 0 ? 0 : top;
    h1 = top + p.KH < p.H ? top + p.KH : p.H;
    w0 = left < 0 ? 0 : left;
    w1 = left + p.KW < p.W ? left + p.KW : p.W;
  }
  __device__ long count() const { return (h1 > h0 && w1 > w0) ? (h1 - h0) * (w1 - w0) : 0; }
};

__global__ void max_pool_kernel(PoolProblem p, const std::uint16_t* x, std::uint16_t* y) {
  const long OH = p.OH(), OW = p.OW();
  const long i = static_cast<long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= p.planes * OH * OW) return;
  const long plane = i / (OH * OW), oh = (i / OW) % OH, ow = i % OW;
  const Window win(p, oh, ow);
  const std::uint16_t* xp = x + plane * p.H * p.W;
  std::uint16_t best = 0xFC00;  // −Inf
  for (long h = win.h0; h < win.h1; ++h)
    for (long w = win.w0; w < win.w1; ++w) {
      const std::uint16_t v = xp[h * p.W + w];
      const float fv = b16::to_float(v);
      if (fv != fv) {
        y[i] = v;
        return;
      }
      if (fv > b16::to_float(best)) best = v;
    }
  y[i] = best;
}

__global__ void average_pool_kernel(Reduction r, PoolProblem p, const std::uint16_t* x, std::uint16_t* y) {
  const long OH = p.OH(), OW = p.OW();
  const long i = static_cast<long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= p.planes * OH * OW) return;
  const long plane = i / (OH * OW), oh = (i / OW) % OH, ow = i % OW;
  const Window win(p, oh, ow);
  const std::uint16_t* xp = x + plane * p.H * p.W;
  const long width = win.w1 - win.w0;
  const float s = reduce(r, win.count(), [&](long t) {
    return acc::Term{b16::to_float(xp[(win.h0 + t / width) * p.W + win.w0 + t % width]), 1.0f};
  });
  const double count = static_cast<double>(p.count_include_pad ? p.KH * p.KW : win.count());
  y[i] = b16::from_double(static_cast<double>(s) / count);
}

long outputs(const PoolProblem& p) { return p.planes * p.OH() * p.OW(); }

}  // namespace

void max_pool(const PoolProblem& p, const std::uint16_t* x, std::uint16_t* y, cudaStream_t stream) {
  if (outputs(p) <= 0) return;
  max_pool_kernel<<<blocks_for(outputs(p), 256), 256, 0, stream>>>(p, x, y);
  check_launch("max_pool_kernel");
}

void average_pool(const Reduction& r, const PoolProblem& p, const std::uint16_t* x, std::uint16_t* y, cudaStream_t stream) {
  require_binary16_reduction(r, "average_pool");
  if (outputs(p) <= 0) return;
  average_pool_kernel<<<blocks_for(outputs(p), 256), 256, 0, stream>>>(r, p, x, y);
  check_launch("average_pool_kernel");
}

}  // namespace fpaudit::cuda
