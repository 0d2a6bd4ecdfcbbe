// What one layer's rounding errors contribute to the Azuma–Hoeffding form of the margin bound
// (theory/margin-bound-azuma.md). For a layer whose every output is one sum of products with
// constants plus a bias (Gemm, Conv), the rounding error of output i at the chain's own input is
// exactly Σ_m (δ_m·z_m + ε_m) over the roundings m of that output (z_m the exact value rounded,
// |δ_m| ≤ u_m, |ε_m| ≤ η_m). Over an input box, per output:
//     q_i ≥ Σ_m (u_m·sup|z_m|)²      (what enters the martingale's variance proxy)
//     h_i ≥ Σ_m η_m                  (the underflow terms, charged deterministically)
#pragma once

#include <span>
#include <vector>

#include "bounds/model.h"
#include "shadow/margin/backward.h"

namespace fpaudit::margin {

struct AzumaLocal {
  std::vector<double> q, h;
  /// Outputs whose q is Lemma 2′'s (signed partial sums): each relies on one more event, the
  /// signed-sum event of its own sum (theory/probabilistic-signed.md, Theorem 1), which fails
  /// with probability at most 2·exp(−λ²/2).
  long signed_events = 0;
};

/// q and h of `step`'s outputs for every input in the box [mid ± rad] and the chain's rounded
/// constants; false when the layer or the arithmetic is not of the modelled form (the layer then
/// enters the bound with its elementwise local bound). With the box's ends lo ≤ hi (the same
/// box, or null) and λ > 0, a sequential sum takes the smaller of Lemma 2's and Lemma 2′'s q.
bool azuma_local(const BackwardStep& step, const bounds::ArithmeticModel& m, const double* mid, const double* rad,
                 std::span<const Tensor* const> rounded, AzumaLocal& out, const Tensor* lo = nullptr,
                 const Tensor* hi = nullptr, double lambda = 0);

}  // namespace fpaudit::margin
