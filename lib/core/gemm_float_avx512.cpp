// AVX-512 version of gemm_float_scalar, the AVX2 kernel (gemm_float_avx2.cpp) at twice the
// width: the same accumulator steps and the same schedule (accumulate() from schedule.h) on 16
// output columns per vector, 4 rows × 4 vectors at a time (each step's rounding has a long
// latency: 16 independent accumulators hide it), and the columns that do not fill a vector
// under a mask instead of in scalar code, so every column of every row runs here. Compiled with
// -mavx512f (lib/CMakeLists.txt) and entered only after a run-time CPU check; it keeps to
// intrinsics and local types so no AVX-512 code leaks into functions other files share.
#include <immintrin.h>

#include <cmath>

#include "common/cpu_features.h"
#include "core/gemm_float.h"

namespace fpaudit::kernels {

namespace {

// Unmasked intrinsics that go through _mm512_undefined_*() trip GCC 12's -Wmaybe-uninitialized;
// their all-lanes maskz forms (mask 0xFFFF) are the same instructions.

constexpr int kWidth = 16;  // binary32 lanes per vector

// Every loop over rows and vectors carries `#pragma GCC unroll 16`: GCC's -O3 otherwise peels
// some of them instead of unrolling them whole, and the array of accumulators then lives on the
// stack, stored at every term (16 vector stores per 16 FMAs, the kernel's bottleneck).

/// R rows × L vectors of 16 binary32 lanes: R·L independent accumulators advancing together,
/// so that the latency of each rounded step is hidden behind the others.
template <int R, int L>
struct Lanes {
  __m512 v[R * L];
  static Lanes zeros() {
    Lanes z;
    #pragma GCC unroll 16
    for (int i = 0; i < R * L; ++i) z.v[i] = _mm512_setzero_ps();
    return z;
  }
};

template <int R, int L>
struct TermV {
  __m512 x[R];  // W[m + r][k], broadcast
  __m512 w[L];  // X[k][n .. n+16L)
};

__m512 two_sum_err(__m512 a, __m512 b, __m512 s) {
  const __m512 bb = _mm512_sub_ps(s, a);
  return _mm512_add_ps(_mm512_sub_ps(a, _mm512_sub_ps(s, bb)), _mm512_sub_ps(b, bb));
}

/// s + err rounded to odd at 24 bits, lane by lane (b16::round_to_odd24); lanes where s is
/// not finite are left alone, as the scalar code does.
inline __m512 round_to_odd24(__m512 s, __m512 err) {
  const __m512 abs_s = _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(s), _mm512_set1_epi32(0x7FFFFFFF)));
  const __mmask16 finite = _mm512_cmp_ps_mask(abs_s, _mm512_set1_ps(INFINITY), _CMP_LT_OQ);
  const __mmask16 inexact = _mm512_mask_cmp_ps_mask(finite, err, _mm512_setzero_ps(), _CMP_NEQ_UQ);
  const __m512i sb = _mm512_castps_si512(s);
  const __m512i differ = _mm512_maskz_srai_epi32(0xFFFF, _mm512_xor_si512(sb, _mm512_castps_si512(err)), 31);  // -1 if signs differ
  const __m512i odd = _mm512_or_si512(_mm512_add_epi32(sb, differ), _mm512_set1_epi32(1));
  return _mm512_mask_blend_ps(inexact, s, _mm512_castsi512_ps(odd));
}

