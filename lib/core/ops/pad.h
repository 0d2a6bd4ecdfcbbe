// Pad's parameters, read by its kernel (lib/kernels/ops/data_select.cpp) and its bound rule
// (lib/bounds/rules/runtime_scan.cpp): the pads (input 1 from opset 11, the attribute before)
// and the fill value (0 unless mode is constant; input 2 from opset 11, attribute `value` before).
#pragma once

#include <cstdint>
#include <vector>

#include "core/op_context.h"

namespace fpaudit::ops {

inline std::vector<std::int64_t> pad_amounts(const OpContext& ctx) {
  if (ctx.graph.opset < 11) return ctx.node.attr_ints("pads", {});
  return ctx.const_ints(1);
}

inline double pad_fill(const OpContext& ctx) {
  if (ctx.node.attr_string("mode", "constant") != "constant") return 0;
  if (ctx.graph.opset < 11) return ctx.node.attr_float("value", 0.0);
  if (!ctx.has_input(2)) return 0;
  const Constant* c = ctx.const_inputs.size() > 2 ? ctx.const_inputs[2] : nullptr;
  if (c == nullptr) ctx.fail_not_constant(2, "constant_value is computed at run time; fpaudit needs it constant");
  return c->values.empty() ? static_cast<double>(c->ints.at(0)) : c->values.at(0);
}

}  // namespace fpaudit::ops
