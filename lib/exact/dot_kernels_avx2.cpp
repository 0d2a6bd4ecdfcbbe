// AVX2 + FMA kernels: four accumulators of four binary64 lanes, each lane its own TwoSum
// chain (so the chains overlap in the pipeline), reduced by TwoSum at the end. Only the
// functions below are compiled for AVX2 (target attribute), so the library still runs on a
// plain x86-64: dot_kernels_dispatch.cpp calls them only when the CPU reports AVX2 and FMA.
#include <immintrin.h>

#include <cmath>

#include "exact/dot_kernels.h"

namespace fpaudit::exact::detail {

namespace {

#define FPAUDIT_AVX2 __attribute__((target("avx2,fma")))

constexpr int kWidth = 4;   // binary64 lanes per vector
constexpr int kUnroll = 4;  // independent accumulators

struct Accumulators {
  __m256d s[kUnroll], c[kUnroll], a[kUnroll];
};

FPAUDIT_AVX2 inline __m256d abs_pd(__m256d v) { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), v); }

FPAUDIT_AVX2 inline void init(Accumulators& acc) {
  for (int u = 0; u < kUnroll; ++u) {
    acc.s[u] = _mm256_set1_pd(-0.0);  // see CompensatedSum::s
    acc.c[u] = _mm256_setzero_pd();
    acc.a[u] = _mm256_setzero_pd();
  }
}

/// Lane-wise TwoSum of p into s[u]; e (another exact error term, or zero) joins the errors.
FPAUDIT_AVX2 inline void add_exact(Accumulators& acc, int u, __m256d p, __m256d e) {
  const __m256d s = _mm256_add_pd(acc.s[u], p);
  const __m256d bb = _mm256_sub_pd(s, acc.s[u]);
  const __m256d err = _mm256_add_pd(_mm256_sub_pd(acc.s[u], _mm256_sub_pd(s, bb)), _mm256_sub_pd(p, bb));
  acc.s[u] = s;
  acc.c[u] = _mm256_add_pd(acc.c[u], _mm256_add_pd(err, e));
  acc.a[u] = _mm256_add_pd(acc.a[u], _mm256_add_pd(abs_pd(err), abs_pd(e)));
}

/// TwoProd of x·w into accumulator u; flags in bad the lanes whose residual may be inexact:
/// |p| ≤ 2^-969 although neither factor is zero.
FPAUDIT_AVX2 inline void add_product(Accumulators& acc, int u, __m256d x, __m256d w, __m256d& bad) {
  const __m256d p = _mm256_mul_pd(x, w);
  const __m256d e = _mm256_fmsub_pd(x, w, p);
  const __m256d zero = _mm256_setzero_pd();
  const __m256d tiny = _mm256_cmp_pd(abs_pd(p), _mm256_set1_pd(kTwoProdSafeMin), _CMP_LE_OQ);
  const __m256d nonzero = _mm256_and_pd(_mm256_cmp_pd(x, zero, _CMP_NEQ_OQ), _mm256_cmp_pd(w, zero, _CMP_NEQ_OQ));
  bad = _mm256_or_pd(bad, _mm256_and_pd(tiny, nonzero));
  add_exact(acc, u, p, e);
}

/// Folds the accumulators into sum: 3 vector TwoSums, then the four lanes one by one.
/// error_terms: the error terms the lanes hold.
FPAUDIT_AVX2 inline void reduce(Accumulators& acc, std::size_t error_terms, CompensatedSum& sum) {
  for (int u = 1; u < kUnroll; ++u) {
    const __m256d s = _mm256_add_pd(acc.s[0], acc.s[u]);
    const __m256d bb = _mm256_sub_pd(s, acc.s[0]);
    const __m256d err = _mm256_add_pd(_mm256_sub_pd(acc.s[0], _mm256_sub_pd(s, bb)), _mm256_sub_pd(acc.s[u], bb));
    acc.s[0] = s;
    acc.c[0] = _mm256_add_pd(acc.c[0], _mm256_add_pd(err, acc.c[u]));
    acc.a[0] = _mm256_add_pd(acc.a[0], _mm256_add_pd(abs_pd(err), acc.a[u]));
  }
  alignas(32) double s[kWidth], c[kWidth], a[kWidth];
  _mm256_store_pd(s, acc.s[0]);
  _mm256_store_pd(c, acc.c[0]);
  _mm256_store_pd(a, acc.a[0]);
  for (int l = 0; l < kWidth; ++l) sum.add(s[l]);
  for (int l = 0; l < kWidth; ++l) sum.add_errors(c[l], a[l], 0);
  sum.errors += error_terms + (kUnroll - 1) * kWidth;
}

