// AVX-512F kernels: the AVX2 scheme (dot_kernels_avx2.cpp) with eight binary64 lanes per
// vector and the underflow test in mask registers. Compiled for AVX-512F function by
// function; dot_kernels_dispatch.cpp calls them only when the CPU reports AVX-512F.
#include <immintrin.h>

#include <cmath>

#include "exact/dot_kernels.h"

namespace fpaudit::exact::detail {

namespace {

#define FPAUDIT_AVX512 __attribute__((target("avx512f")))

constexpr int kWidth = 8;   // binary64 lanes per vector
constexpr int kUnroll = 4;  // independent accumulators

struct Accumulators {
  __m512d s[kUnroll], c[kUnroll], a[kUnroll];
};

FPAUDIT_AVX512 inline void init(Accumulators& acc) {
  for (int u = 0; u < kUnroll; ++u) {
    acc.s[u] = _mm512_set1_pd(-0.0);  // see CompensatedSum::s
    acc.c[u] = _mm512_setzero_pd();
    acc.a[u] = _mm512_setzero_pd();
  }
}

/// Lane-wise TwoSum of p into s; returns the TwoSum error.
FPAUDIT_AVX512 inline __m512d two_sum(__m512d& s, __m512d p) {
  const __m512d t = _mm512_add_pd(s, p);
  const __m512d bb = _mm512_sub_pd(t, s);
  const __m512d err = _mm512_add_pd(_mm512_sub_pd(s, _mm512_sub_pd(t, bb)), _mm512_sub_pd(p, bb));
  s = t;
  return err;
}

FPAUDIT_AVX512 inline void add_exact(Accumulators& acc, int u, __m512d p) {
  const __m512d err = two_sum(acc.s[u], p);
  acc.c[u] = _mm512_add_pd(acc.c[u], err);
  acc.a[u] = _mm512_add_pd(acc.a[u], _mm512_abs_pd(err));
}

/// TwoProd of x·w into accumulator u; sets in bad the lanes whose residual may be inexact:
/// |p| ≤ 2^-969 although neither factor is zero.
FPAUDIT_AVX512 inline void add_product(Accumulators& acc, int u, __m512d x, __m512d w, __mmask8& bad) {
  const __m512d p = _mm512_mul_pd(x, w);
  const __m512d e = _mm512_fmsub_pd(x, w, p);
  const __m512d zero = _mm512_setzero_pd();
  __mmask8 tiny = _mm512_cmp_pd_mask(_mm512_abs_pd(p), _mm512_set1_pd(kTwoProdSafeMin), _CMP_LE_OQ);
  tiny = _mm512_mask_cmp_pd_mask(tiny, x, zero, _CMP_NEQ_OQ);
  bad = static_cast<__mmask8>(bad | _mm512_mask_cmp_pd_mask(tiny, w, zero, _CMP_NEQ_OQ));
  const __m512d err = two_sum(acc.s[u], p);
  acc.c[u] = _mm512_add_pd(acc.c[u], _mm512_add_pd(err, e));
  acc.a[u] = _mm512_add_pd(acc.a[u], _mm512_add_pd(_mm512_abs_pd(err), _mm512_abs_pd(e)));
}

/// Folds the accumulators into sum: vector TwoSums down to one vector, then the lanes one
/// by one. error_terms: the error terms the lanes hold.
FPAUDIT_AVX512 inline void reduce(Accumulators& acc, std::size_t error_terms, CompensatedSum& sum) {
  for (int u = 1; u < kUnroll; ++u) {
    const __m512d err = two_sum(acc.s[0], acc.s[u]);
    acc.c[0] = _mm512_add_pd(acc.c[0], _mm512_add_pd(err, acc.c[u]));
    acc.a[0] = _mm512_add_pd(acc.a[0], _mm512_add_pd(_mm512_abs_pd(err), acc.a[u]));
  }
  alignas(64) double s[kWidth], c[kWidth], a[kWidth];
  _mm512_store_pd(s, acc.s[0]);
  _mm512_store_pd(c, acc.c[0]);
  _mm512_store_pd(a, acc.a[0]);
  for (int l = 0; l < kWidth; ++l) sum.add(s[l]);
  for (int l = 0; l < kWidth; ++l) sum.add_errors(c[l], a[l], 0);
  sum.errors += error_terms + (kUnroll - 1) * kWidth;
}

FPAUDIT_AVX512 inline __m512d load8(const double* p) { return _mm512_loadu_pd(p); }
// The maskz form: _mm512_cvtps_pd goes through _mm512_undefined_pd(), whose self-initialisation
// trips GCC 12's -Wmaybe-uninitialized.
FPAUDIT_AVX512 inline __m512d load8(const float* p) { return _mm512_maskz_cvtps_pd(0xFF, _mm256_loadu_ps(p)); }

template <class W>
FPAUDIT_AVX512 bool dot_products(const double* x, const W* w, std::size_t n, CompensatedSum& sum) {
  Accumulators acc;
  init(acc);
  __mmask8 bad = 0;
  std::size_t i = 0;
  for (; i + kWidth * kUnroll <= n; i += kWidth * kUnroll) {
    for (int u = 0; u < kUnroll; ++u) add_product(acc, u, load8(x + i + kWidth * u), load8(w + i + kWidth * u), bad);
  }
  for (; i + kWidth <= n; i += kWidth) add_product(acc, 0, load8(x + i), load8(w + i), bad);
  reduce(acc, 2 * i, sum);
  bool ok = bad == 0;
  if (i < n) {
    if constexpr (sizeof(W) == sizeof(double)) ok = scalar_kernels().dot_f64(x + i, w + i, n - i, sum) && ok;
    else ok = scalar_kernels().dot_f64_f32(x + i, w + i, n - i, sum) && ok;
  }
  return ok;
}

FPAUDIT_AVX512 bool dot_f64(const double* x, const double* w, std::size_t n, CompensatedSum& sum) {
  return dot_products(x, w, n, sum);
}
FPAUDIT_AVX512 bool dot_f64_f32(const double* x, const float* w, std::size_t n, CompensatedSum& sum) {
  return dot_products(x, w, n, sum);
}

FPAUDIT_AVX512 void dot_f32(const float* x, const float* w, std::size_t n, CompensatedSum& sum) {
  Accumulators acc;
  init(acc);
  std::size_t i = 0;
  for (; i + kWidth * kUnroll <= n; i += kWidth * kUnroll) {
    for (int u = 0; u < kUnroll; ++u) add_exact(acc, u, _mm512_mul_pd(load8(x + i + kWidth * u), load8(w + i + kWidth * u)));
  }
  for (; i + kWidth <= n; i += kWidth) add_exact(acc, 0, _mm512_mul_pd(load8(x + i), load8(w + i)));
  reduce(acc, i, sum);
  if (i < n) scalar_kernels().dot_f32(x + i, w + i, n - i, sum);
}

FPAUDIT_AVX512 void sum_f64(const double* x, std::size_t n, CompensatedSum& sum) {
  Accumulators acc;
  init(acc);
  std::size_t i = 0;
  for (; i + kWidth * kUnroll <= n; i += kWidth * kUnroll) {
    for (int u = 0; u < kUnroll; ++u) add_exact(acc, u, load8(x + i + kWidth * u));
  }
  for (; i + kWidth <= n; i += kWidth) add_exact(acc, 0, load8(x + i));
  reduce(acc, i, sum);
  if (i < n) scalar_kernels().sum_f64(x + i, n - i, sum);
}

}  // namespace

const DotKernels* avx512_kernels() {
  static const DotKernels kernels{"avx512", dot_f64, dot_f64_f32, dot_f32, sum_f64};
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512f")) return nullptr;
  return &kernels;
}

}  // namespace fpaudit::exact::detail
