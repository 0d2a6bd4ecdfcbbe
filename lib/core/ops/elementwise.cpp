#include "core/ops/elementwise.h"

#include <cmath>

#include <fmt/format.h>

namespace fpaudit::ops {

ClipLimits clip_limits(const OpContext& ctx) {
  if (ctx.graph.opset < 11) return {ctx.node.attr_float("min", -INFINITY), ctx.node.attr_float("max", INFINITY)};
  auto limit = [&](std::size_t i, double fallback) {
    if (!ctx.has_input(i)) return fallback;
    const Constant* c = ctx.const_inputs[i];
    if (c == nullptr) ctx.fail_not_constant(i, fmt::format("input {} must be a constant scalar", i));
    if (c->values.size() != 1) ctx.fail(fmt::format("input {} must be a constant scalar", i));
    return c->values[0];
  };
  return {limit(1, -INFINITY), limit(2, INFINITY)};
}

bool gelu_tanh(const OpContext& ctx) {
  const std::string approx = ctx.node.attr_string("approximate", "none");
  if (approx == "none") return false;
  if (approx != "tanh") ctx.fail("approximate must be 'none' or 'tanh'");
  return true;
}

}  // namespace fpaudit::ops
