// AVX2 + FMA kernels: the scheme of dot_kernels_avx512.cpp with four binary64 lanes per
// vector: four accumulators, each lane its own TwoSum chain, the last partial vector loaded
// under a mask, a TwoSum tree at the end. Only these functions are compiled for AVX2 (target
// attribute); dot_kernels_dispatch.cpp calls them only when the CPU reports AVX2 and FMA.
#include <immintrin.h>

#include "common/cpu_features.h"
#include "exact/dot_kernels.h"

namespace fpaudit::exact::detail {

namespace {

#define FPAUDIT_AVX2 __attribute__((target("avx2,fma")))

constexpr int kWidth = 4;   // binary64 lanes per vector
constexpr int kUnroll = 4;  // independent accumulators

/// Lane-wise TwoSum: s becomes fl(s + p), the rounding error is returned.
FPAUDIT_AVX2 inline __m256d two_sum(__m256d& s, __m256d p) {
  const __m256d t = _mm256_add_pd(s, p);
  const __m256d bb = _mm256_sub_pd(t, s);
  const __m256d err = _mm256_add_pd(_mm256_sub_pd(s, _mm256_sub_pd(t, bb)), _mm256_sub_pd(p, bb));
  s = t;
  return err;
}
FPAUDIT_AVX2 inline __m128d two_sum(__m128d& s, __m128d p) {
  const __m128d t = _mm_add_pd(s, p);
  const __m128d bb = _mm_sub_pd(t, s);
  const __m128d err = _mm_add_pd(_mm_sub_pd(s, _mm_sub_pd(t, bb)), _mm_sub_pd(p, bb));
  s = t;
  return err;
}
FPAUDIT_AVX2 inline __m256d abs256(__m256d v) { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), v); }
FPAUDIT_AVX2 inline __m128d abs128(__m128d v) { return _mm_andnot_pd(_mm_set1_pd(-0.0), v); }

/// s: the lanes' sums; c: their error terms summed; a: the magnitudes of those terms summed.
struct Accumulators {
  __m256d s[kUnroll], c[kUnroll], a[kUnroll];

  FPAUDIT_AVX2 Accumulators() {
    for (int u = 0; u < kUnroll; ++u) {
      s[u] = _mm256_set1_pd(-0.0);  // see CompensatedSum::s
      c[u] = _mm256_setzero_pd();
      a[u] = _mm256_setzero_pd();
    }
  }

  /// Adds exact terms p (lane-wise) to accumulator u.
  FPAUDIT_AVX2 void add(int u, __m256d p) {
    const __m256d err = two_sum(s[u], p);
    c[u] = _mm256_add_pd(c[u], err);
    a[u] = _mm256_add_pd(a[u], abs256(err));
  }
  /// Adds exact terms p (lane-wise) to accumulator u, and e to its error terms.
  FPAUDIT_AVX2 void add(int u, __m256d p, __m256d e) {
    const __m256d err = two_sum(s[u], p);
    c[u] = _mm256_add_pd(c[u], _mm256_add_pd(err, e));
    a[u] = _mm256_add_pd(a[u], _mm256_add_pd(abs256(err), abs256(e)));
  }

  /// Folds accumulator v into u.
  FPAUDIT_AVX2 void merge(int u, int v) {
    const __m256d err = two_sum(s[u], s[v]);
    c[u] = _mm256_add_pd(c[u], _mm256_add_pd(err, c[v]));
    a[u] = _mm256_add_pd(a[u], _mm256_add_pd(abs256(err), a[v]));
  }

