// AVX-512F kernels: four accumulators of eight binary64 lanes, each lane its own TwoSum chain
// (so the chains overlap in the pipeline), the last partial vector loaded under a mask, and
// the lanes folded by TwoSum in a tree at the end. The underflow test of TwoProd runs in mask
// registers. Only these functions are compiled for AVX-512F (target attribute);
// dot_kernels_dispatch.cpp calls them only when the CPU reports AVX-512F.
#include <immintrin.h>

#include "common/cpu_features.h"
#include "exact/dot_kernels.h"

namespace fpaudit::exact::detail {

namespace {

#define FPAUDIT_AVX512 __attribute__((target("avx512f")))

constexpr int kWidth = 8;   // binary64 lanes per vector
constexpr int kUnroll = 4;  // independent accumulators
/// Below this length the AVX2 kernels are faster (their fold is shorter; measured on Zen 4,
/// bench/exact_dot_bench), and every AVX-512F CPU has AVX2 and FMA. Same results either way.
constexpr std::size_t kShort = 512;

/// Lane-wise TwoSum: s becomes fl(s + p), the rounding error is returned.
FPAUDIT_AVX512 inline __m512d two_sum(__m512d& s, __m512d p) {
  const __m512d t = _mm512_add_pd(s, p);
  const __m512d bb = _mm512_sub_pd(t, s);
  const __m512d err = _mm512_add_pd(_mm512_sub_pd(s, _mm512_sub_pd(t, bb)), _mm512_sub_pd(p, bb));
  s = t;
  return err;
}
FPAUDIT_AVX512 inline __m256d two_sum(__m256d& s, __m256d p) {
  const __m256d t = _mm256_add_pd(s, p);
  const __m256d bb = _mm256_sub_pd(t, s);
  const __m256d err = _mm256_add_pd(_mm256_sub_pd(s, _mm256_sub_pd(t, bb)), _mm256_sub_pd(p, bb));
  s = t;
  return err;
}
FPAUDIT_AVX512 inline __m128d two_sum(__m128d& s, __m128d p) {
  const __m128d t = _mm_add_pd(s, p);
  const __m128d bb = _mm_sub_pd(t, s);
  const __m128d err = _mm_add_pd(_mm_sub_pd(s, _mm_sub_pd(t, bb)), _mm_sub_pd(p, bb));
  s = t;
  return err;
}
// Halves through the maskz form: the plain extract and cast intrinsics go through
// _mm256_undefined_pd(), whose self-initialisation trips GCC 12's -Wuninitialized.
FPAUDIT_AVX512 inline __m256d lower_half(__m512d v) { return _mm512_maskz_extractf64x4_pd(0xFF, v, 0); }
FPAUDIT_AVX512 inline __m256d upper_half(__m512d v) { return _mm512_maskz_extractf64x4_pd(0xFF, v, 1); }
FPAUDIT_AVX512 inline __m256d abs256(__m256d v) { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), v); }
FPAUDIT_AVX512 inline __m128d abs128(__m128d v) { return _mm_andnot_pd(_mm_set1_pd(-0.0), v); }

/// s: the lanes' sums; c: their error terms summed; a: the magnitudes of those terms summed.
struct Accumulators {
  __m512d s[kUnroll], c[kUnroll], a[kUnroll];

  FPAUDIT_AVX512 Accumulators() {
    for (int u = 0; u < kUnroll; ++u) {
      s[u] = _mm512_set1_pd(-0.0);  // see CompensatedSum::s
      c[u] = _mm512_setzero_pd();
      a[u] = _mm512_setzero_pd();
    }
  }

  /// Adds exact terms p (lane-wise) to accumulator u.
  FPAUDIT_AVX512 void add(int u, __m512d p) {
    const __m512d err = two_sum(s[u], p);
    c[u] = _mm512_add_pd(c[u], err);
    a[u] = _mm512_add_pd(a[u], _mm512_abs_pd(err));
  }
  /// Adds exact terms p (lane-wise) to accumulator u, and e to its error terms.
  FPAUDIT_AVX512 void add(int u, __m512d p, __m512d e) {
    const __m512d err = two_sum(s[u], p);
    c[u] = _mm512_add_pd(c[u], _mm512_add_pd(err, e));
    a[u] = _mm512_add_pd(a[u], _mm512_add_pd(_mm512_abs_pd(err), _mm512_abs_pd(e)));
  }

