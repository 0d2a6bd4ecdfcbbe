#include "graph/params.h"

#include <fmt/format.h>

#include "graph/dtype.h"
#include "graph/errors.h"

namespace fpaudit {

namespace {

/// The constant behind input i, or nullptr when the input is absent; a present runtime value
/// is refused, since these parameters decide shapes.
const Constant* constant_input(const Graph& graph, const Node& node, std::size_t i, const std::string& role) {
  if (i >= node.inputs.size() || node.inputs[i].empty()) return nullptr;
  const Constant* c = graph.constant(node.inputs[i]);
  if (!c)
    fail_node_constant(graph.source, node,
                       fmt::format("input '{}' ({}) must be a constant, but it is computed at run time", node.inputs[i], role),
                       node.inputs[i]);
  return c;
}

}  // namespace

std::optional<std::vector<std::int64_t>> int_list_param(const Graph& graph, const Node& node, const std::string& attr,
                                                        std::size_t input_index) {
  const Constant* c = constant_input(graph, node, input_index, attr);
  if (node.has_attr(attr)) {
    if (c) fail_node(graph.source, node, fmt::format("'{}' is given both as attribute and as input", attr));
    return node.attr_ints(attr, {});
  }
  if (!c) return std::nullopt;
  if (!is_integral(c->dtype) || c->shape.size() > 1)
    fail_node(graph.source, node, fmt::format("input '{}' ({}) must be a 1-D integer tensor, not {} {}",
                                              node.inputs[input_index], attr, dtype_name(c->dtype), shape_string(c->shape)));
  return c->ints;
}

std::optional<double> float_param(const Graph& graph, const Node& node, const std::string& attr,
                                  std::size_t input_index) {
  const Constant* c = constant_input(graph, node, input_index, attr);
  if (node.has_attr(attr)) {
    if (c) fail_node(graph.source, node, fmt::format("'{}' is given both as attribute and as input", attr));
    return node.attr_float(attr, 0);
  }
  if (!c) return std::nullopt;
  if (c->size() != 1)
    fail_node(graph.source, node, fmt::format("input '{}' ({}) must hold one value, not {}", node.inputs[input_index],
                                              attr, shape_string(c->shape)));
  return is_float(c->dtype) ? c->values[0] : static_cast<double>(c->ints[0]);
}

std::int64_t normalize_axis(const Graph& graph, const Node& node, std::int64_t axis, std::int64_t rank) {
  if (axis < -rank || axis >= rank)
    fail_node(graph.source, node, fmt::format("axis {} is out of range for rank {}", axis, rank));
  return axis < 0 ? axis + rank : axis;
}

}  // namespace fpaudit
