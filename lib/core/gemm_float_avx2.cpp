// AVX2 version of gemm_float_scalar: the same accumulator steps and the same schedule
// (accumulate() from schedule.h), run on 8 output columns per vector, 4 rows × 2 vectors at a
// time so that independent accumulator chains hide each step's latency. Compiled with
// -mavx2 -mfma -mf16c (lib/CMakeLists.txt) and entered only after a run-time CPU check; it
// keeps to intrinsics and local types so no AVX2 code leaks into functions other files share.
#include <immintrin.h>

#include <cmath>

#include "common/cpu_features.h"
#include "core/gemm_float.h"

namespace fpaudit::kernels {

namespace {

// Every loop over rows and vectors carries `#pragma GCC unroll 16`: GCC's -O3 otherwise peels
// some of them instead of unrolling them whole, and the array of accumulators then lives on the
// stack, stored at every term (as gemm_float_avx512.cpp found).

/// R rows × L vectors of 8 binary32 lanes: R·L independent accumulators advancing together, so
/// that the latency of each step is hidden behind the others (8 fill AVX2's 16 registers with
/// the terms' operands).
template <int R, int L>
struct Lanes {
  __m256 v[R * L];
  static Lanes zeros() {
    Lanes z;
    #pragma GCC unroll 16
    for (int i = 0; i < R * L; ++i) z.v[i] = _mm256_setzero_ps();
    return z;
  }
};

template <int R, int L>
struct TermV {
  __m256 x[R];  // W[m + r][k], broadcast
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
template <int R, int L, __m256 (*RoundFn)(__m256)>
struct RoundedFmaV {
  using value = Lanes<R, L>;
  value zero() const { return value::zeros(); }
  [[gnu::always_inline]] void add(value& acc, const TermV<R, L>& t) const {
    #pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
      #pragma GCC unroll 16
      for (int l = 0; l < L; ++l) {
        __m256& a = acc.v[r * L + l];
        const __m256 p = _mm256_mul_ps(t.x[r], t.w[l]);
        const __m256 s = _mm256_add_ps(p, a);
        a = RoundFn(round_to_odd24(s, two_sum_err(p, a, s)));
      }
  }
  value step(value acc, const TermV<R, L>& t) const {
    add(acc, t);
    return acc;
  }
  value combine(value a, const value& b) const {
    #pragma GCC unroll 16
    for (int i = 0; i < R * L; ++i) {
      const __m256 s = _mm256_add_ps(a.v[i], b.v[i]);
      a.v[i] = RoundFn(round_to_odd24(s, two_sum_err(a.v[i], b.v[i], s)));
    }
    return a;
  }
};

template <int R, int L>
struct Binary32FmaV {
  using value = Lanes<R, L>;
  value zero() const { return value::zeros(); }
  [[gnu::always_inline]] void add(value& acc, const TermV<R, L>& t) const {
    #pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
      #pragma GCC unroll 16
      for (int l = 0; l < L; ++l) acc.v[r * L + l] = _mm256_fmadd_ps(t.x[r], t.w[l], acc.v[r * L + l]);
  }
  value step(value acc, const TermV<R, L>& t) const {
    add(acc, t);
    return acc;
  }
  value combine(value a, const value& b) const {
    #pragma GCC unroll 16
    for (int i = 0; i < R * L; ++i) a.v[i] = _mm256_add_ps(a.v[i], b.v[i]);
    return a;
  }
};

/// Output columns [n0, n0 + 8L) of rows [m0, m0 + R).
template <int R, int L, class A>
void block(const A& acc, const DotSchedule& s, const GemmFloat& g, long m0, long n0) {
  // Everything the terms read, captured by value: held in registers for the whole loop.
  auto terms = [w = g.W + m0 * g.K, x = g.X + n0, K = g.K, ldx = g.ldx](long k) {
    TermV<R, L> t;
    #pragma GCC unroll 16
    for (int r = 0; r < R; ++r) t.x[r] = _mm256_set1_ps(w[r * K + k]);
    const float* row = x + k * ldx;
    #pragma GCC unroll 16
    for (int l = 0; l < L; ++l) t.w[l] = _mm256_loadu_ps(row + 8 * l);
    return t;
  };
  // The sequential schedule (every fast chain's default) in place; any other through
  // accumulate(). The same steps in the same order either way.
  typename A::value v = acc.zero();
  if (s.order == SumOrder::Sequential) {
    const long K = g.K;
    for (long k = 0; k < K; ++k) acc.add(v, terms(k));
  } else {
    v = accumulate(acc, s, g.K, terms);
  }
  if (g.bias) {
    typename A::value b;
    #pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
      #pragma GCC unroll 16
      for (int l = 0; l < L; ++l) b.v[r * L + l] = _mm256_set1_ps(g.bias[m0 + r]);
    v = acc.combine(v, b);
  }
  #pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
    #pragma GCC unroll 16
    for (int l = 0; l < L; ++l) _mm256_storeu_ps(g.Y + (m0 + r) * g.ldy + n0 + 8 * l, v.v[r * L + l]);
}

/// Columns [n0, n0 + 8L) of every row: 4 rows × 2 vectors (8 accumulators) at a time, on a
/// single vector of columns 8 rows, then the rows left one at a time.
template <int L, template <int, int> class Acc>
void panel(const DotSchedule& s, const GemmFloat& g, long n0) {
  long m = 0;
  if constexpr (L == 1)
    for (; m + 8 <= g.M; m += 8) block<8, 1>(Acc<8, 1>{}, s, g, m, n0);
  for (; m + 4 <= g.M; m += 4) block<4, L>(Acc<4, L>{}, s, g, m, n0);
  for (; m < g.M; ++m) block<1, L>(Acc<1, L>{}, s, g, m, n0);
}

/// Every full group of 8 columns, in panels of 16 then 8 (column panels outside, rows inside:
/// a panel of X stays in cache while every row block reads it); the caller handles the
/// remaining N % 8. Every output is the same sum whichever block computes it.
template <template <int, int> class Acc>
void run(const DotSchedule& s, const GemmFloat& g) {
  long n = 0;
  for (; n + 16 <= g.N; n += 16) panel<2, Acc>(s, g, n);
  for (; n + 8 <= g.N; n += 8) panel<1, Acc>(s, g, n);
}

template <int R, int L>
using Binary16V = RoundedFmaV<R, L, round_binary16>;
template <int R, int L>
using Bfloat16V = RoundedFmaV<R, L, round_bfloat16>;

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
