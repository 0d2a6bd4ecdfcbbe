// im2col for 2-D convolution: the K × P matrix whose column p holds, in k = (c, kh, kw)
// row-major order, the input elements output position p reads (padding as exact zeros).
// It is pure data movement, so the convolution's arithmetic is the GEMM's that follows, with
// the same k order as the host's Conv (docs/chain-semantics.md).
#include "cuda/epilogue.cuh"

namespace fpaudit::cuda {

namespace {

__global__ void im2col_kernel(ConvProblem c, const std::uint16_t* x, std::uint16_t* col) {
  const long OH = c.OH(), OW = c.OW(), P = OH * OW;
  const long p = static_cast<long>(blockIdx.x) * blockDim.x + threadIdx.x;
  const long k = blockIdx.y;  // (channel in group, kh, kw) row-major
  if (p >= P) return;
  const long kw = k % c.KW, kh = (k / c.KW) % c.KH, ch = k / (c.KW * c.KH);
  const long oh = p / OW, ow = p % OW;
  const long ih = oh * c.stride_h - c.pad_h + kh * c.dilation_h;
  const long iw = ow * c.stride_w - c.pad_w + kw * c.dilation_w;
  const bool inside = ih >= 0 && ih < c.H && iw >= 0 && iw < c.W;
  col[k * P + p] = inside ? x[(ch * c.H + ih) * c.W + iw] : std::uint16_t{0};
}

}  // namespace

void im2col(const ConvProblem& c, const std::uint16_t* x_group, std::uint16_t* col, cudaStream_t stream) {
  const long P = c.OH() * c.OW(), K = c.K();
  if (P <= 0 || K <= 0) return;
  if (K > 65535) throw std::invalid_argument("im2col: K = " + std::to_string(K) + " exceeds one launch's grid");
  const dim3 block(256), grid(blocks_for(P, 256), static_cast<unsigned>(K));
  im2col_kernel<<<grid, block, 0, stream>>>(c, x_group, col);
  check_launch("im2col_kernel");
}

}  // namespace fpaudit::cuda