inline __m512 round_binary16(__m512 x) {
  return _mm512_maskz_cvtph_ps(0xFFFF, _mm512_maskz_cvtps_ph(0xFFFF, x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

/// bf16::round_f on 16 lanes: integer rounding of the bit pattern; NaNs are quieted.
inline __m512 round_bfloat16(__m512 x) {
  const __m512i u = _mm512_castps_si512(x);
  const __m512i lsb = _mm512_and_si512(_mm512_maskz_srli_epi32(0xFFFF, u, 16), _mm512_set1_epi32(1));
  const __m512i r = _mm512_and_si512(_mm512_add_epi32(_mm512_add_epi32(u, _mm512_set1_epi32(0x7FFF)), lsb),
                                     _mm512_set1_epi32(static_cast<int>(0xFFFF0000u)));
  const __mmask16 is_nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
  const __m512i quiet = _mm512_or_si512(u, _mm512_set1_epi32(0x00400000));
  return _mm512_castsi512_ps(_mm512_mask_blend_epi32(is_nan, r, quiet));
}

/// A "round once" accumulator on vectors: step = round(x·w + acc) with the product exact in
/// binary32 (binary16 and bfloat16 operands; the caller rules out products below 2^-126).
template <int R, int L, bool Binary16>
struct RoundedFmaV {
  using value = Lanes<R, L>;
  static __m512 round(__m512 x) { return Binary16 ? round_binary16(x) : round_bfloat16(x); }
  value zero() const { return value::zeros(); }
  [[gnu::always_inline]] void add(value& acc, const TermV<R, L>& t) const {
    #pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
      #pragma GCC unroll 16
      for (int l = 0; l < L; ++l) {
        __m512& a = acc.v[r * L + l];
        const __m512 p = _mm512_mul_ps(t.x[r], t.w[l]);
        const __m512 s = _mm512_add_ps(p, a);
        a = round(round_to_odd24(s, two_sum_err(p, a, s)));
      }
  }
  value step(value acc, const TermV<R, L>& t) const {
    add(acc, t);
    return acc;
  }
  value combine(value a, const value& b) const {
    #pragma GCC unroll 16
    for (int i = 0; i < R * L; ++i) {
      const __m512 s = _mm512_add_ps(a.v[i], b.v[i]);
      a.v[i] = round(round_to_odd24(s, two_sum_err(a.v[i], b.v[i], s)));
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
      for (int l = 0; l < L; ++l) acc.v[r * L + l] = _mm512_fmadd_ps(t.x[r], t.w[l], acc.v[r * L + l]);
  }
  value step(value acc, const TermV<R, L>& t) const {
    add(acc, t);
    return acc;
  }
  value combine(value a, const value& b) const {
    #pragma GCC unroll 16
    for (int i = 0; i < R * L; ++i) a.v[i] = _mm512_add_ps(a.v[i], b.v[i]);
    return a;
  }
};

/// Output columns [n0, n0 + 16L) of rows [m0, m0 + R); the last vector's lanes under `last`
/// (columns past N are read as 0 and never stored).
template <int R, int L, class A>
void block(const A& acc, const DotSchedule& s, const GemmFloat& g, long m0, long n0, __mmask16 last) {
  __mmask16 mask[L];
  #pragma GCC unroll 16
  for (int l = 0; l < L; ++l) mask[l] = l == L - 1 ? last : static_cast<__mmask16>(0xFFFF);
  // Everything the terms read, captured by value: held in registers for the whole loop (by
  // reference GCC reloaded K, X, ldx and the masks at every term).
  auto terms = [w = g.W + m0 * g.K, x = g.X + n0, K = g.K, ldx = g.ldx, mask](long k) {
    TermV<R, L> t;
    #pragma GCC unroll 16
    for (int r = 0; r < R; ++r) t.x[r] = _mm512_set1_ps(w[r * K + k]);
    const float* row = x + k * ldx;
    #pragma GCC unroll 16
    for (int l = 0; l < L; ++l) t.w[l] = _mm512_maskz_loadu_ps(mask[l], row + kWidth * l);
    return t;
  };
  // The sequential schedule (every fast chain's default) in place: through accumulate() the
  // running sum is a struct passed and returned by value, and GCC stores all of it to the stack
  // at every term (16 vector stores against 16 FMAs). The same steps in the same order.
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
      for (int l = 0; l < L; ++l) b.v[r * L + l] = _mm512_set1_ps(g.bias[m0 + r]);
    v = acc.combine(v, b);
  }
  #pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
    #pragma GCC unroll 16
    for (int l = 0; l < L; ++l) _mm512_mask_storeu_ps(g.Y + (m0 + r) * g.ldy + n0 + kWidth * l, mask[l], v.v[r * L + l]);
}

/// Columns [n0, n0 + 16L) of every row: rows in fours (4 rows × 4 vectors: 16 accumulators in
/// flight), on a single vector of columns (a batch of 16 through a Gemm, a late convolution's
/// 7×7 positions) in eights first (4 chains alone would wait on the FMA latency), then one at
/// a time.
template <int L, template <int, int> class Acc>
void panel(const DotSchedule& s, const GemmFloat& g, long n0, __mmask16 last) {
  long m = 0;
  if constexpr (L == 1)
    for (; m + 8 <= g.M; m += 8) block<8, 1>(Acc<8, 1>{}, s, g, m, n0, last);
  for (; m + 4 <= g.M; m += 4) block<4, L>(Acc<4, L>{}, s, g, m, n0, last);
  for (; m < g.M; ++m) block<1, L>(Acc<1, L>{}, s, g, m, n0, last);
}

/// Column panels outside, rows inside: a panel of X (K rows × 64 columns) stays in cache while
/// every row block reads it, which matters once N spans a batch of samples (rows outside
/// streamed all of X once per four rows). 64 columns at a time, then 16, the last few masked.
/// Every output is the same sum whichever block computes it first.
template <template <int, int> class Acc>
void run(const DotSchedule& s, const GemmFloat& g) {
  long n = 0;
  for (; n + 4 * kWidth <= g.N; n += 4 * kWidth) panel<4, Acc>(s, g, n, 0xFFFF);
  for (; n < g.N; n += kWidth) {
    const long left = g.N - n;
    panel<1, Acc>(s, g, n, static_cast<__mmask16>(left >= kWidth ? 0xFFFF : (1u << left) - 1));
  }
}

template <int R, int L>
using Binary16V = RoundedFmaV<R, L, true>;
template <int R, int L>
using Bfloat16V = RoundedFmaV<R, L, false>;

}  // namespace

bool gemm_float_avx512_supported() {
  return cpu::avx512f();
}

void gemm_float_avx512(AccPolicy policy, const DotSchedule& s, const GemmFloat& g) {
  // The tensor-core model has no vector form (as in the AVX2 kernel): the scalar kernel.
  if (s.order == SumOrder::TensorCore) return gemm_float_scalar(policy, s, g);
  switch (policy) {
    case AccPolicy::Binary16Fma: return run<Binary16V>(s, g);
    case AccPolicy::Bfloat16Fma: return run<Bfloat16V>(s, g);
    case AccPolicy::Binary32Fma: return run<Binary32FmaV>(s, g);
  }
}

}  // namespace fpaudit::kernels
