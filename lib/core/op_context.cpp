#include "core/op_context.h"

#include <fmt/format.h>

namespace fpaudit {

OpContext context_of(const Graph& graph, const Node& node) {
  OpContext ctx{graph, node, {}, {}, {}};
  for (const std::string& in : node.inputs) {
    const Constant* c = in.empty() ? nullptr : graph.constant(in);
    const ValueInfo* v = in.empty() ? nullptr : graph.value(in);
    ctx.input_shapes.push_back(c ? c->shape : v ? v->shape : Shape{});
    ctx.const_inputs.push_back(c);
    if (!in.empty() && !c && !v) ctx.fail(fmt::format("input '{}' has no known shape", in));
  }
  for (const std::string& out : node.outputs) {
    if (out.empty()) {  // an optional output nobody reads, or one infer_shapes made a constant
      ctx.output_shapes.emplace_back();
      continue;
    }
    const ValueInfo* v = graph.value(out);
    if (!v) ctx.fail(fmt::format("output '{}' has no known shape", out));
    ctx.output_shapes.push_back(v->shape);
  }
  return ctx;
}

void OpContext::fail(const std::string& problem) const {
  throw ModelError(fmt::format("{}: node '{}' ({}): {}", graph.source.string(), node.name, node.op_type, problem));
}

void OpContext::fail_not_constant(std::size_t i, const std::string& problem) const {
  throw ConstantRequired(fmt::format("{}: node '{}' ({}): {}", graph.source.string(), node.name, node.op_type, problem),
                         i < node.inputs.size() ? node.inputs[i] : std::string());
}

std::vector<std::int64_t> OpContext::const_ints(std::size_t i) const {
  if (!has_input(i)) fail(fmt::format("input {} is required", i));
  const Constant* c = i < const_inputs.size() ? const_inputs[i] : nullptr;
  if (c == nullptr) fail_not_constant(i, fmt::format("input {} ('{}') must be a constant", i, node.inputs[i]));
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