FPAUDIT_AVX2 inline __m256d load4(const double* p) { return _mm256_loadu_pd(p); }
FPAUDIT_AVX2 inline __m256d load4(const float* p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }

template <class W>
FPAUDIT_AVX2 bool dot_products(const double* x, const W* w, std::size_t n, CompensatedSum& sum) {
  Accumulators acc;
  init(acc);
  __m256d bad = _mm256_setzero_pd();
  std::size_t i = 0;
  for (; i + kWidth * kUnroll <= n; i += kWidth * kUnroll) {
    for (int u = 0; u < kUnroll; ++u) add_product(acc, u, load4(x + i + kWidth * u), load4(w + i + kWidth * u), bad);
  }
  for (; i + kWidth <= n; i += kWidth) add_product(acc, 0, load4(x + i), load4(w + i), bad);
  reduce(acc, 2 * i, sum);
  bool ok = _mm256_movemask_pd(bad) == 0;
  if (i < n) {
    if constexpr (sizeof(W) == sizeof(double)) ok = scalar_kernels().dot_f64(x + i, w + i, n - i, sum) && ok;
    else ok = scalar_kernels().dot_f64_f32(x + i, w + i, n - i, sum) && ok;
  }
  return ok;
}

FPAUDIT_AVX2 bool dot_f64(const double* x, const double* w, std::size_t n, CompensatedSum& sum) {
  return dot_products(x, w, n, sum);
}
FPAUDIT_AVX2 bool dot_f64_f32(const double* x, const float* w, std::size_t n, CompensatedSum& sum) {
  return dot_products(x, w, n, sum);
}

FPAUDIT_AVX2 void dot_f32(const float* x, const float* w, std::size_t n, CompensatedSum& sum) {
  Accumulators acc;
  init(acc);
  const __m256d zero = _mm256_setzero_pd();
  std::size_t i = 0;
  for (; i + kWidth * kUnroll <= n; i += kWidth * kUnroll) {
    for (int u = 0; u < kUnroll; ++u) {
      add_exact(acc, u, _mm256_mul_pd(load4(x + i + kWidth * u), load4(w + i + kWidth * u)), zero);
    }
  }
  for (; i + kWidth <= n; i += kWidth) add_exact(acc, 0, _mm256_mul_pd(load4(x + i), load4(w + i)), zero);
  reduce(acc, i, sum);
  if (i < n) scalar_kernels().dot_f32(x + i, w + i, n - i, sum);
}

FPAUDIT_AVX2 void sum_f64(const double* x, std::size_t n, CompensatedSum& sum) {
  Accumulators acc;
  init(acc);
  const __m256d zero = _mm256_setzero_pd();
  std::size_t i = 0;
  for (; i + kWidth * kUnroll <= n; i += kWidth * kUnroll) {
    for (int u = 0; u < kUnroll; ++u) add_exact(acc, u, load4(x + i + kWidth * u), zero);
  }
  for (; i + kWidth <= n; i += kWidth) add_exact(acc, 0, load4(x + i), zero);
  reduce(acc, i, sum);
  if (i < n) scalar_kernels().sum_f64(x + i, n - i, sum);
}

}  // namespace

const DotKernels* avx2_kernels() {
  static const DotKernels kernels{"avx2", dot_f64, dot_f64_f32, dot_f32, sum_f64};
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return nullptr;
  return &kernels;
}

}  // namespace fpaudit::exact::detail
