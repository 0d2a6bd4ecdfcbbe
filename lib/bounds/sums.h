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
#include "bounds/sum_constants.h"
#include "bounds/transfer.h"

namespace fpaudit::bounds {

struct SumError {
  double det = 0;        ///< deterministic bound on |ŝ - Σ t_i|
  double prob = 0;       ///< probabilistic bound (≤ det)
  double failure = 0;    ///< probability that `prob` fails for this sum (0 when prob = det)
  double magnitude = 0;  ///< a bound on |ŝ|: S + det
};

/// S must already be an upper bound of Σ|t_i| (computed with safe_sum()).
SumError sum_error(const ArithmeticModel& m, long n, double S, double lambda);

/// The constants sum_error uses for n terms (unused for exact sums; none for n ≤ 0).
inline SumConstants sum_error_constants(const ArithmeticModel& m, long n, double lambda) {
  return n <= 0 || m.exact_sums ? SumConstants{} : sum_constants(m.schedule, n, m.u_sum, m.eta_sum, lambda);
}

/// sum_error with its constants `c` = sum_error_constants(m, n, λ) supplied: the one definition
/// of the per-sum arithmetic, inline for the rules that bound many sums of one length (a GEMM's
/// outputs) without looking the constants up per element. `signed_bound`, where given, is the
/// signed-partial-sum bound of the same sum (bounds/signed_sums.h): the probabilistic bound is
/// the smaller of the two, both failing with at most `c.failure`.
inline SumError sum_error(const ArithmeticModel& m, long n, const SumConstants& c, double S,
                          double signed_bound = __builtin_inf()) {
  SumError r;
  if (n <= 0) return r;
  if (m.exact_sums) {
    // One rounding of the exact sum into binary64.
    r.det = r.prob = m.storage.error(S);
  } else {
    // Theorem 1 for the IEEE schedules, the tensor-core rule for tensor-core blocks; one product
    // of the upper bound S (theory/bounds-arithmetic.md §1(a)).
    r.det = safe_sum(c.gamma * S + c.eta, 4, 1);
    r.prob = safe_sum(c.gamma_prob * S + c.eta, 4, 1);
    if (signed_bound < r.prob) r.prob = signed_bound;
    r.failure = c.failure;
    if (m.sum_rounded_to_storage) {
      // The finished sum, |ŝ| ≤ S + det, is rounded into binary64 once more (mpfr:BITS).
      const double last = m.storage.error(up(S + r.det));
      r.det = up(r.det + last);
      r.prob = up(r.prob + last);
    }
  }
  r.magnitude = up(S + r.det);
  // Every partial sum is at most S(1+u)^d + nη ≤ magnitude: below the accumulator's largest finite
  // value nothing overflows. Beyond, a partial sum may overflow and the theorem says nothing.
  if (!m.acc.saturates && !(r.magnitude < m.acc.max_finite)) {
    r.det = r.prob = r.magnitude = __builtin_inf();
    r.failure = 0;
  }
  return r;
}

}  // namespace fpaudit::bounds
