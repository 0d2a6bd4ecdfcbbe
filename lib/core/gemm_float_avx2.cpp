// AVX2 version of gemm_float_scalar: the same accumulator steps and the same schedule
// (accumulate() from schedule.h), run on 8 output columns per vector and 4 vectors at a time
// so that independent accumulator chains hide each step's latency. Compiled with
// -mavx2 -mfma -mf16c (lib/CMakeLists.txt) and entered only after a run-time CPU check; it
// keeps to intrinsics and local types so no AVX2 code leaks into functions other files share.
#include <immintrin.h>

#include <cmath>

#include "common/cpu_features.h"
#include "core/gemm_float.h"

namespace fpaudit::kernels {

namespace {

/// L vectors of 8 binary32 lanes: L·8 output columns advancing together.
template <int L>
struct Lanes {
  __m256 v[L];
};

template <int L>
struct TermV {
  __m256 x;     // W[m][k], broadcast
  __m256 w[L];  // X[k][n .. n+8L)
};

inline __m256 two_sum_err(__m256 a, __m256 b, __m256 s) {
  const __m256 bb = _mm256_sub_ps(s, a);
  return _mm256_add_ps(_mm256_sub_ps(a, _mm256_sub_ps(s, bb)), _mm256_sub_ps(b, bb));
}

/// s + err rounded to odd at 24 bits, lane by lane (b16::round_to_odd24); lanes where s is
/// not finite are left alone, as the scalar code does.
inline __m256 round_to_odd24(__m256 s, __m256 err) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  const __m256 finite = _mm256_cmp_ps(_mm256_and_ps(s, abs_mask), _mm256_set1_ps(INFINITY), _CMP_LT_OQ);
  const __m256 inexact = _mm256_and_ps(_mm256_cmp_ps(err, _mm256_setzero_ps(), _CMP_NEQ_UQ), finite);
  const __m256i sb = _mm256_castps_si256(s);
  const __m256i differ = _mm256_srai_epi32(_mm256_xor_si256(sb, _mm256_castps_si256(err)), 31);  // -1 if signs differ
  const __m256i odd = _mm256_or_si256(_mm256_add_epi32(sb, differ), _mm256_set1_epi32(1));
  return _mm256_blendv_ps(s, _mm256_castsi256_ps(odd), inexact);
}

inline __m256 round_binary16(__m256 x) {
  return _mm256_cvtph_ps(_mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

/// bf16::round_f on 8 lanes: integer rounding of the bit pattern; NaNs are quieted.
inline __m256 round_bfloat16(__m256 x) {
  const __m256i u = _mm256_castps_si256(x);
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
  const __m256i r = _mm256_and_si256(_mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7FFF)), lsb),
                                     _mm256_set1_epi32(static_cast<int>(0xFFFF0000u)));
  const __m256 is_nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
  const __m256 quiet = _mm256_castsi256_ps(_mm256_or_si256(u, _mm256_set1_epi32(0x00400000)));
  return _mm256_blendv_ps(_mm256_castsi256_ps(r), quiet, is_nan);
}

/// A "round once" accumulator on vectors: step = round(x·w + acc) with the product exact in
/// binary32 (binary16 and bfloat16 operands; the caller rules out products below 2^-126).
template <int L, __m256 (*RoundFn)(__m256)>
struct RoundedFmaV {
  using value = Lanes<L>;
  value zero() const {
    value z;
    for (int l = 0; l < L; ++l) z.v[l] = _mm256_setzero_ps();
    return z;
  }
  value step(value acc, const TermV<L>& t) const {
    for (int l = 0; l < L; ++l) {
      const __m256 p = _mm256_mul_ps(t.x, t.w[l]);
      const __m256 s = _mm256_add_ps(p, acc.v[l]);
      acc.v[l] = RoundFn(round_to_odd24(s, two_sum_err(p, acc.v[l], s)));
    }
    return acc;
  }
  value combine(value a, const value& b) const {
    for (int l = 0; l < L; ++l) {
      const __m256 s = _mm256_add_ps(a.v[l], b.v[l]);
      a.v[l] = RoundFn(round_to_odd24(s, two_sum_err(a.v[l], b.v[l], s)));
    }
    return a;
  }
};

template <int L>
struct Binary32FmaV {
  using value = Lanes<L>;
  value zero() const {
    value z;
    for (int l = 0; l < L; ++l) z.v[l] = _mm256_setzero_ps();
    return z;
  }
  value step(value acc, const TermV<L>& t) const {
    for (int l = 0; l < L; ++l) acc.v[l] = _mm256_fmadd_ps(t.x, t.w[l], acc.v[l]);
    return acc;
  }
  value combine(value a, const value& b) const {
    for (int l = 0; l < L; ++l) a.v[l] = _mm256_add_ps(a.v[l], b.v[l]);
    return a;
  }
};

/// Output columns [n0, n0 + 8L) of every row.
template <int L, class A>
void columns(const A& acc, const DotSchedule& s, const GemmFloat& g, long n0) {
  for (long m = 0; m < g.M; ++m) {
    const float* w = g.W + m * g.K;
    auto terms = [&](long k) {
      TermV<L> t;
      t.x = _mm256_set1_ps(w[k]);
      const float* row = g.X + k * g.ldx + n0;
      for (int l = 0; l < L; ++l) t.w[l] = _mm256_loadu_ps(row + 8 * l);
      return t;
    };
    typename A::value v = accumulate(acc, s, g.K, terms);
    if (g.bias) {
      typename A::value b;
      for (int l = 0; l < L; ++l) b.v[l] = _mm256_set1_ps(g.bias[m]);
      v = acc.combine(v, b);
    }
    for (int l = 0; l < L; ++l) _mm256_storeu_ps(g.Y + m * g.ldy + n0 + 8 * l, v.v[l]);
  }
}

/// Every full group of 8 columns; the caller handles the remaining N % 8.
template <template <int> class Acc>
void run(const DotSchedule& s, const GemmFloat& g) {
  long n = 0;
  for (; n + 32 <= g.N; n += 32) columns<4>(Acc<4>{}, s, g, n);
  for (; n + 8 <= g.N; n += 8) columns<1>(Acc<1>{}, s, g, n);
}

template <int L>
using Binary16V = RoundedFmaV<L, round_binary16>;
template <int L>
using Bfloat16V = RoundedFmaV<L, round_bfloat16>;

}  // namespace

bool gemm_float_avx2_supported() {
  return cpu::avx2() && cpu::fma() && cpu::f16c();
}

void gemm_float_avx2(AccPolicy policy, const DotSchedule& s, const GemmFloat& g) {
  if (s.order == SumOrder::TensorCore) {
    // The tensor-core model aligns a whole block at once and has no vector form here: the
    // scalar kernel computes the same columns, which is trivially bit-identical.
    GemmFloat head = g;
    head.N = g.N - g.N % 8;
    return gemm_float_scalar(policy, s, head);
  }
  switch (policy) {
    case AccPolicy::Binary16Fma: return run<Binary16V>(s, g);
    case AccPolicy::Bfloat16Fma: return run<Bfloat16V>(s, g);
    case AccPolicy::Binary32Fma: return run<Binary32FmaV>(s, g);
  }
}

}  // namespace fpaudit::kernels
