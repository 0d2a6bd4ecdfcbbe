#include "exact/gemm.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "common/cpu_features.h"
#include "exact/compensated_sum.h"
#include "exact/dot.h"
#include "exact/dot_kernels.h"
#include "exact/fp_environment.h"

namespace fpaudit::exact {

namespace {

#define FPAUDIT_AVX512 __attribute__((target("avx512f")))

constexpr int kWidth = 8;   // binary64 lanes per vector: 8 output columns
constexpr int kMaxVectors = 4;  // up to 32 columns advance together, hiding TwoSum's latency

/// The output the vector pass could not decide: exact::dot's own path (its certificate's
/// second chance, or the long accumulator).
double one_output(long K, const double* w, const double* x, long ldx, double bias) {
  return dot_strided_certified(w, 1, x, ldx, static_cast<std::size_t>(K), bias).value;
}

/// Output column n of a vector pass's lanes: its lane's CompensatedSum (sums of 1 + 2K error
/// terms) certified to nearest unless the lane met a product TwoProd cannot split (`bad`), else
/// one_output.
double lane_output(double s, double c, double a, bool bad, long K, const double* w, const double* X, long ldx, long n,
                   double bias) {
  std::optional<Certified> r;
  if (!bad) r = certify_nearest(CompensatedSum{s, c, a, static_cast<std::uint64_t>(1 + 2 * K)});
  return r ? r->value : one_output(K, w, X + n, ldx, bias);
}

/// Columns [n0, n0 + 8·U) of output row y (the last vector masked by `tail`): per lane, a
/// CompensatedSum of bias + Σ_k w[k]·X[k][n] built as CompensatedSum::add and the dot kernels
/// build it (TwoSum of the running sum and each product, TwoProd residuals as error terms),
/// then certify_nearest on that lane alone.
template <int U>
FPAUDIT_AVX512 void column_block(long K, const double* w, const double* X, long ldx, long n0, __mmask8 tail, double bias,
                                 double* y) {
  __m512d s[U], c[U], a[U];
  __mmask8 mask[U], bad[U];
  for (int u = 0; u < U; ++u) {
    mask[u] = u == U - 1 ? tail : static_cast<__mmask8>(0xFF);
    // CompensatedSum starts at -0 and adds the bias: its TwoSum error is 0, one error term.
    s[u] = _mm512_add_pd(_mm512_set1_pd(-0.0), _mm512_set1_pd(bias));
    c[u] = _mm512_setzero_pd();
    a[u] = _mm512_setzero_pd();
    bad[u] = 0;
  }
  const __m512d zero = _mm512_setzero_pd(), safe_min = _mm512_set1_pd(detail::kTwoProdSafeMin);
  for (long k = 0; k < K; ++k) {
    const __m512d wk = _mm512_set1_pd(w[k]);
    const double* row = X + k * ldx + n0;
    for (int u = 0; u < U; ++u) {
      const __m512d x = _mm512_maskz_loadu_pd(mask[u], row + kWidth * u);
      const __m512d p = _mm512_mul_pd(wk, x);
      const __m512d e = _mm512_fmsub_pd(wk, x, p);  // TwoProd: p + e = w·x when |p| > 2^-969
      __mmask8 tiny = _mm512_cmp_pd_mask(_mm512_abs_pd(p), safe_min, _CMP_LE_OQ);
      tiny = _mm512_mask_cmp_pd_mask(tiny, x, zero, _CMP_NEQ_OQ);
      bad[u] = static_cast<__mmask8>(bad[u] | _mm512_mask_cmp_pd_mask(tiny, wk, zero, _CMP_NEQ_OQ));
      // TwoSum(s, p): t + err = s + p exactly.
      const __m512d t = _mm512_add_pd(s[u], p);
      const __m512d bb = _mm512_sub_pd(t, s[u]);
      const __m512d err = _mm512_add_pd(_mm512_sub_pd(s[u], _mm512_sub_pd(t, bb)), _mm512_sub_pd(p, bb));
      s[u] = t;
      c[u] = _mm512_add_pd(c[u], _mm512_add_pd(err, e));
      a[u] = _mm512_add_pd(a[u], _mm512_add_pd(_mm512_abs_pd(err), _mm512_abs_pd(e)));
    }
  }
  for (int u = 0; u < U; ++u) {
    alignas(64) double sv[kWidth], cv[kWidth], av[kWidth];
    _mm512_store_pd(sv, s[u]);
    _mm512_store_pd(cv, c[u]);
    _mm512_store_pd(av, a[u]);
    for (int l = 0; l < kWidth; ++l) {
      if (!((mask[u] >> l) & 1)) break;
      const long n = n0 + kWidth * u + l;
      y[n] = lane_output(sv[l], cv[l], av[l], (bad[u] >> l) & 1, K, w, X, ldx, n, bias);
    }
  }
}

FPAUDIT_AVX512 void gemm_avx512(long M, long N, long K, const double* W, long ldw, const double* X, long ldx,
                                const double* bias, double* Y, long ldy) {
  constexpr long kBlock = kWidth * kMaxVectors;
  for (long m = 0; m < M; ++m) {
    const double* w = W + m * ldw;
    const double b = bias ? bias[m] : 0.0;
    double* y = Y + m * ldy;
    for (long n0 = 0; n0 < N; n0 += kBlock) {
      const long cols = std::min(kBlock, N - n0);
      const int vectors = static_cast<int>((cols + kWidth - 1) / kWidth);
      const long in_last = cols - kWidth * (vectors - 1);
      const auto tail = static_cast<__mmask8>((1u << in_last) - 1);
      switch (vectors) {
        case 4: column_block<4>(K, w, X, ldx, n0, tail, b, y); break;
        case 3: column_block<3>(K, w, X, ldx, n0, tail, b, y); break;
        case 2: column_block<2>(K, w, X, ldx, n0, tail, b, y); break;
        default: column_block<1>(K, w, X, ldx, n0, tail, b, y); break;
      }
    }
  }
}

#define FPAUDIT_AVX2 __attribute__((target("avx2,fma")))

constexpr int kWidth2 = 4;  // binary64 lanes per AVX2 vector

/// column_block on AVX2 with FMA: 4 columns a vector, up to 4 vectors, the same operations per
/// lane in the same order (the masked-off lanes of the last vector load zeros, as the AVX-512
/// masked load does). `in_last`: the columns the last vector holds.
template <int U>
FPAUDIT_AVX2 void column_block_avx2(long K, const double* w, const double* X, long ldx, long n0, int in_last, double bias,
                                    double* y) {
  __m256d s[U], c[U], a[U], bad[U];
  __m256i mask[U];
  for (int u = 0; u < U; ++u) {
    const int lanes = u == U - 1 ? in_last : kWidth2;
    mask[u] = _mm256_setr_epi64x(lanes > 0 ? -1 : 0, lanes > 1 ? -1 : 0, lanes > 2 ? -1 : 0, lanes > 3 ? -1 : 0);
    s[u] = _mm256_add_pd(_mm256_set1_pd(-0.0), _mm256_set1_pd(bias));
    c[u] = _mm256_setzero_pd();
    a[u] = _mm256_setzero_pd();
    bad[u] = _mm256_setzero_pd();
  }
  const __m256d zero = _mm256_setzero_pd(), safe_min = _mm256_set1_pd(detail::kTwoProdSafeMin);
  const __m256d magnitude = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7FFFFFFFFFFFFFFF));
  for (long k = 0; k < K; ++k) {
    const __m256d wk = _mm256_set1_pd(w[k]);
    const __m256d w_nonzero = _mm256_cmp_pd(wk, zero, _CMP_NEQ_OQ);
    const double* row = X + k * ldx + n0;
    for (int u = 0; u < U; ++u) {
      const __m256d x = _mm256_maskload_pd(row + kWidth2 * u, mask[u]);
      const __m256d p = _mm256_mul_pd(wk, x);
      const __m256d e = _mm256_fmsub_pd(wk, x, p);  // TwoProd: p + e = w·x when |p| > 2^-969
      __m256d tiny = _mm256_cmp_pd(_mm256_and_pd(p, magnitude), safe_min, _CMP_LE_OQ);
      tiny = _mm256_and_pd(tiny, _mm256_cmp_pd(x, zero, _CMP_NEQ_OQ));
      bad[u] = _mm256_or_pd(bad[u], _mm256_and_pd(tiny, w_nonzero));
      // TwoSum(s, p): t + err = s + p exactly.
      const __m256d t = _mm256_add_pd(s[u], p);
      const __m256d bb = _mm256_sub_pd(t, s[u]);
      const __m256d err = _mm256_add_pd(_mm256_sub_pd(s[u], _mm256_sub_pd(t, bb)), _mm256_sub_pd(p, bb));
      s[u] = t;
      c[u] = _mm256_add_pd(c[u], _mm256_add_pd(err, e));
      a[u] = _mm256_add_pd(a[u], _mm256_add_pd(_mm256_and_pd(err, magnitude), _mm256_and_pd(e, magnitude)));
    }
  }
  for (int u = 0; u < U; ++u) {
    alignas(32) double sv[kWidth2], cv[kWidth2], av[kWidth2];
    _mm256_store_pd(sv, s[u]);
    _mm256_store_pd(cv, c[u]);
    _mm256_store_pd(av, a[u]);
    const int bad_lanes = _mm256_movemask_pd(bad[u]);
    const int lanes = u == U - 1 ? in_last : kWidth2;
    for (int l = 0; l < lanes; ++l) {
      const long n = n0 + kWidth2 * u + l;
      y[n] = lane_output(sv[l], cv[l], av[l], (bad_lanes >> l) & 1, K, w, X, ldx, n, bias);
    }
  }
}

