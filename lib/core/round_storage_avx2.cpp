// ChainArithmetic's whole-tensor rounding, FMA and division lanes for CPUs with AVX2 but not
// AVX-512: round_storage_avx512.cpp's steps on 4 binary64 values per vector (round_fast:
// binary64 → binary32 rounded to odd → the format), lane by lane. Compiled with
// -mavx2 -mfma -mf16c (lib/CMakeLists.txt) and entered only after a run-time CPU check; vectors
// an operand or a result of which the scalar fast path would decline are left to the caller.
#include "core/round_storage_avx2.h"

#include <immintrin.h>

#include <cmath>

namespace fpaudit {

namespace {

__m256d abs(__m256d x) { return _mm256_and_pd(x, _mm256_castsi256_pd(_mm256_set1_epi64x(0x7FFFFFFFFFFFFFFF))); }

/// A 64-bit lane mask (all ones or zeros per lane) as 4 32-bit lanes, for the binary32 results.
__m128i narrow_mask(__m256d m) {
  return _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(_mm256_castpd_si256(m), _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7)));
}

/// binary64 → binary32 rounded to odd (bf16::double_to_float_odd), 4 finite lanes: round to
/// nearest, and where that was inexact, step back toward zero if it rounded away, and set the
/// last bit. A lane that overflowed to ±Inf stays there, as in the scalar code.
__m128 to_float_odd(__m256d x) {
  const __m128 f = _mm256_cvtpd_ps(x);
  const __m256d back = _mm256_cvtps_pd(f);
  const __m256d inexact = _mm256_cmp_pd(back, x, _CMP_NEQ_UQ);
  const __m256d finite = _mm256_cmp_pd(abs(back), _mm256_set1_pd(INFINITY), _CMP_LT_OQ);
  const __m256d above = _mm256_cmp_pd(abs(back), abs(x), _CMP_GT_OQ);
  const __m128i one = _mm_set1_epi32(1);
  const __m128i odd = narrow_mask(_mm256_and_pd(inexact, finite));
  const __m128i down = narrow_mask(_mm256_and_pd(above, _mm256_and_pd(inexact, finite)));
  __m128i b = _mm_castps_si128(f);
  b = _mm_sub_epi32(b, _mm_and_si128(down, one));
  b = _mm_or_si128(b, _mm_and_si128(odd, one));
  return _mm_castsi128_ps(b);
}

/// bf16::round_f on 4 finite lanes.
__m128 round_bfloat16(__m128 x) {
  const __m128i u = _mm_castps_si128(x);
  const __m128i lsb = _mm_and_si128(_mm_srli_epi32(u, 16), _mm_set1_epi32(1));
  return _mm_castsi128_ps(
      _mm_and_si128(_mm_add_epi32(_mm_add_epi32(u, _mm_set1_epi32(0x7FFF)), lsb), _mm_set1_epi32(static_cast<int>(0xFFFF0000u))));
}

/// round_fast on 4 finite lanes (a lane may overflow to ±Inf).
__m256d round_lanes(VectorRoundFormat to, __m256d x) {
  __m128 f;
  switch (to) {
    case VectorRoundFormat::Binary16:
      f = _mm_cvtph_ps(_mm_cvtps_ph(to_float_odd(x), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
      break;
    case VectorRoundFormat::Bfloat16: f = round_bfloat16(to_float_odd(x)); break;
    default: f = _mm256_cvtpd_ps(x); break;  // binary32; IEEE: correctly rounded
  }
  return _mm256_cvtps_pd(f);
}

bool all_finite(__m256d x) { return _mm256_movemask_pd(_mm256_cmp_pd(abs(x), _mm256_set1_pd(INFINITY), _CMP_LT_OQ)) == 0xF; }

/// 4 operands from p + i, or p's one value in every lane when the increment is 0.
__m256d operand_lanes(const double* p, std::ptrdiff_t inc, std::size_t i) {
  return inc == 0 ? _mm256_set1_pd(*p) : _mm256_loadu_pd(p + i);
}

/// The lanes holding a binary32 value (±Inf included; NaN fails the comparison), as 4 bits.
int binary32_lanes(__m256d v) { return _mm256_movemask_pd(_mm256_cmp_pd(_mm256_cvtps_pd(_mm256_cvtpd_ps(v)), v, _CMP_EQ_OQ)); }

/// fma_lanes_avx2 into binary32 itself: one binary32 FMA per lane (see fma_binary32_lanes in
/// round_storage_avx512.cpp for why that is the same value).
std::size_t fma_binary32_lanes(const double* x, std::ptrdiff_t incx, const double* s, std::ptrdiff_t incs, const double* t,
                               std::ptrdiff_t inct, double* y, std::size_t n) {
  std::size_t i = 0;
  if (incs == 0 && binary32_lanes(_mm256_set1_pd(*s)) != 0xF) return 0;
  if (inct == 0 && binary32_lanes(_mm256_set1_pd(*t)) != 0xF) return 0;
  const __m128 a0 = _mm_set1_ps(static_cast<float>(*s)), c0 = _mm_set1_ps(static_cast<float>(*t));
  for (; i + 4 <= n; i += 4) {
    const __m256d v = operand_lanes(x, incx, i);
    int ok = binary32_lanes(v);
    __m128 a = a0, c = c0;
    if (incs != 0) {
      const __m256d d = _mm256_loadu_pd(s + i);
      ok &= binary32_lanes(d);
      a = _mm256_cvtpd_ps(d);
    }
    if (inct != 0) {
      const __m256d d = _mm256_loadu_pd(t + i);
      ok &= binary32_lanes(d);
      c = _mm256_cvtpd_ps(d);
    }
    if (ok != 0xF) break;
    const __m256d r = _mm256_cvtps_pd(_mm_fmadd_ps(_mm256_cvtpd_ps(v), a, c));
    if (!all_finite(r)) break;  // overflow: lib/format decides, in the caller
    _mm256_storeu_pd(y + i, r);
  }
  return i;
}

}  // namespace

std::size_t round_storage_avx2(VectorRoundFormat to, double* values, std::size_t n) {
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256d x = _mm256_loadu_pd(values + i);
    if (!all_finite(x)) break;  // NaN or Inf: the caller's
    _mm256_storeu_pd(values + i, round_lanes(to, x));
  }
  return i;
}

