// gpu_gemm_bench [--size N] [--iterations I]: fpaudit's tensor-core GEMMs against cuBLAS at
// N×N×N (default 4096), same process, same inputs. Prints TFLOP/s (2N³ per GEMM, median of I
// timed runs after warm-up) and the ratios:
//   gemm-mma-acc16 (fp16 accumulators)  vs  cuBLAS HGEMM (cublasHgemm, fp16 compute)
//   gemm-mma-acc32 (fp32 accumulators)  vs  cuBLAS GemmEx fp16 in, CUBLAS_COMPUTE_32F
// and, for scale, the CUDA-core binary16 chains gemm-hfma and gemm-half2. fpaudit's kernels
// are written to make the tensor-core arithmetic explicit (one accumulator per output, k in
// order, mma.sync), not to match cuBLAS, which on sm_90 also uses instructions (wgmma) these
// kernels do not. Without a usable CUDA device it says so and exits 77: nothing measured.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include "cuda/device.h"
#include "cuda/device_buffer.h"
#include "cuda/kernels.h"
#include "format/binary16.h"

using namespace fpaudit;
using namespace fpaudit::cuda;

namespace {

void require_cublas(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS) throw std::runtime_error(std::string(what) + ": cuBLAS status " + std::to_string(static_cast<int>(s)));
}

/// Median milliseconds of `iterations` runs of `launch` after two warm-up runs.
double time_ms(const std::function<void()>& launch, int iterations) {
  cudaEvent_t start, stop;
  require_success(cudaEventCreate(&start), "cudaEventCreate");
  require_success(cudaEventCreate(&stop), "cudaEventCreate");
  for (int i = 0; i < 2; ++i) launch();
  require_success(cudaDeviceSynchronize(), "warm-up");
  std::vector<float> ms;
  for (int i = 0; i < iterations; ++i) {
    require_success(cudaEventRecord(start), "cudaEventRecord");
    launch();
    require_success(cudaEventRecord(stop), "cudaEventRecord");
    require_success(cudaEventSynchronize(stop), "cudaEventSynchronize");
    float t = 0;
    require_success(cudaEventElapsedTime(&t, start, stop), "cudaEventElapsedTime");
    ms.push_back(t);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  long n = 4096;
  int iterations = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--size")) n = std::atol(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--iterations")) iterations = std::atoi(argv[i + 1]);
  }
  const DeviceStatus& d = device_status();
  if (!d.available) {
    std::printf("gpu_gemm_bench: %s; nothing measured\n", d.reason.c_str());
    return 77;
  }
  try {
    std::printf("gpu_gemm_bench on %s (sm_%d), %ld x %ld x %ld, median of %d runs\n", d.name.c_str(), d.sm, n, n, n, iterations);
    std::mt19937_64 rng(1);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<std::uint16_t> a(static_cast<std::size_t>(n * n)), b(a.size());
    for (auto& h : a) h = b16::from_float(u(rng));
    for (auto& h : b) h = b16::from_float(u(rng));
    const DeviceBuffer<std::uint16_t> da(a), db(b);
    DeviceBuffer<float> y32(a.size());
    DeviceBuffer<std::uint16_t> y16(a.size());

    GemmProblem p;
    p.M = p.N = p.K = n;
    p.W = da.get();
    p.X = db.get();
    p.ldx = p.ldy = p.ldy16 = n;
    GemmProblem p32 = p, p16 = p;
    p32.Y = y32.get();
    p16.Y16 = y16.get();

    cublasHandle_t handle;
    require_cublas(cublasCreate(&handle), "cublasCreate");
    // Row-major Y = W·X is column-major Yᵀ = Xᵀ·Wᵀ: pass X first.
    const __half one_h = __float2half(1.0f), zero_h = __float2half(0.0f);
    const float one_f = 1.0f, zero_f = 0.0f;
    const int ni = static_cast<int>(n);
    auto hgemm = [&] {
      require_cublas(cublasHgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, ni, ni, ni, &one_h, reinterpret_cast<const __half*>(db.get()), ni,
                                 reinterpret_cast<const __half*>(da.get()), ni, &zero_h, reinterpret_cast<__half*>(y16.get()), ni),
                     "cublasHgemm");
    };
    auto gemm_ex32 = [&] {
      require_cublas(cublasGemmEx(handle, CUBLAS_OP_N, CUBLAS_OP_N, ni, ni, ni, &one_f, db.get(), CUDA_R_16F, ni, da.get(), CUDA_R_16F, ni,
                                  &zero_f, y32.get(), CUDA_R_32F, ni, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                     "cublasGemmEx");
    };
    const double flops = 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
    auto tflops = [&](double ms) { return flops / (ms * 1e-3) / 1e12; };

    const double t_hgemm = time_ms(hgemm, iterations);
    const double t_acc16 = time_ms([&] { gemm_mma(TensorCoreAccumulator::Binary16, p16, nullptr); }, iterations);
    const double t_ex32 = time_ms(gemm_ex32, iterations);
    const double t_acc32 = time_ms([&] { gemm_mma(TensorCoreAccumulator::Binary32, p32, nullptr); }, iterations);
    const int slow = std::max(1, iterations / 5);
    const double t_hfma = time_ms([&] { gemm_hfma(p16, nullptr); }, slow);
    const double t_half2 = time_ms([&] { gemm_half2(p16, nullptr); }, slow);

    std::printf("\n%-34s %10s %10s\n", "kernel", "ms", "TFLOP/s");
    std::printf("%-34s %10.3f %10.1f\n", "cuBLAS HGEMM (fp16 accumulate)", t_hgemm, tflops(t_hgemm));
    std::printf("%-34s %10.3f %10.1f\n", "fpaudit gemm-mma-acc16", t_acc16, tflops(t_acc16));
    std::printf("%-34s %10.3f %10.1f\n", "cuBLAS GemmEx fp16, COMPUTE_32F", t_ex32, tflops(t_ex32));
    std::printf("%-34s %10.3f %10.1f\n", "fpaudit gemm-mma-acc32", t_acc32, tflops(t_acc32));
    std::printf("%-34s %10.3f %10.1f\n", "fpaudit gemm-hfma (CUDA cores)", t_hfma, tflops(t_hfma));
    std::printf("%-34s %10.3f %10.1f\n", "fpaudit gemm-half2 (CUDA cores)", t_half2, tflops(t_half2));
    std::printf("\nratio gemm-mma-acc16 / cuBLAS HGEMM:          %.3f\n", t_hgemm / t_acc16);
    std::printf("ratio gemm-mma-acc32 / cuBLAS GemmEx 32F:     %.3f\n", t_ex32 / t_acc32);
    cublasDestroy(handle);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gpu_gemm_bench: %s\n", e.what());
    return 2;
  }
  return 0;
}
