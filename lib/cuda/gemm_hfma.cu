// binary16 GEMM with a binary16 FMA chain per output, sequential schedule, tiled through shared
// memory: each thread owns one output and runs acc = __hfma(w_k, x_k, acc) for k = 0..K−1.
//
// Why the hardware instruction is the host's arithmetic: __hfma is PTX fma.rn.f16, the IEEE 754
// binary16 fusedMultiplyAdd with round-to-nearest-even and subnormals kept; b16::fma_f
// (binary16.h, what acc::Binary16Fma::step runs) computes the same exact value x·w + acc and
// rounds it once to nearest even. Two correct roundings of one exact value are one value; only
// a NaN's payload may differ (compared as NaN). No padded terms enter a chain: the last tile
// stops at K, because fma(0, 0, −0) = +0 would change a −0 sum.
#include <cuda_fp16.h>

#include "cuda/epilogue.cuh"

namespace fpaudit::cuda {

namespace {

constexpr int kTile = 16;  // 16×16 outputs per block, K in chunks of 16

__global__ void gemm_hfma_kernel(GemmProblem p) {
  __shared__ __half w_tile[kTile][kTile + 1];  // [m][k]; +1 against bank conflicts on the column reads
  __shared__ __half x_tile[kTile][kTile + 1];  // [k][n]
  const int tx = threadIdx.x, ty = threadIdx.y;
  const long m = static_cast<long>(blockIdx.y) * kTile + ty;
  const long n = static_cast<long>(blockIdx.x) * kTile + tx;
  __half acc = __ushort_as_half(0);                                 // +0, the empty sum
  for (long k0 = 0; k0 < p.K; k0 += kTile) {
    const long kw = k0 + tx, kx = k0 + ty;
    w_tile[ty][tx] = __ushort_as_half(m < p.M && kw < p.K ? p.W[m * p.K + kw] : 0);
    x_tile[ty][tx] = __ushort_as_half(kx < p.K && n < p.N ? p.X[kx * p.ldx + n] : 0);
    __syncthreads();
    const int count = p.K - k0 < kTile ? static_cast<int>(p.K - k0) : kTile;
    for (int kk = 0; kk < count; ++kk) acc = __hfma(w_tile[ty][kk], x_tile[kk][tx], acc);
    __syncthreads();
  }
  if (m < p.M && n < p.N) store_output<acc::Binary16Fma>(p, m, n, __half2float(acc));
}

}  // namespace

void gemm_hfma(const GemmProblem& p, cudaStream_t stream) {
  if (p.M <= 0 || p.N <= 0) return;
  const dim3 block(kTile, kTile), grid = grid_2d(p.N, p.M, kTile, kTile);
  gemm_hfma_kernel<<<grid, block, 0, stream>>>(p);
  check_launch("gemm_hfma_kernel");
}

}  // namespace fpaudit::cuda
