// The error of one sum or dot product as an Arithmetic evaluates it (Arithmetic::sum, ::dot and
// the GEMM core): the building block of every accumulating operator's rule (Gemm, MatMul, Conv,
// Softmax, normalisations, pools, reductions). theory/dot-product.md proves it.
//
// For n terms t_i (each an exact product x_i·w_i, or a value) with Σ|t_i| ≤ S, the computed ŝ
// of a chain satisfies, d = rounding_depth(schedule, n) and u = u_sum, η = eta_sum,
//     |ŝ - Σ t_i| ≤ ((1+u)^d - 1)·S + n·η·(1+u)^(d-1)                    (always)
//     |ŝ - Σ t_i| ≤ γ̃_d(λ)·S + n·η·(1+u)^(d-1)  with probability ≥ 1 - 2n·exp(-λ²(1-u)²/2)
// under the model of theory/probabilistic.md. References: an exact sum rounded once (exact), or
// steps at BITS bits then one rounding into binary64 (mpfr:BITS).
#pragma once

#include "bounds/model.h"

namespace fpaudit::bounds {

struct SumError {
  double det = 0;        ///< deterministic bound on |ŝ - Σ t_i|
  double prob = 0;       ///< probabilistic bound (≤ det)
  double failure = 0;    ///< probability that `prob` fails for this sum (0 when prob = det)
  double magnitude = 0;  ///< a bound on |ŝ|: S + det
};

/// S must already be an upper bound of Σ|t_i| (computed with safety()).
SumError sum_error(const ArithmeticModel& m, long n, double S, double lambda);

}  // namespace fpaudit::bounds
