// Softmax over contiguous rows with ops/softmax.cpp's steps, one thread block per row:
//   m = max x (exact: any order)                       all threads, then a tree in shared memory
//   d = x − m, e = exp(d), both rounded to binary16    all threads (e kept in y)
//   s = Σ e by the chain's schedule in its format      one thread: the order is the schedule's
//   y = e / s rounded to binary16                      all threads (reduction.cuh: one rounding)
// A NaN anywhere in the row makes the whole row NaN, as on the host.
#include "cuda/epilogue.cuh"
#include "cuda/reduction.cuh"

namespace fpaudit::cuda {

namespace {

constexpr int kThreads = 256;

__global__ void softmax_kernel(Reduction r, const std::uint16_t* x, std::uint16_t* y, long length) {
  const std::uint16_t* xr = x + static_cast<long>(blockIdx.x) * length;
  std::uint16_t* yr = y + static_cast<long>(blockIdx.x) * length;
  __shared__ float max_of[kThreads];
  __shared__ bool nan_of[kThreads];
  __shared__ float sum;
  float m = -INFINITY;
  bool nan = false;
  for (long j = threadIdx.x; j < length; j += kThreads) {
    const float v = b16::to_float(xr[j]);
    nan = nan || v != v;
    m = v > m ? v : m;
  }
  max_of[threadIdx.x] = m;
  nan_of[threadIdx.x] = nan;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) {
      const float other = max_of[threadIdx.x + half];
      max_of[threadIdx.x] = other > max_of[threadIdx.x] ? other : max_of[threadIdx.x];
      nan_of[threadIdx.x] = nan_of[threadIdx.x] || nan_of[threadIdx.x + half];
    }
    __syncthreads();
  }
  if (nan_of[0]) {
    for (long j = threadIdx.x; j < length; j += kThreads) yr[j] = b16::kQuietNaN;
    return;
  }
  const float row_max = max_of[0];
  for (long j = threadIdx.x; j < length; j += kThreads) {
    const float d = b16::add_f(b16::to_float(xr[j]), -row_max);
    yr[j] = b16::from_double(exp(static_cast<double>(d)));
  }
  __syncthreads();
  if (threadIdx.x == 0) sum = reduce(r, length, [&](long j) { return acc::Term{b16::to_float(yr[j]), 1.0f}; });
  __syncthreads();
  const double s = sum;
  for (long j = threadIdx.x; j < length; j += kThreads) yr[j] = b16::from_double(static_cast<double>(b16::to_float(yr[j])) / s);
}

}  // namespace

void softmax(const Reduction& r, const std::uint16_t* x, std::uint16_t* y, long rows, long length, cudaStream_t stream) {
  require_binary16_reduction(r, "softmax");
  if (rows <= 0 || length <= 0) return;
  if (rows > 2147483647L) throw std::invalid_argument("softmax: too many rows for one launch");
  softmax_kernel<<<static_cast<unsigned>(rows), kThreads, 0, stream>>>(r, x, y, length);
  check_launch("softmax_kernel");
}

void require_binary16_reduction(const Reduction& r, const char* what) {
  if (r.policy == kernels::AccPolicy::Bfloat16Fma)
    throw std::invalid_argument(std::string(what) + ": binary16 data takes a Binary16Fma or Binary32Fma accumulator");
}

}  // namespace fpaudit::cuda
