// Exact dot products and sums, rounded once: the reference chain's linear algebra.
//
// Every function computes the exact real value of Σ x_i·w_i + bias (or Σ x_i) for any finite
// binary64 inputs (massive cancellation, the whole exponent range, subnormals, products that
// underflow or overflow binary64) and rounds it once, correctly, to nearest binary64 (ties to
// even, gradual underflow, overflow to ±Inf). NaN and Inf inputs give the IEEE 754 result of
// the exact operation: NaN for any NaN, 0·Inf or Inf - Inf, else the infinity.
//
// How: an error-free floating-point pass (TwoProd/TwoSum, vectorised for AVX2/AVX-512 when the
// CPU has them) with a certificate that proves when its compensated result is the correctly
// rounded one; when the certificate cannot decide, an exact long accumulator recomputes it.
// Either way the bits are the same, whatever the CPU, the path or the order of the data.
// Proofs: theory/reference-arithmetic.md. Thread-safe: no shared mutable state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "exact/certified.h"

namespace fpaudit::exact {

/// Σ x_i·w_i + bias correctly rounded to nearest. x and w must have the same size
/// (std::invalid_argument otherwise).
double dot(std::span<const double> x, std::span<const double> w, double bias = 0.0);
/// Binary32 weights (widened exactly): the product x_i·w_i is still split exactly.
double dot(std::span<const double> x, std::span<const float> w, double bias = 0.0);
/// Binary32 × binary32: every product is exact in binary64, the fastest path.
double dot(std::span<const float> x, std::span<const float> w, double bias = 0.0);
/// Strided operands: element i is x[i·incx] and w[i·incw] (any sign, including 0).
double dot_strided(const double* x, std::ptrdiff_t incx, const double* w, std::ptrdiff_t incw, std::size_t n,
                   double bias);
/// Σ x_i correctly rounded to nearest (+0 for an empty span).
double sum(std::span<const double> x);

/// The same values with their certified error bounds (0 when the result is exact).
Certified dot_certified(std::span<const double> x, std::span<const double> w, double bias = 0.0);
Certified dot_certified(std::span<const double> x, std::span<const float> w, double bias = 0.0);
Certified dot_certified(std::span<const float> x, std::span<const float> w, double bias = 0.0);
Certified dot_strided_certified(const double* x, std::ptrdiff_t incx, const double* w, std::ptrdiff_t incw,
                                std::size_t n, double bias);
Certified sum_certified(std::span<const double> x);

/// How the calls of this thread were decided: by the certificate on the fast pass, by its
/// second chance (the error terms summed exactly), or by the exact accumulator after both
/// declined. For tests and benchmarks.
struct DotPathCounts {
  std::uint64_t certified = 0;
  std::uint64_t second_chance = 0;
  std::uint64_t fallback = 0;
};
DotPathCounts dot_path_counts();
void reset_dot_path_counts();

}  // namespace fpaudit::exact
