// Bound rules of the reductions: ReduceSum, ReduceMean, AveragePool, GlobalAveragePool (a sum by
// the chain's schedule, then a rounding or a division) and Resize's linear interpolation (a dot
// product with weights rounded into storage). theory/reductions.md proves them.
#pragma once

#include <cstdint>

#include "bounds/transfer.h"

namespace fpaudit::bounds {

/// What a reduction does with its sum ŝ (Arithmetic::sum, in A by the schedule):
///   divide = false: y = ŝ rounded into storage (ReduceSum; no rounding when S = A)
///   divide = true:  y = round_S(ŝ / divisor)        (ReduceMean and the average pools)
struct ReductionFinish {
  bool divide = false;
  double divisor = 1;
};

/// Bounds of one output.
struct ElementBound {
  double det = 0, prob = 0;  ///< prob ≤ det
  double failure = 0;  ///< failure probability of `prob`
};

/// One reduction output over the terms x[offset + terms[k]] (k < n) of an enclosure:
///   |y - Σx̄/c| ≤ (sum error + Σ E_k)/c + u_S·|ŝ|/c + η_S       (c = divisor, or 1)
ElementBound reduction_bound(const ArithmeticModel& m, double lambda, const Enclosure& x, long offset,
                             const std::int64_t* terms, long n, ReductionFinish finish);

/// One dot product Σ_k a[a_terms[k]]·b[b_terms[k]] over two enclosures, summed by the chain's
/// schedule in A and rounded into storage (Einsum with two operands): the dot-product rule of
/// theory/dot-product.md (Theorem 2 without bias), with the operands read through offset lists
/// instead of strides.
ElementBound gathered_dot_bound(const ArithmeticModel& m, double lambda, const Enclosure& a, const std::int64_t* a_terms,
                                const Enclosure& b, const std::int64_t* b_terms, long n);

/// Resize (linear): y = round_S(Σ_k ĉ_k·x_k) over x[offset + terms[k]], ĉ_k = round_S(c_k) with
/// c_k the binary64 weights the kernel prepared (the exact network's weights).
ElementBound interpolation_bound(const ArithmeticModel& m, double lambda, const Enclosure& x, const std::int64_t* terms,
                                 const double* weights, long n);

}  // namespace fpaudit::bounds
