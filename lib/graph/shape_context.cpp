#include "graph/shape_context.h"

#include <algorithm>

#include <fmt/format.h>

#include "graph/dtype.h"
#include "graph/errors.h"
#include "graph/params.h"

namespace fpaudit {

ShapeContext::ShapeContext(const Graph& graph, const Node& node) : graph_(graph), node_(node) {
  inputs_.resize(node.inputs.size());
  for (std::size_t i = 0; i < node.inputs.size(); ++i) {
    if (node.inputs[i].empty()) continue;
    if (const Constant* c = graph.constant(node.inputs[i])) {
      inputs_[i] = {c->dtype, c->shape};
    } else if (const ValueInfo* v = graph.value(node.inputs[i]); v && v->dtype != DType::Undefined) {
      inputs_[i] = {v->dtype, v->shape};
    } else {
      fail(fmt::format("input '{}' has no known type", node.inputs[i]));
    }
  }
}

const TensorType& ShapeContext::input(std::size_t i) const {
  if (!has(i)) fail(fmt::format("required input {} is missing", i + 1));
  return inputs_[i];
}

const Constant& ShapeContext::require_constant(std::size_t i, std::string_view role) const {
  if (!has(i)) fail(fmt::format("input {} ({}) is missing", i + 1, role));
  const Constant* c = constant(i);
  if (!c)
    fail_node_constant(graph_.source, node_,
                       fmt::format("input '{}' ({}) must be a constant, but it is computed at run time", node_.inputs[i], role),
                       node_.inputs[i]);
  return *c;
}

bool ShapeContext::all_constant() const {
  for (std::size_t i = 0; i < node_.inputs.size(); ++i)
    if (has(i) && !constant(i)) return false;
  return true;
}

std::optional<std::vector<std::int64_t>> ShapeContext::int_list(const std::string& attr, std::size_t input_index) const {
  return int_list_param(graph_, node_, attr, input_index);
}

std::vector<std::int64_t> ShapeContext::int_values(std::size_t i, std::string_view role) const {
  const Constant& c = require_constant(i, role);
  if (!is_integral(c.dtype) || c.shape.size() > 1)
    fail(fmt::format("input '{}' ({}) must be a 1-D integer tensor, not {} {}", node_.inputs[i], role,
                     dtype_name(c.dtype), shape_string(c.shape)));
  return c.ints;
}

std::int64_t ShapeContext::axis(std::int64_t a, std::int64_t rank) const { return normalize_axis(graph_, node_, a, rank); }

std::vector<std::int64_t> ShapeContext::axes(const std::vector<std::int64_t>& a, std::int64_t rank) const {
  std::vector<std::int64_t> out;
  for (std::int64_t x : a) {
    const std::int64_t n = axis(x, rank);
    if (std::find(out.begin(), out.end(), n) != out.end()) fail(fmt::format("axis {} is given twice", x));
    out.push_back(n);
  }
  return out;
}

void ShapeContext::expect_inputs(std::size_t min, std::size_t max) const {
  const std::size_t n = node_.inputs.size();
  if (n < min || n > max)
    fail(min == max ? fmt::format("expects {} inputs, has {}", min, n)
                    : fmt::format("expects {} to {} inputs, has {}", min, max, n));
  for (std::size_t i = 0; i < min; ++i)
    if (!has(i)) fail(fmt::format("required input {} is missing", i + 1));
}

void ShapeContext::expect_outputs(std::size_t min, std::size_t max) const {
  const std::size_t n = node_.outputs.size();
  if (n < min || n > max)
    fail(min == max ? fmt::format("expects {} outputs, has {}", min, n)
                    : fmt::format("expects {} to {} outputs, has {}", min, max, n));
}

void ShapeContext::fail(std::string_view problem) const { fail_node(graph_.source, node_, problem); }

}  // namespace fpaudit
