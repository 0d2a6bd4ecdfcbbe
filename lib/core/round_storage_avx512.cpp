// ChainArithmetic::round_storage for whole tensors, 8 binary64 values per AVX-512 vector: the
// scalar path's steps (round_fast: binary64 → binary32 rounded to odd → the format) lane by
// lane. Compiled with -mavx512f (lib/CMakeLists.txt) and entered only after a run-time CPU
// check; vectors holding a non-finite value are left to the caller's scalar path.
#include "core/round_storage_avx512.h"

// GCC 12's AVX-512 headers build several intrinsics on _mm512_undefined_*(), which its own
// -Wmaybe-uninitialized then reports at every use: a false positive of the headers.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <immintrin.h>

#include <cmath>

namespace fpaudit {

namespace {

/// binary64 → binary32 rounded to odd (bf16::double_to_float_odd), 8 finite lanes: round to
/// nearest, and where that was inexact, truncate toward zero and set the last bit. A lane
/// that overflowed to ±Inf stays there, as in the scalar code.
__m512d abs(__m512d x) {
  return _mm512_castsi512_pd(_mm512_and_si512(_mm512_castpd_si512(x), _mm512_set1_epi64(0x7FFFFFFFFFFFFFFF)));
}

__m256 to_float_odd(__m512d x) {
  const __m256 f = _mm512_cvtpd_ps(x);
  const __m512d back = _mm512_cvtps_pd(f);
  const __mmask8 inexact = _mm512_cmp_pd_mask(back, x, _CMP_NEQ_UQ);
  const __mmask8 finite = _mm512_cmp_pd_mask(abs(back), _mm512_set1_pd(INFINITY), _CMP_LT_OQ);
  const __mmask8 above = _mm512_cmp_pd_mask(abs(back), abs(x), _CMP_GT_OQ);
  // The 8 binary32 results in the low half of a 512-bit vector, for the AVX-512F masked ops.
  __m512i b = _mm512_zextsi256_si512(_mm256_castps_si256(f));
  b = _mm512_mask_sub_epi32(b, above & inexact & finite, b, _mm512_set1_epi32(1));
  b = _mm512_mask_or_epi32(b, inexact & finite, b, _mm512_set1_epi32(1));
  return _mm256_castsi256_ps(_mm512_castsi512_si256(b));
}

/// bf16::round_f on 8 finite lanes.
__m256 round_bfloat16(__m256 x) {
  const __m256i u = _mm256_castps_si256(x);
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
  return _mm256_castsi256_ps(_mm256_and_si256(_mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7FFF)), lsb),
                                              _mm256_set1_epi32(static_cast<int>(0xFFFF0000u))));
}


/// round_fast on 8 finite lanes (a lane may overflow to ±Inf).
__m512d round_lanes(VectorRoundFormat to, __m512d x) {
  __m256 f;
  switch (to) {
    case VectorRoundFormat::Binary16:
      // The 512-bit conversions (AVX-512F; the 256-bit ones are F16C), on the low 8 lanes.
      f = _mm512_castps512_ps256(_mm512_maskz_cvtph_ps(
          0xFFFF, _mm512_maskz_cvtps_ph(0xFFFF, _mm512_zextps256_ps512(to_float_odd(x)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)));
      break;
    case VectorRoundFormat::Bfloat16: f = round_bfloat16(to_float_odd(x)); break;
    default: f = _mm512_cvtpd_ps(x); break;  // binary32; IEEE: correctly rounded
  }
  return _mm512_cvtps_pd(f);
}

__mmask8 finite_lanes(__m512d x) { return _mm512_cmp_pd_mask(abs(x), _mm512_set1_pd(INFINITY), _CMP_LT_OQ); }

/// 8 operands from p + i, or p's one value in every lane when the increment is 0.
__m512d operand_lanes(const double* p, std::ptrdiff_t inc, std::size_t i) {
  return inc == 0 ? _mm512_set1_pd(*p) : _mm512_loadu_pd(p + i);
}

/// The lanes holding a binary32 value (±Inf included; NaN fails the comparison).
__mmask8 binary32_lanes(__m512d v) { return _mm512_cmp_pd_mask(_mm512_cvtps_pd(_mm512_cvtpd_ps(v)), v, _CMP_EQ_OQ); }

/// fma_lanes_avx512 into binary32 itself: one binary32 FMA per lane rounds the exact x·s + t
/// once, to nearest, which is what rounding it to odd at 53 bits and then to 24 bits gives
/// (53 ≥ 24 + 2), subnormal results included; three times fewer operations than the general
/// path. A broadcast operand (increment 0, BatchNormalization's scale and shift) is checked once.
std::size_t fma_binary32_lanes(const double* x, std::ptrdiff_t incx, const double* s, std::ptrdiff_t incs, const double* t,
                               std::ptrdiff_t inct, double* y, std::size_t n) {
  std::size_t i = 0;
  if (incs == 0 && binary32_lanes(_mm512_set1_pd(*s)) != 0xFF) return 0;
  if (inct == 0 && binary32_lanes(_mm512_set1_pd(*t)) != 0xFF) return 0;
  auto wide = [](__m512d d) { return _mm512_zextps256_ps512(_mm512_cvtpd_ps(d)); };
  const __m512 a0 = wide(_mm512_set1_pd(*s)), c0 = wide(_mm512_set1_pd(*t));
  for (; i + 8 <= n; i += 8) {
    const __m512d v = operand_lanes(x, incx, i);
    __mmask8 ok = binary32_lanes(v);
    __m512 a = a0, c = c0;
    if (incs != 0) {
      const __m512d d = _mm512_loadu_pd(s + i);
      ok &= binary32_lanes(d);
      a = wide(d);
    }
    if (inct != 0) {
      const __m512d d = _mm512_loadu_pd(t + i);
      ok &= binary32_lanes(d);
      c = wide(d);
    }
    if (ok != 0xFF) break;
    const __m512d r = _mm512_cvtps_pd(_mm512_castps512_ps256(_mm512_fmadd_ps(wide(v), a, c)));
    if (finite_lanes(r) != 0xFF) break;  // overflow: lib/format decides, in the caller
    _mm512_storeu_pd(y + i, r);
  }
  return i;
}

}  // namespace