  /// Folds everything into sum: a TwoSum tree over accumulators, then over lanes (4, 2, 1).
  /// error_terms: the error terms the lanes already hold.
  FPAUDIT_AVX2 void reduce(std::size_t error_terms, CompensatedSum& sum) {
    merge(0, 1);
    merge(2, 3);
    merge(0, 2);
    __m128d s2 = _mm256_castpd256_pd128(s[0]);
    const __m128d e2 = two_sum(s2, _mm256_extractf128_pd(s[0], 1));
    const __m128d c2 = _mm_add_pd(_mm_add_pd(_mm256_castpd256_pd128(c[0]), _mm256_extractf128_pd(c[0], 1)), e2);
    const __m128d a2 =
        _mm_add_pd(_mm_add_pd(_mm256_castpd256_pd128(a[0]), _mm256_extractf128_pd(a[0], 1)), abs128(e2));
    const SumAndError last = exact::two_sum(_mm_cvtsd_f64(s2), _mm_cvtsd_f64(_mm_unpackhi_pd(s2, s2)));
    const double c1 = _mm_cvtsd_f64(c2) + _mm_cvtsd_f64(_mm_unpackhi_pd(c2, c2));
    const double a1 = _mm_cvtsd_f64(a2) + _mm_cvtsd_f64(_mm_unpackhi_pd(a2, a2));
    sum.add(last.s);
    // Error terms: 3 merges of 4 lanes, then 2 and 1.
    sum.add_errors(c1 + last.e, a1 + std::fabs(last.e), error_terms + 3 * kWidth + 2 + 1);
  }
};

/// Mask of the first r < 4 lanes, as AVX2's masked loads want it (sign bit set = load).
FPAUDIT_AVX2 inline __m256i first_lanes(std::size_t r) {
  return _mm256_cmpgt_epi64(_mm256_set1_epi64x(static_cast<long long>(r)), _mm256_setr_epi64x(0, 1, 2, 3));
}

FPAUDIT_AVX2 inline __m256d load4(const double* p) { return _mm256_loadu_pd(p); }
FPAUDIT_AVX2 inline __m256d load4(const float* p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
/// The lanes of mask k of a partial vector, 0 elsewhere; never reads past them.
FPAUDIT_AVX2 inline __m256d load4(const double* p, __m256i k) { return _mm256_maskload_pd(p, k); }
FPAUDIT_AVX2 inline __m256d load4(const float* p, __m256i k) {
  // Lane i of the float mask is the low half of 64-bit lane i: gather those halves.
  const __m128i k32 = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(k, _mm256_setr_epi32(0, 2, 4, 6, 0, 0, 0, 0)));
  return _mm256_cvtps_pd(_mm_maskload_ps(p, k32));
}
/// p in the lanes of k, -0 elsewhere (adding -0 changes nothing, not even an all -0 sum).
FPAUDIT_AVX2 inline __m256d only(__m256i k, __m256d p) {
  return _mm256_blendv_pd(_mm256_set1_pd(-0.0), p, _mm256_castsi256_pd(k));
}

/// TwoProd of x·w into accumulator u; flags in bad the lanes whose residual may be inexact:
/// |p| ≤ 2^-969 although neither factor is zero. p: x·w, or the caller's masked version.
FPAUDIT_AVX2 inline void add_product(Accumulators& acc, int u, __m256d x, __m256d w, __m256d p, __m256d& bad) {
  const __m256d e = _mm256_fmsub_pd(x, w, p);
  const __m256d zero = _mm256_setzero_pd();
  const __m256d tiny = _mm256_cmp_pd(abs256(p), _mm256_set1_pd(kTwoProdSafeMin), _CMP_LE_OQ);
  const __m256d nonzero = _mm256_and_pd(_mm256_cmp_pd(x, zero, _CMP_NEQ_OQ), _mm256_cmp_pd(w, zero, _CMP_NEQ_OQ));
  bad = _mm256_or_pd(bad, _mm256_and_pd(tiny, nonzero));
  acc.add(u, p, e);
}
FPAUDIT_AVX2 inline void add_product(Accumulators& acc, int u, __m256d x, __m256d w, __m256d& bad) {
  add_product(acc, u, x, w, _mm256_mul_pd(x, w), bad);
}

