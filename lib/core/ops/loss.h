// What NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss work out at preparation, read by
// their kernels (lib/kernels/ops/loss.cpp) and bound rules (lib/bounds/rules/loss.cpp). Target
// and weight are constants, so every loss output is a fixed linear combination of gathered
// scores (or log probabilities) y = Σ_k c_k·x[source_k], the coefficients c_k worked out in
// binary64: -w[t] per element (reduction none), the same summed (sum), or -w[t]/W with
// W = Σ w[t] over the elements not ignored (mean). An ignored element has no term (its loss is 0).
#pragma once

#include <cstdint>
#include <vector>

#include "core/op_context.h"

namespace fpaudit::ops {

struct LossGeometry {
  /// The same for both losses (SoftmaxCrossEntropyLoss reads log probabilities along axis 1).
  explicit LossGeometry(const OpContext& ctx);
  /// The scores as outer × classes × inner (N, C, and the product of d1, d2, …).
  long outer_ = 1, classes_ = 1, inner_ = 1;
  /// Output p reads source_[start_[p] .. start_[p+1]) with coefficients coefficient_[...].
  std::vector<std::int64_t> start_, source_;
  std::vector<double> coefficient_;
  std::vector<std::size_t> prep_;  ///< target and weight: read at preparation
};

}  // namespace fpaudit::ops
