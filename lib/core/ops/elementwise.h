// The attributes of elementwise operators, read once for their kernels
// (lib/kernels/ops/elementwise_*.cpp) and their bound rules (lib/bounds/rules/elementwise.cpp).
#pragma once

#include "core/op_context.h"

namespace fpaudit::ops {

/// Clip's limits: attributes min/max before opset 11, optional constant scalar inputs since;
/// ±Inf where absent.
struct ClipLimits {
  double lo, hi;
};
ClipLimits clip_limits(const OpContext& ctx);

/// LeakyRelu's slope (default 0.01).
inline double leaky_relu_alpha(const OpContext& ctx) { return ctx.node.attr_float("alpha", 0.01); }

/// HardSigmoid: max(0, min(1, alpha·x + beta)).
struct HardSigmoidParams {
  double alpha, beta;
};
inline HardSigmoidParams hard_sigmoid_params(const OpContext& ctx) {
  return {ctx.node.attr_float("alpha", 0.2), ctx.node.attr_float("beta", 0.5)};
}

/// Gelu's approximate attribute: false for "none" (the erf form), true for "tanh"; fails otherwise.
bool gelu_tanh(const OpContext& ctx);

}  // namespace fpaudit::ops
