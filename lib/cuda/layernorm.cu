// LayerNormalization over contiguous rows, docs/chain-semantics.md's steps in the
// accumulation format A (binary16 for fp16, binary32 for fp16-acc32), one block per row:
//   μ = round_A(round_A(Σx)/n)         one thread sums by the schedule
//   d_i = round_A(x_i − μ)             recomputed where needed (deterministic)
//   v = round_A(round_A(Σ d_i²)/n)     one thread: the dot product d·d by the schedule
//   r = round_A(1/√(round_A(v + ε)))   binary64 sqrt and division (IEEE on the GPU), then A
//   y_i = round_S(round_A(d_i·r)·γ_i + β_i)   the exact fused value, rounded once
// Quotients by n are binary64 divisions rounded once more (exact per reduction.cuh).
#include "cuda/epilogue.cuh"
#include "cuda/reduction.cuh"

namespace fpaudit::cuda {

namespace {

constexpr int kThreads = 256;

__global__ void layernorm_kernel(Reduction r, const std::uint16_t* x, const std::uint16_t* gamma, const std::uint16_t* beta,
                                 double epsilon, std::uint16_t* y, long length) {
  const std::uint16_t* xr = x + static_cast<long>(blockIdx.x) * length;
  std::uint16_t* yr = y + static_cast<long>(blockIdx.x) * length;
  __shared__ float mean, inv_std;
  const double n = static_cast<double>(length);
  auto deviation = [&](long j) { return add_in_accumulator(r.policy, b16::to_float(xr[j]), -mean); };
  if (threadIdx.x == 0) {
    const float sum = reduce(r, length, [&](long j) { return acc::Term{b16::to_float(xr[j]), 1.0f}; });
    mean = round_to_accumulator(r.policy, static_cast<double>(sum) / n);
    const float squares = reduce(r, length, [&](long j) {
      const float d = deviation(j);
      return acc::Term{d, d};
    });
    const float variance = round_to_accumulator(r.policy, static_cast<double>(squares) / n);
    const float shifted = sum_to_accumulator(r.policy, variance, epsilon);
    inv_std = round_to_accumulator(r.policy, 1.0 / sqrt(static_cast<double>(shifted)));
  }
  __syncthreads();
  for (long j = threadIdx.x; j < length; j += kThreads) {
    const float p = round_to_accumulator(r.policy, static_cast<double>(deviation(j)) * static_cast<double>(inv_std));
    const double scaled = static_cast<double>(p) * (gamma ? b16::to_float(gamma[j]) : 1.0);  // exact: 24 + 11 bits
    yr[j] = beta ? b16::sum_from_double(scaled, b16::to_float(beta[j])) : b16::from_double(scaled);
  }
}

}  // namespace

void layernorm(const Reduction& r, const std::uint16_t* x, const std::uint16_t* gamma, const std::uint16_t* beta,
               double epsilon, std::uint16_t* y, long rows, long length, cudaStream_t stream) {
  require_binary16_reduction(r, "layernorm");
  if (rows <= 0 || length <= 0) return;
  if (length > (1L << 24)) throw std::invalid_argument("layernorm: rows longer than 2^24 (quotients by n assume n < 2^24)");
  if (rows > 2147483647L) throw std::invalid_argument("layernorm: too many rows for one launch");
  layernorm_kernel<<<static_cast<unsigned>(rows), kThreads, 0, stream>>>(r, x, gamma, beta, epsilon, y, length);
  check_launch("layernorm_kernel");
}

}  // namespace fpaudit::cuda
