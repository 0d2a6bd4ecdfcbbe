#include "core/op_context.h"

#include <fmt/format.h>

namespace fpaudit {

void OpContext::fail(const std::string& problem) const {
  throw ModelError(fmt::format("{}: node '{}' ({}): {}", graph.source.string(), node.name, node.op_type, problem));
}

std::vector<std::int64_t> OpContext::const_ints(std::size_t i) const {
  if (!has_input(i)) fail(fmt::format("input {} is required", i));
  const Constant* c = i < const_inputs.size() ? const_inputs[i] : nullptr;
  if (c == nullptr) fail(fmt::format("input {} ('{}') must be a constant", i, node.inputs[i]));
  if (!c->ints.empty() || c->values.empty()) return c->ints;
  std::vector<std::int64_t> out;
  for (double v : c->values) out.push_back(static_cast<std::int64_t>(v));
  return out;
}

namespace ops {
int normalize_axis(const OpContext& ctx, std::int64_t axis, int rank) {
  if (axis < -rank || axis >= rank) ctx.fail(fmt::format("axis {} out of range for rank {}", axis, rank));
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}
}  // namespace ops

}  // namespace fpaudit