  /// Folds accumulator v into u.
  FPAUDIT_AVX512 void merge(int u, int v) {
    const __m512d err = two_sum(s[u], s[v]);
    c[u] = _mm512_add_pd(c[u], _mm512_add_pd(err, c[v]));
    a[u] = _mm512_add_pd(a[u], _mm512_add_pd(_mm512_abs_pd(err), a[v]));
  }

  /// Folds everything into sum: a TwoSum tree over accumulators, then over lanes (8, 4, 2, 1).
  /// error_terms: the error terms the lanes already hold.
  FPAUDIT_AVX512 void reduce(std::size_t error_terms, CompensatedSum& sum) {
    merge(0, 1);
    merge(2, 3);
    merge(0, 2);
    __m256d s4 = lower_half(s[0]);
    const __m256d e4 = two_sum(s4, upper_half(s[0]));
    const __m256d c4 = _mm256_add_pd(_mm256_add_pd(lower_half(c[0]), upper_half(c[0])), e4);
    const __m256d a4 =
        _mm256_add_pd(_mm256_add_pd(lower_half(a[0]), upper_half(a[0])), abs256(e4));
    __m128d s2 = _mm256_castpd256_pd128(s4);
    const __m128d e2 = two_sum(s2, _mm256_extractf128_pd(s4, 1));
    const __m128d c2 = _mm_add_pd(_mm_add_pd(_mm256_castpd256_pd128(c4), _mm256_extractf128_pd(c4, 1)), e2);
    const __m128d a2 = _mm_add_pd(_mm_add_pd(_mm256_castpd256_pd128(a4), _mm256_extractf128_pd(a4, 1)), abs128(e2));
    const SumAndError last = exact::two_sum(_mm_cvtsd_f64(s2), _mm_cvtsd_f64(_mm_unpackhi_pd(s2, s2)));
    const double c1 = _mm_cvtsd_f64(c2) + _mm_cvtsd_f64(_mm_unpackhi_pd(c2, c2));
    const double a1 = _mm_cvtsd_f64(a2) + _mm_cvtsd_f64(_mm_unpackhi_pd(a2, a2));
    sum.add(last.s);
    // Error terms: 3 merges of 8 lanes, then 4, 2 and 1.
    sum.add_errors(c1 + last.e, a1 + std::fabs(last.e), error_terms + 3 * kWidth + 4 + 2 + 1);
  }
};

FPAUDIT_AVX512 inline __m512d load8(const double* p) { return _mm512_loadu_pd(p); }
// The maskz form again: _mm512_cvtps_pd goes through _mm512_undefined_pd().
FPAUDIT_AVX512 inline __m512d load8(const float* p) { return _mm512_maskz_cvtps_pd(0xFF, _mm256_loadu_ps(p)); }
/// The first k lanes (mask bits) of a partial vector, 0 elsewhere; never reads past them.
FPAUDIT_AVX512 inline __m512d load8(const double* p, __mmask8 k) { return _mm512_maskz_loadu_pd(k, p); }
FPAUDIT_AVX512 inline __m512d load8(const float* p, __mmask8 k) {
  const __m256 lower = _mm256_castpd_ps(lower_half(_mm512_castps_pd(_mm512_maskz_loadu_ps(k, p))));
  return _mm512_maskz_cvtps_pd(0xFF, lower);
}
/// Mask of the first r < 8 lanes.
inline __mmask8 first_lanes(std::size_t r) { return static_cast<__mmask8>((1u << r) - 1); }

/// TwoProd of x·w into accumulator u in the lanes of k (masked-off lanes add -0, which
/// changes nothing, not even the sign of an all -0 sum); flags in bad the lanes whose residual
/// may be inexact: |p| ≤ 2^-969 although neither factor is zero.
FPAUDIT_AVX512 inline void add_product(Accumulators& acc, int u, __m512d x, __m512d w, __mmask8& bad,
                                       __mmask8 k = 0xFF) {
  const __m512d p = _mm512_mask_mul_pd(_mm512_set1_pd(-0.0), k, x, w);
  const __m512d e = _mm512_fmsub_pd(x, w, p);
  const __m512d zero = _mm512_setzero_pd();
  __mmask8 tiny = _mm512_cmp_pd_mask(_mm512_abs_pd(p), _mm512_set1_pd(kTwoProdSafeMin), _CMP_LE_OQ);
  tiny = _mm512_mask_cmp_pd_mask(tiny, x, zero, _CMP_NEQ_OQ);
  bad = static_cast<__mmask8>(bad | _mm512_mask_cmp_pd_mask(tiny, w, zero, _CMP_NEQ_OQ));
  acc.add(u, p, e);
}

