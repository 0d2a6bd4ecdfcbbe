// binary16 GEMM with the two-lane schedule: each thread owns one output and keeps a half2
// accumulator whose low lane sums the even terms and high lane the odd ones, one __hfma2 per
// pair; the lanes are added at the end. This is accumulate()'s TwoLane order exactly
// (schedule.h): lane0 += t_i, lane1 += t_{i+1} for i = 0, 2, ...; an odd last term goes to
// lane 0; the result is combine(lane0, lane1). __hfma2 is two independent fma.rn.f16 (one
// per lane), each bit-identical to b16::fma_f for the reason gemm_hfma.cu gives; the final
// addition is acc::Binary16Fma::combine itself. Tiles of 16 keep pairs inside one tile.
#include <cuda_fp16.h>

#include "cuda/epilogue.cuh"

namespace fpaudit::cuda {

namespace {

constexpr int kTile = 16;  // even, so a pair (k, k+1) with k even never straddles two tiles

__global__ void gemm_half2_kernel(GemmProblem p) {
  __shared__ __half w_tile[kTile][kTile + 1];  // [m][k]
  __shared__ __half x_tile[kTile][kTile + 1];  // [k][n]
  const int tx = threadIdx.x, ty = threadIdx.y;
  const long m = static_cast<long>(blockIdx.y) * kTile + ty;
  const long n = static_cast<long>(blockIdx.x) * kTile + tx;
  const __half zero = __ushort_as_half(0);
  __half2 lanes = __halves2half2(zero, zero);  // .x (low) = lane 0: even k; .y (high) = lane 1: odd k
  __half lane0_tail = zero;                    // lane 0 after an odd last term
  bool odd_tail = false;
  for (long k0 = 0; k0 < p.K; k0 += kTile) {
    const long kw = k0 + tx, kx = k0 + ty;
    w_tile[ty][tx] = __ushort_as_half(m < p.M && kw < p.K ? p.W[m * p.K + kw] : 0);
    x_tile[ty][tx] = __ushort_as_half(kx < p.K && n < p.N ? p.X[kx * p.ldx + n] : 0);
    __syncthreads();
    const int count = p.K - k0 < kTile ? static_cast<int>(p.K - k0) : kTile;
    int kk = 0;
    for (; kk + 1 < count; kk += 2)
      lanes = __hfma2(__halves2half2(w_tile[ty][kk], w_tile[ty][kk + 1]), __halves2half2(x_tile[kk][tx], x_tile[kk + 1][tx]), lanes);
    if (kk < count) {  // only in the last tile, since kTile is even
      lane0_tail = __hfma(w_tile[ty][kk], x_tile[kk][tx], __low2half(lanes));
      odd_tail = true;
    }
    __syncthreads();
  }
  if (m >= p.M || n >= p.N) return;
  float v;
  if (p.K <= 1) {
    v = __half2float(odd_tail ? lane0_tail : zero);  // n ≤ 1: accumulate() runs the plain chain
  } else {
    const float lane0 = __half2float(odd_tail ? lane0_tail : __low2half(lanes));
    v = acc::Binary16Fma{}.combine(lane0, __half2float(__high2half(lanes)));
  }
  store_output<acc::Binary16Fma>(p, m, n, v);
}

}  // namespace

void gemm_half2(const GemmProblem& p, cudaStream_t stream) {
  if (p.M <= 0 || p.N <= 0) return;
  const dim3 block(kTile, kTile), grid = grid_2d(p.N, p.M, kTile, kTile);
  gemm_half2_kernel<<<grid, block, 0, stream>>>(p);
  check_launch("gemm_half2_kernel");
}

}  // namespace fpaudit::cuda
