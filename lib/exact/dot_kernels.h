// The error-free inner loops of the fast exact dot product, one set per instruction set,
// chosen at run time from what the CPU reports (the library itself is built for plain
// x86-64; the AVX2 and AVX-512 loops are compiled for those targets function by function).
//
// Each kernel adds its terms to a CompensatedSum without losing anything: products of two
// binary32 values are exact in binary64; other products are split exactly by the FMA
// (TwoProd, p + e = x·w) whenever 2^-969 < |p|, which the kernel checks lane by lane
// (below that, e may not be representable: theory/reference-arithmetic.md §2). A kernel
// returns false when some product escaped that range without being an exact zero; the
// caller then recomputes with ExactAccumulator. Products or sums that overflow, and NaN or
// Inf inputs, leave the sum non-finite, which the certificate refuses.
//
// All kernels give bit-identical final results (the correctly rounded one); they differ only
// in speed and in how often the certificate can decide.
#pragma once

#include <cstddef>
#include <string_view>

#include "exact/compensated_sum.h"

namespace fpaudit::exact::detail {

/// Below this, TwoProd's residual may be inexact (2^-1074 · 2^105).
inline constexpr double kTwoProdSafeMin = 0x1p-969;

/// Adds Σ x_i·w_i (i < n); false when a product could not be split exactly.
using DotF64Kernel = bool (*)(const double* x, const double* w, std::size_t n, CompensatedSum& acc);
using DotF64F32Kernel = bool (*)(const double* x, const float* w, std::size_t n, CompensatedSum& acc);
/// Products of binary32 values are always exact: these cannot fail.
using DotF32Kernel = void (*)(const float* x, const float* w, std::size_t n, CompensatedSum& acc);
using SumF64Kernel = void (*)(const double* x, std::size_t n, CompensatedSum& acc);

struct DotKernels {
  std::string_view isa;  ///< "scalar", "avx2" or "avx512"
  DotF64Kernel dot_f64;
  DotF64F32Kernel dot_f64_f32;
  DotF32Kernel dot_f32;
  SumF64Kernel sum_f64;
};

const DotKernels& scalar_kernels();
/// nullptr when the CPU lacks the instructions.
const DotKernels* avx2_kernels();
const DotKernels* avx512_kernels();

/// The fastest set this CPU supports, chosen once. FPAUDIT_EXACT_ISA=scalar|avx2|avx512 in
/// the environment forces a set (one the CPU supports), for tests and benchmarks.
const DotKernels& active_kernels();

}  // namespace fpaudit::exact::detail
