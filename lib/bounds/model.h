// The constants of rounding-error analysis every bound rule uses (γ_k, its probabilistic
// counterpart), on top of the rounding model each Arithmetic reports (lib/core/rounding_model.h).
// theory/rounding-model.md states and proves the facts used.
#pragma once

#include "core/arithmetic.h"
#include "core/rounding_model.h"

namespace fpaudit::bounds {

/// γ_k(u) = k·u / (1 - k·u), +Inf when k·u ≥ 1 (Higham, Accuracy and Stability, Lemma 3.1).
/// Inline, so that the many call sites with a constant k fold it away.
inline double gamma(long k, double u) {
  const double ku = static_cast<double>(k) * u;
  return ku < 1 ? ku / (1 - ku) : __builtin_inf();
}
/// An upper bound on (1+u)^k - 1: the relative error of k roundings in a row. Finite for every
/// k, and at most γ_k(u) where that is finite (theory/rounding-model.md, Lemma 1).
double rounding_growth(long k, double u);
/// γ̃_k(λ, u) = exp(λ·√k·u + k·u²/(1-u)) - 1: Higham & Mary's probabilistic constant.
double gamma_probabilistic(long k, double u, double lambda);
/// The probability that the probabilistic bound of a sum of `terms` terms fails: at most
/// 2·terms·exp(-λ²(1-u)²/2) (Higham & Mary 2019, Theorem 2.4 and a union bound over the
/// terms; theory/probabilistic.md); capped at 1.
double probabilistic_failure(long terms, double u, double lambda);

}  // namespace fpaudit::bounds
