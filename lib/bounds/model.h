// What the bounds need to know about an arithmetic: unit roundoffs, underflow terms, schedule.
// Derived once from an Arithmetic (lib/kernels/arithmetic.h), so the bounds read the very
// formats and schedule the kernels run.
#pragma once

#include "kernels/arithmetic.h"

namespace fpaudit::bounds {

struct ArithmeticModel {
  double u_storage = 0;      ///< unit roundoff of rounding into storage (0: no rounding)
  double u_acc = 0;          ///< unit roundoff of each accumulation step (0: exact sums)
  double eta_storage = 0;    ///< absolute error one rounding into storage can add by underflow
  double eta_acc = 0;        ///< the same for the accumulation format
  double max_storage = 0;    ///< largest finite storage value (overflow is an event, not an error)
  DotSchedule schedule;      ///< summation order of sums and dot products
  bool exact_sums = false;   ///< sums and dot products exact, rounded once into storage (reference)
  /// Relative error of the binary64 libm functions (exp, log, tanh, erf, ...) that elementwise
  /// operators round from: glibc documents at most 2 ulps for them; 2·2^-52 is assumed.
  double libm_rel = 0;

  static ArithmeticModel of(const Arithmetic& a);
};

/// γ_k(u) = k·u / (1 - k·u), +Inf when k·u ≥ 1 (Higham, Accuracy and Stability, Lemma 3.1).
double gamma(long k, double u);
/// γ̃_k(λ, u) = exp(λ·√k·u + k·u²/(1-u)) - 1: Higham & Mary's probabilistic constant.
double gamma_probabilistic(long k, double u, double lambda);
/// The probability that the probabilistic bound of a sum of depth k fails, per element:
/// at most 2k·exp(-λ²(1-u)²/2) (Higham & Mary 2019, Theorem 2.4 as applied to a sum); capped at 1.
double probabilistic_failure(long k, double u, double lambda);

}  // namespace fpaudit::bounds
