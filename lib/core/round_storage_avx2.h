// The AVX2 path of ChainArithmetic's whole-tensor rounding, FMA and division lanes: the same
// contracts as round_storage_avx512.h, 4 binary64 values per vector, for CPUs without AVX-512.
// Declared apart so that the file compiled with -mavx2 includes nothing whose inline functions
// another file could end up sharing.
#pragma once

#include <cstddef>

#include "core/round_storage_avx512.h"  // VectorRoundFormat

namespace fpaudit {

/// round_storage_avx512, 4 at a time: returns the largest k (a multiple of 4) before the first
/// vector holding a NaN or an infinity. Only call when the CPU has AVX2, FMA and F16C.
std::size_t round_storage_avx2(VectorRoundFormat to, double* values, std::size_t n);

/// fma_lanes_avx512, 4 at a time (the same conditions, k a multiple of 4). Only call when the CPU
/// has AVX2, FMA and F16C. y may be one of the operands.
std::size_t fma_lanes_avx2(VectorRoundFormat to, const double* x, std::ptrdiff_t incx, const double* s, std::ptrdiff_t incs,
                           const double* t, std::ptrdiff_t inct, double* y, std::size_t n);

/// div_lanes_avx512, 4 at a time (the same conditions, k a multiple of 4). Only call when the CPU
/// has AVX2, FMA and F16C. y may be one of the operands.
std::size_t div_lanes_avx2(VectorRoundFormat to, const double* x, std::ptrdiff_t incx, const double* w, std::ptrdiff_t incw,
                           double* y, std::size_t n);

}  // namespace fpaudit