std::size_t round_storage_avx512(VectorRoundFormat to, double* values, std::size_t n) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m512d x = _mm512_loadu_pd(values + i);
    if (finite_lanes(x) != 0xFF) break;  // NaN or Inf: the caller's
    _mm512_storeu_pd(values + i, round_lanes(to, x));
  }
  return i;
}

std::size_t fma_lanes_avx512(VectorRoundFormat to, const double* x, std::ptrdiff_t incx, const double* s,
                             std::ptrdiff_t incs, const double* t, std::ptrdiff_t inct, double* y, std::size_t n) {
  const __m512d zero = _mm512_setzero_pd();
  std::size_t i = 0;
  if (to == VectorRoundFormat::Binary32) return fma_binary32_lanes(x, incx, s, incs, t, inct, y, n);
  for (; i + 8 <= n; i += 8) {
    const __m512d v = operand_lanes(x, incx, i), a = operand_lanes(s, incs, i), c = operand_lanes(t, inct, i);
    // Binary32 operands only (the scalar fast path's condition): NaN fails the comparison; an
    // Inf passes it and is declined below, where the result is not finite.
    if ((binary32_lanes(v) & binary32_lanes(a) & binary32_lanes(c)) != 0xFF) break;
    // fma_fast lane by lane: the product is exact (24 + 24 bits), TwoSum gives the sum's exact
    // residual, and round_to_odd53 moves an inexact sum toward the exact value, last bit set.
    const __m512d p = _mm512_mul_pd(v, a);
    const __m512d sum = _mm512_add_pd(p, c);
    const __m512d bb = _mm512_sub_pd(sum, p);
    const __m512d err = _mm512_add_pd(_mm512_sub_pd(p, _mm512_sub_pd(sum, bb)), _mm512_sub_pd(c, bb));
    const __mmask8 inexact = _mm512_cmp_pd_mask(err, zero, _CMP_NEQ_OQ);
    const __mmask8 below = _mm512_cmp_pd_mask(err, zero, _CMP_LT_OQ) ^ _mm512_cmp_pd_mask(sum, zero, _CMP_LT_OQ);
    __m512i b = _mm512_castpd_si512(sum);
    b = _mm512_mask_sub_epi64(b, inexact & below, b, _mm512_set1_epi64(1));
    b = _mm512_mask_or_epi64(b, inexact, b, _mm512_set1_epi64(1));
    const __m512d r = round_lanes(to, _mm512_castsi512_pd(b));
    if (finite_lanes(r) != 0xFF) break;  // overflow: lib/format decides, in the caller
    _mm512_storeu_pd(y + i, r);
  }
  return i;
}

std::size_t div_lanes_avx512(VectorRoundFormat to, const double* x, std::ptrdiff_t incx, const double* w,
                             std::ptrdiff_t incw, double* y, std::size_t n) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m512d a = operand_lanes(x, incx, i), b = operand_lanes(w, incw, i);
    // The scalar fast path's conditions: binary32 operands (NaN fails; ±Inf is declined below
    // unless the quotient is finite, as in div), a nonzero divisor.
    const __mmask8 nonzero = _mm512_cmp_pd_mask(b, _mm512_setzero_pd(), _CMP_NEQ_OQ);
    if ((binary32_lanes(a) & binary32_lanes(b) & nonzero) != 0xFF) break;
    // The binary64 quotient is correctly rounded (IEEE); round_lanes is round_fast lane by lane.
    const __m512d r = round_lanes(to, _mm512_div_pd(a, b));
    if (finite_lanes(r) != 0xFF) break;
    _mm512_storeu_pd(y + i, r);
  }
  return i;
}

}  // namespace fpaudit
