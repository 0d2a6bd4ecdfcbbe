// The AVX-512 path of ChainArithmetic::round_storage, declared apart so that the file compiled
// with -mavx512f includes nothing whose inline functions another file could end up sharing.
#pragma once

#include <cstddef>

namespace fpaudit {

/// The formats it rounds to, numbered as ChainArithmetic::FastFormat.
enum class VectorRoundFormat : int { Binary16 = 0, Bfloat16 = 1, Binary32 = 2 };

/// round_fast on values[0, k) in place, 8 at a time, for the largest k (a multiple of 8)
/// before the first vector holding a NaN or an infinity; returns k. Only call when the CPU has
/// AVX-512F.
std::size_t round_storage_avx512(VectorRoundFormat to, double* values, std::size_t n);

/// y[i] = fma_fast(to, x[i·incx], s[i·incs], t[i·inct]) for i < k, 8 at a time, for the largest
/// k (a multiple of 8) before the first vector with an operand that is not a finite binary32
/// value or a result that is not finite; returns k. Increments are 0 (one value for every
/// element) or 1. Only call when the CPU has AVX-512F. y may be one of the operands.
std::size_t fma_lanes_avx512(VectorRoundFormat to, const double* x, std::ptrdiff_t incx, const double* s,
                             std::ptrdiff_t incs, const double* t, std::ptrdiff_t inct, double* y, std::size_t n);

/// y[i] = round_fast(to, x[i·incx] / w[i·incw]) (ChainArithmetic::div's fast path) for i < k, 8
/// at a time, for the largest k (a multiple of 8) before the first vector with an operand that
/// is not a finite binary32 value, a zero divisor or a result that is not finite; returns k.
/// Increments 0 or 1. Only call when the CPU has AVX-512F. y may be one of the operands.
std::size_t div_lanes_avx512(VectorRoundFormat to, const double* x, std::ptrdiff_t incx, const double* w,
                             std::ptrdiff_t incw, double* y, std::size_t n);

}  // namespace fpaudit