std::size_t fma_lanes_avx2(VectorRoundFormat to, const double* x, std::ptrdiff_t incx, const double* s, std::ptrdiff_t incs,
                           const double* t, std::ptrdiff_t inct, double* y, std::size_t n) {
  if (to == VectorRoundFormat::Binary32) return fma_binary32_lanes(x, incx, s, incs, t, inct, y, n);
  const __m256d zero = _mm256_setzero_pd();
  const __m256i one = _mm256_set1_epi64x(1);
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256d v = operand_lanes(x, incx, i), a = operand_lanes(s, incs, i), c = operand_lanes(t, inct, i);
    // Binary32 operands only (the scalar fast path's condition): NaN fails the comparison; an
    // Inf passes it and is declined below, where the result is not finite.
    if ((binary32_lanes(v) & binary32_lanes(a) & binary32_lanes(c)) != 0xF) break;
    // fma_fast lane by lane: the product is exact (24 + 24 bits), TwoSum gives the sum's exact
    // residual, and round_to_odd53 moves an inexact sum toward the exact value, last bit set.
    const __m256d p = _mm256_mul_pd(v, a);
    const __m256d sum = _mm256_add_pd(p, c);
    const __m256d bb = _mm256_sub_pd(sum, p);
    const __m256d err = _mm256_add_pd(_mm256_sub_pd(p, _mm256_sub_pd(sum, bb)), _mm256_sub_pd(c, bb));
    const __m256d inexact = _mm256_cmp_pd(err, zero, _CMP_NEQ_OQ);
    const __m256d below = _mm256_xor_pd(_mm256_cmp_pd(err, zero, _CMP_LT_OQ), _mm256_cmp_pd(sum, zero, _CMP_LT_OQ));
    __m256i b = _mm256_castpd_si256(sum);
    b = _mm256_sub_epi64(b, _mm256_and_si256(_mm256_castpd_si256(_mm256_and_pd(inexact, below)), one));
    b = _mm256_or_si256(b, _mm256_and_si256(_mm256_castpd_si256(inexact), one));
    const __m256d r = round_lanes(to, _mm256_castsi256_pd(b));
    if (!all_finite(r)) break;  // overflow: lib/format decides, in the caller
    _mm256_storeu_pd(y + i, r);
  }
  return i;
}

std::size_t div_lanes_avx2(VectorRoundFormat to, const double* x, std::ptrdiff_t incx, const double* w, std::ptrdiff_t incw,
                           double* y, std::size_t n) {
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256d a = operand_lanes(x, incx, i), b = operand_lanes(w, incw, i);
    // The scalar fast path's conditions: binary32 operands (NaN fails; ±Inf is declined below
    // unless the quotient is finite, as in div), a nonzero divisor.
    const int nonzero = _mm256_movemask_pd(_mm256_cmp_pd(b, _mm256_setzero_pd(), _CMP_NEQ_OQ));
    if ((binary32_lanes(a) & binary32_lanes(b) & nonzero) != 0xF) break;
    // The binary64 quotient is correctly rounded (IEEE); round_lanes is round_fast lane by lane.
    const __m256d r = round_lanes(to, _mm256_div_pd(a, b));
    if (!all_finite(r)) break;
    _mm256_storeu_pd(y + i, r);
  }
  return i;
}

}  // namespace fpaudit
