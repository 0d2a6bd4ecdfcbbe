// binary16 GEMM on tensor cores through mma.sync, with binary32 or binary16 accumulators.
//
// The accumulation is the tensor core's own (tensor_core_block.h models it): every output has
// one accumulator fragment element, fed by mma instructions in increasing k, so its value is
// blocks of products fused with the running sum, in k order: the TensorCore(b, g) schedule of
// this GPU's architecture (registry.h says which b and g the model assumes for each). Nothing
// else touches the sum; the bias and storage rounding happen afterwards (epilogue.cuh).
//
// Shape of the work (CUTLASS's vocabulary):
//   block tile   128 (M) × 128 (N) × 32 (K), 256 threads = 8 warps as 2 (M) × 4 (N)
//   warp tile    64 × 32 = 4 m16 tiles × 4 n8 tiles, each an m16n8k16 mma per k16 step
//   pipeline     the next K tile is read from global memory into registers while the tensor
//                cores work on the current one in shared memory (two shared buffers)
// Operands outside M, N or K are loaded as zeros: their products are exactly 0 and add
// nothing to a block (the model skips zero addends when aligning), so padding does not change
// any in-range output.
//
// Fragment layouts (PTX ISA, "Matrix Fragments for mma.m16n8k16 with floating point type"),
// with g = lane / 4 and t = lane % 4; each .f16x2 register holds its lower-index element in
// the low 16 bits:
//   A (16×16): a0 = (g, 2t..2t+1)  a1 = (g+8, 2t..2t+1)  a2 = (g, 2t+8..2t+9)  a3 = (g+8, 2t+8..2t+9)
//   B (16×8):  b0 = (k 2t..2t+1, n g)  b1 = (k 2t+8..2t+9, n g)
//   C/D f32:   c0 = (g, 2t)  c1 = (g, 2t+1)  c2 = (g+8, 2t)  c3 = (g+8, 2t+1)
//   C/D f16:   c0 = (g, 2t..2t+1)  c1 = (g+8, 2t..2t+1)
// m16n8k8 (sm_75) takes A = {a0, a1}, B = {b0} for k 0..7 and {a2, a3}, {b1} for k 8..15:
// two instructions, in k order, make one k16 step.
#include <cuda_fp16.h>

#include <cstdint>

#include "cuda/epilogue.cuh"

namespace fpaudit::cuda {

namespace {

constexpr int kBlockM = 128, kBlockN = 128, kBlockK = 32;
constexpr int kPad = 8;                        // halves per shared row: 40 halves = 20 words, so the
constexpr int kRow = kBlockK + kPad;           // 8 rows × 4 words a fragment load touches hit 32 banks
constexpr int kThreads = 256;
constexpr int kWarpM = 64, kWarpN = 32;        // warp tile
constexpr int kTilesM = kWarpM / 16, kTilesN = kWarpN / 8;
static_assert(kBlockM == 2 * kWarpM && kBlockN == 4 * kWarpN, "8 warps as 2 × 4");
static_assert((kRow * 2) % 16 == 0, "16-byte aligned shared rows for the vector stores of A");

// ---- the two accumulator kinds: fragment registers, one mma step, reading an element --------

struct Binary32Fragment {
  using Policy = acc::Binary32Fma;
  float c[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  __device__ float element(int e) const { return c[e]; }  // e = 0..3 as in the layout above
  __device__ void mma(const std::uint32_t (&a)[4], const std::uint32_t (&b)[2]) {
#if __CUDA_ARCH__ >= 800
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#else
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5}, {%6}, {%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(b[0]));
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5}, {%6}, {%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[2]), "r"(a[3]), "r"(b[1]));
#endif
  }
};