template <class W>
FPAUDIT_AVX2 bool dot_products(const double* x, const W* w, std::size_t n, CompensatedSum& sum) {
  Accumulators acc;
  __m256d bad = _mm256_setzero_pd();
  std::size_t i = 0;
  for (; i + kWidth * kUnroll <= n; i += kWidth * kUnroll) {
    for (int u = 0; u < kUnroll; ++u) add_product(acc, u, load4(x + i + kWidth * u), load4(w + i + kWidth * u), bad);
  }
  // At most three whole vectors remain: constant accumulator indices keep them in registers.
  const std::size_t whole = (n - i) / kWidth;
  if (whole > 0) add_product(acc, 0, load4(x + i), load4(w + i), bad);
  if (whole > 1) add_product(acc, 1, load4(x + i + kWidth), load4(w + i + kWidth), bad);
  if (whole > 2) add_product(acc, 2, load4(x + i + 2 * kWidth), load4(w + i + 2 * kWidth), bad);
  i += whole * kWidth;
  if (i < n) {
    const __m256i k = first_lanes(n - i);
    const __m256d xv = load4(x + i, k), wv = load4(w + i, k);
    add_product(acc, kUnroll - 1, xv, wv, only(k, _mm256_mul_pd(xv, wv)), bad);
  }
  acc.reduce(2 * n + 2 * kWidth, sum);
  return _mm256_movemask_pd(bad) == 0;
}

FPAUDIT_AVX2 bool dot_f64(const double* x, const double* w, std::size_t n, CompensatedSum& sum) {
  return dot_products(x, w, n, sum);
}
FPAUDIT_AVX2 bool dot_f64_f32(const double* x, const float* w, std::size_t n, CompensatedSum& sum) {
  return dot_products(x, w, n, sum);
}

FPAUDIT_AVX2 void dot_f32(const float* x, const float* w, std::size_t n, CompensatedSum& sum) {
  // Products of binary32 values are exact in binary64 (48 bits, exponents in [-298, 255]).
  Accumulators acc;
  std::size_t i = 0;
  for (; i + kWidth * kUnroll <= n; i += kWidth * kUnroll) {
    for (int u = 0; u < kUnroll; ++u) {
      acc.add(u, _mm256_mul_pd(load4(x + i + kWidth * u), load4(w + i + kWidth * u)));
    }
  }
  const std::size_t whole = (n - i) / kWidth;  // at most three: constant indices, see above
  if (whole > 0) acc.add(0, _mm256_mul_pd(load4(x + i), load4(w + i)));
  if (whole > 1) acc.add(1, _mm256_mul_pd(load4(x + i + kWidth), load4(w + i + kWidth)));
  if (whole > 2) acc.add(2, _mm256_mul_pd(load4(x + i + 2 * kWidth), load4(w + i + 2 * kWidth)));
  i += whole * kWidth;
  if (i < n) {
    const __m256i k = first_lanes(n - i);
    acc.add(kUnroll - 1, only(k, _mm256_mul_pd(load4(x + i, k), load4(w + i, k))));
  }
  acc.reduce(n + kWidth, sum);
}

FPAUDIT_AVX2 void sum_f64(const double* x, std::size_t n, CompensatedSum& sum) {
  Accumulators acc;
  std::size_t i = 0;
  for (; i + kWidth * kUnroll <= n; i += kWidth * kUnroll) {
    for (int u = 0; u < kUnroll; ++u) acc.add(u, load4(x + i + kWidth * u));
  }
  const std::size_t whole = (n - i) / kWidth;  // at most three: constant indices, see above
  if (whole > 0) acc.add(0, load4(x + i));
  if (whole > 1) acc.add(1, load4(x + i + kWidth));
  if (whole > 2) acc.add(2, load4(x + i + 2 * kWidth));
  i += whole * kWidth;
  if (i < n) {
    const __m256i k = first_lanes(n - i);
    acc.add(kUnroll - 1, only(k, load4(x + i, k)));
  }
  acc.reduce(n + kWidth, sum);
}

}  // namespace

const DotKernels* avx2_kernels() {
  static const DotKernels kernels{"avx2", dot_f64, dot_f64_f32, dot_f32, sum_f64};
  static const DotKernels* const supported = cpu::avx2() && cpu::fma() ? &kernels : nullptr;
  return supported;
}

}  // namespace fpaudit::exact::detail