FPAUDIT_AVX2 void gemm_avx2(long M, long N, long K, const double* W, long ldw, const double* X, long ldx, const double* bias,
                            double* Y, long ldy) {
  constexpr long kBlock = kWidth2 * kMaxVectors;
  for (long m = 0; m < M; ++m) {
    const double* w = W + m * ldw;
    const double b = bias ? bias[m] : 0.0;
    double* y = Y + m * ldy;
    for (long n0 = 0; n0 < N; n0 += kBlock) {
      const long cols = std::min(kBlock, N - n0);
      const int vectors = static_cast<int>((cols + kWidth2 - 1) / kWidth2);
      const int in_last = static_cast<int>(cols - kWidth2 * (vectors - 1));
      switch (vectors) {
        case 4: column_block_avx2<4>(K, w, X, ldx, n0, in_last, b, y); break;
        case 3: column_block_avx2<3>(K, w, X, ldx, n0, in_last, b, y); break;
        case 2: column_block_avx2<2>(K, w, X, ldx, n0, in_last, b, y); break;
        default: column_block_avx2<1>(K, w, X, ldx, n0, in_last, b, y); break;
      }
    }
  }
}

}  // namespace

bool gemm_vectorised() {
  return cpu::avx512f() || (cpu::avx2() && cpu::fma());
}

void gemm(long M, long N, long K, const double* W, long ldw, const double* X, long ldx, const double* bias, double* Y,
          long ldy) {
  detail::DefaultFloatingPointEnvironment fp_env;
  if (cpu::avx512f()) return gemm_avx512(M, N, K, W, ldw, X, ldx, bias, Y, ldy);
  if (cpu::avx2() && cpu::fma()) return gemm_avx2(M, N, K, W, ldw, X, ldx, bias, Y, ldy);
  for (long m = 0; m < M; ++m)
    for (long n = 0; n < N; ++n) Y[m * ldy + n] = one_output(K, W + m * ldw, X + n, ldx, bias ? bias[m] : 0.0);
}

}  // namespace fpaudit::exact
