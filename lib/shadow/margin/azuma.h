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
};

/// q and h of `step`'s outputs for every input in the box [mid ± rad] and the chain's rounded
/// constants; false when the layer or the arithmetic is not of the modelled form (the layer then
/// enters the bound with its elementwise local bound).
bool azuma_local(const BackwardStep& step, const bounds::ArithmeticModel& m, const double* mid, const double* rad,
                 std::span<const Tensor* const> rounded, AzumaLocal& out);

}  // namespace fpaudit::margin