struct Binary16Fragment {
  using Policy = acc::Binary16Fma;
  std::uint32_t c[2] = {0u, 0u};  // two .f16x2 registers of +0
  __device__ float element(int e) const {
    const std::uint32_t r = c[e >> 1];
    return b16::to_float(static_cast<std::uint16_t>((e & 1) ? r >> 16 : r & 0xFFFFu));
  }
  __device__ void mma(const std::uint32_t (&a)[4], const std::uint32_t (&b)[2]) {
#if __CUDA_ARCH__ >= 800
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f16.f16.f16.f16 {%0,%1}, {%2,%3,%4,%5}, {%6,%7}, {%0,%1};\n"
                 : "+r"(c[0]), "+r"(c[1])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#else
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f16.f16.f16.f16 {%0,%1}, {%2,%3}, {%4}, {%0,%1};\n"
                 : "+r"(c[0]), "+r"(c[1])
                 : "r"(a[0]), "r"(a[1]), "r"(b[0]));
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f16.f16.f16.f16 {%0,%1}, {%2,%3}, {%4}, {%0,%1};\n"
                 : "+r"(c[0]), "+r"(c[1])
                 : "r"(a[2]), "r"(a[3]), "r"(b[1]));
#endif
  }
};

// ---- global → registers → shared ------------------------------------------------------------

/// The part of one K tile a thread carries from global memory: 2 chunks of 8 halves of A
/// (128 × 32 = 512 chunks over 256 threads) and 2 of B (32 × 128 likewise).
struct TileRegisters {
  uint4 a[2], b[2];
};

/// 8 consecutive halves of row `row` starting at column `col`, zeros outside rows × cols;
/// one 16-byte load when the chunk is whole and aligned.
__device__ inline uint4 load_chunk(const std::uint16_t* base, long ld, long row, long col, long rows, long cols) {
  uint4 v = make_uint4(0, 0, 0, 0);
  if (row >= rows || col >= cols) return v;
  const std::uint16_t* src = base + row * ld + col;
  if (col + 8 <= cols && (reinterpret_cast<std::uintptr_t>(src) & 15u) == 0) return *reinterpret_cast<const uint4*>(src);
  std::uint16_t h[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int j = 0; j < 8 && col + j < cols; ++j) h[j] = src[j];
  v.x = h[0] | (static_cast<std::uint32_t>(h[1]) << 16);
  v.y = h[2] | (static_cast<std::uint32_t>(h[3]) << 16);
  v.z = h[4] | (static_cast<std::uint32_t>(h[5]) << 16);
  v.w = h[6] | (static_cast<std::uint32_t>(h[7]) << 16);
  return v;
}

__device__ inline void load_tile(const GemmProblem& p, long m0, long n0, long k0, TileRegisters& r) {
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    const int chunk = threadIdx.x + i * kThreads;
    // A: 128 rows × 4 chunks; B (= X): 32 k-rows × 16 chunks along n.
    r.a[i] = load_chunk(p.W, p.K, m0 + chunk / 4, k0 + (chunk % 4) * 8, p.M, p.K);
    r.b[i] = load_chunk(p.X, p.ldx, k0 + chunk / 16, n0 + (chunk % 16) * 8, p.K, p.N);
  }
}

/// A as [m][k] (rows of k), B transposed to [n][k], so that every fragment register is one
/// aligned 32-bit shared load of two k-consecutive halves.
__device__ inline void store_tile(const TileRegisters& r, std::uint16_t (*as)[kRow], std::uint16_t (*bs)[kRow]) {
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    const int chunk = threadIdx.x + i * kThreads;
    *reinterpret_cast<uint4*>(&as[chunk / 4][(chunk % 4) * 8]) = r.a[i];
    const int k = chunk / 16, n = (chunk % 16) * 8;
    const std::uint32_t words[4] = {r.b[i].x, r.b[i].y, r.b[i].z, r.b[i].w};
#pragma unroll
    for (int j = 0; j < 8; ++j) bs[n + j][k] = static_cast<std::uint16_t>(words[j / 2] >> (16 * (j % 2)));
  }
}

__device__ inline std::uint32_t shared_pair(const std::uint16_t* p) { return *reinterpret_cast<const std::uint32_t*>(p); }

// ---- the kernel -----------------------------------------------------------------------------