template <class W>
FPAUDIT_AVX512 bool dot_products(const double* x, const W* w, std::size_t n, CompensatedSum& sum) {
  Accumulators acc;
  __mmask8 bad = 0;
  std::size_t i = 0;
  for (; i + kWidth * kUnroll <= n; i += kWidth * kUnroll) {
    for (int u = 0; u < kUnroll; ++u) add_product(acc, u, load8(x + i + kWidth * u), load8(w + i + kWidth * u), bad);
  }
  // At most three whole vectors remain: constant accumulator indices keep them in registers.
  const std::size_t whole = (n - i) / kWidth;
  if (whole > 0) add_product(acc, 0, load8(x + i), load8(w + i), bad);
  if (whole > 1) add_product(acc, 1, load8(x + i + kWidth), load8(w + i + kWidth), bad);
  if (whole > 2) add_product(acc, 2, load8(x + i + 2 * kWidth), load8(w + i + 2 * kWidth), bad);
  i += whole * kWidth;
  if (i < n) {
    const __mmask8 k = first_lanes(n - i);
    add_product(acc, kUnroll - 1, load8(x + i, k), load8(w + i, k), bad, k);
  }
  acc.reduce(2 * n + 2 * kWidth, sum);
  return bad == 0;
}

FPAUDIT_AVX512 bool dot_f64(const double* x, const double* w, std::size_t n, CompensatedSum& sum) {
  if (n < kShort) return avx2_kernels()->dot_f64(x, w, n, sum);
  return dot_products(x, w, n, sum);
}
FPAUDIT_AVX512 bool dot_f64_f32(const double* x, const float* w, std::size_t n, CompensatedSum& sum) {
  if (n < kShort) return avx2_kernels()->dot_f64_f32(x, w, n, sum);
  return dot_products(x, w, n, sum);
}

FPAUDIT_AVX512 void dot_f32(const float* x, const float* w, std::size_t n, CompensatedSum& sum) {
  if (n < kShort) return avx2_kernels()->dot_f32(x, w, n, sum);
  // Products of binary32 values are exact in binary64 (48 bits, exponents in [-298, 255]).
  Accumulators acc;
  std::size_t i = 0;
  for (; i + kWidth * kUnroll <= n; i += kWidth * kUnroll) {
    for (int u = 0; u < kUnroll; ++u) {
      acc.add(u, _mm512_mul_pd(load8(x + i + kWidth * u), load8(w + i + kWidth * u)));
    }
  }
  const std::size_t whole = (n - i) / kWidth;  // at most three: constant indices, see above
  if (whole > 0) acc.add(0, _mm512_mul_pd(load8(x + i), load8(w + i)));
  if (whole > 1) acc.add(1, _mm512_mul_pd(load8(x + i + kWidth), load8(w + i + kWidth)));
  if (whole > 2) acc.add(2, _mm512_mul_pd(load8(x + i + 2 * kWidth), load8(w + i + 2 * kWidth)));
  i += whole * kWidth;
  if (i < n) {
    const __mmask8 k = first_lanes(n - i);
    acc.add(kUnroll - 1, _mm512_mask_mul_pd(_mm512_set1_pd(-0.0), k, load8(x + i, k), load8(w + i, k)));
  }
  acc.reduce(n + kWidth, sum);
}

FPAUDIT_AVX512 void sum_f64(const double* x, std::size_t n, CompensatedSum& sum) {
  if (n < kShort) return avx2_kernels()->sum_f64(x, n, sum);
  Accumulators acc;
  std::size_t i = 0;
  for (; i + kWidth * kUnroll <= n; i += kWidth * kUnroll) {
    for (int u = 0; u < kUnroll; ++u) acc.add(u, load8(x + i + kWidth * u));
  }
  const std::size_t whole = (n - i) / kWidth;  // at most three: constant indices, see above
  if (whole > 0) acc.add(0, load8(x + i));
  if (whole > 1) acc.add(1, load8(x + i + kWidth));
  if (whole > 2) acc.add(2, load8(x + i + 2 * kWidth));
  i += whole * kWidth;
  if (i < n) acc.add(kUnroll - 1, _mm512_mask_loadu_pd(_mm512_set1_pd(-0.0), first_lanes(n - i), x + i));
  acc.reduce(n + kWidth, sum);
}

}  // namespace

const DotKernels* avx512_kernels() {
  static const DotKernels kernels{"avx512", dot_f64, dot_f64_f32, dot_f32, sum_f64};
  static const DotKernels* const supported = cpu::avx512f() && avx2_kernels() != nullptr ? &kernels : nullptr;
  return supported;
}

}  // namespace fpaudit::exact::detail