template <class Fragment>
__global__ void __launch_bounds__(kThreads) gemm_mma_kernel(GemmProblem p) {
  __shared__ __align__(16) std::uint16_t as[2][kBlockM][kRow];  // (BLK_M, BLK_K + pad, 2 buffers)
  __shared__ __align__(16) std::uint16_t bs[2][kBlockN][kRow];  // (BLK_N, BLK_K + pad, 2 buffers)
  const long m0 = static_cast<long>(blockIdx.y) * kBlockM, n0 = static_cast<long>(blockIdx.x) * kBlockN;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int g = lane / 4, t = lane % 4;
  const int warp_m = (warp / 4) * kWarpM, warp_n = (warp % 4) * kWarpN;

  Fragment acc[kTilesM][kTilesN];
  TileRegisters next;

  // PROLOGUE: the first K tile into buffer 0.
  load_tile(p, m0, n0, 0, next);
  store_tile(next, as[0], bs[0]);
  __syncthreads();

  // MAIN LOOP: compute on buffer `cur` while the next tile travels through registers.
  int cur = 0;
  for (long k0 = 0; k0 < p.K; k0 += kBlockK) {
    const bool more = k0 + kBlockK < p.K;
    if (more) load_tile(p, m0, n0, k0 + kBlockK, next);
#pragma unroll
    for (int ks = 0; ks < kBlockK; ks += 16) {  // k order within the tile: 0..15, then 16..31
      std::uint32_t a[kTilesM][4], b[kTilesN][2];
#pragma unroll
      for (int mi = 0; mi < kTilesM; ++mi) {
        const int r = warp_m + mi * 16 + g;
        a[mi][0] = shared_pair(&as[cur][r][ks + 2 * t]);
        a[mi][1] = shared_pair(&as[cur][r + 8][ks + 2 * t]);
        a[mi][2] = shared_pair(&as[cur][r][ks + 2 * t + 8]);
        a[mi][3] = shared_pair(&as[cur][r + 8][ks + 2 * t + 8]);
      }
#pragma unroll
      for (int ni = 0; ni < kTilesN; ++ni) {
        const int c = warp_n + ni * 8 + g;
        b[ni][0] = shared_pair(&bs[cur][c][ks + 2 * t]);
        b[ni][1] = shared_pair(&bs[cur][c][ks + 2 * t + 8]);
      }
#pragma unroll
      for (int mi = 0; mi < kTilesM; ++mi)
#pragma unroll
        for (int ni = 0; ni < kTilesN; ++ni) acc[mi][ni].mma(a[mi], b[ni]);
    }
    if (more) {
      store_tile(next, as[cur ^ 1], bs[cur ^ 1]);  // the other buffer: nobody reads it now
      __syncthreads();                             // its tile is complete before anyone uses it
      cur ^= 1;
    }
  }

  // EPILOGUE: element e of fragment (mi, ni) is output (g + 8·(e ≥ 2), 2t + (e & 1)).
#pragma unroll
  for (int mi = 0; mi < kTilesM; ++mi)
#pragma unroll
    for (int ni = 0; ni < kTilesN; ++ni)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const long m = m0 + warp_m + mi * 16 + g + (e >= 2 ? 8 : 0);
        const long n = n0 + warp_n + ni * 8 + 2 * t + (e & 1);
        if (m < p.M && n < p.N) store_output<typename Fragment::Policy>(p, m, n, acc[mi][ni].element(e));
      }
}

}  // namespace

void gemm_mma(TensorCoreAccumulator acc, const GemmProblem& p, cudaStream_t stream) {
  if (p.M <= 0 || p.N <= 0) return;
  const dim3 grid = grid_2d(p.N, p.M, kBlockN, kBlockM);
  if (acc == TensorCoreAccumulator::Binary32) {
    gemm_mma_kernel<Binary32Fragment><<<grid, kThreads, 0, stream>>>(p);
    check_launch("gemm_mma_kernel<binary32>");
  } else {
    gemm_mma_kernel<Binary16Fragment><<<grid, kThreads, 0, stream>>>(p);
    check_launch("gemm_mma_kernel<binary16>");
  }
}

}  // namespace fpaudit::cuda
