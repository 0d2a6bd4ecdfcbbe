#include "graph/cost.h"

#include <algorithm>
#include <array>
#include <limits>
#include <string_view>

#include "graph/errors.h"

namespace fpaudit {

namespace {

const Shape& shape_of(const Graph& graph, const Node& node, const std::string& name) {
  if (const Constant* c = graph.constant(name)) return c->shape;
  const ValueInfo* v = graph.value(name);
  if (!v) fail_node(graph.source, node, "value '" + name + "' has no shape; run infer_shapes first");
  return v->shape;
}

/// a·b for counts, saturating at INT64_MAX instead of overflowing (pool kernels come from
/// attributes and may be absurd).
std::int64_t times(std::int64_t a, std::int64_t b) {
  if (a == 0 || b == 0) return 0;
  return a > std::numeric_limits<std::int64_t>::max() / b ? std::numeric_limits<std::int64_t>::max() : a * b;
}

std::int64_t product(Shape::const_iterator first, Shape::const_iterator last) {
  std::int64_t n = 1;
  for (; first != last; ++first) n = times(n, *first);
  return n;
}

constexpr std::array kDataMovement = std::to_array<std::string_view>({
    "Cast", "Concat", "Dropout", "Expand", "Flatten", "Gather", "Identity", "Reshape", "Shape", "Size", "Slice",
    "Split", "Squeeze", "Tile", "Transpose", "Unsqueeze",
});

}  // namespace

std::int64_t multiply_adds(const Graph& graph, const Node& node) {
  const std::string& op = node.op_type;
  if (std::find(kDataMovement.begin(), kDataMovement.end(), op) != kDataMovement.end()) return 0;
  // The first output that is still read (a pass clears optional outputs nobody reads, such as
  // TopK's values when only its indices are used).
  const auto named = std::find_if(node.outputs.begin(), node.outputs.end(), [](const std::string& o) { return !o.empty(); });
  if (named == node.outputs.end()) return 0;
  const Shape& out = shape_of(graph, node, *named);
  const std::int64_t out_count = element_count(out);
  if (op == "Gemm") {
    const Shape& a = shape_of(graph, node, node.inputs.at(0));
    const std::int64_t k = node.attr_int("transA", 0) ? a[0] : a[1];
    return times(out_count, k);
  }
  if (op == "MatMul") {
    const Shape& a = shape_of(graph, node, node.inputs.at(0));
    return times(out_count, a.back());
  }
  if (op == "Conv") {  // every output element: C/group input channels × kernel taps
    const Shape& w = shape_of(graph, node, node.inputs.at(1));
    return times(out_count, product(w.begin() + 1, w.end()));
  }
  if (op == "ConvTranspose") {  // every input element scatters into M/group × kernel taps
    const Shape& x = shape_of(graph, node, node.inputs.at(0));
    const Shape& w = shape_of(graph, node, node.inputs.at(1));
    return times(element_count(x), product(w.begin() + 1, w.end()));
  }
  if (op == "MaxPool" || op == "AveragePool") {
    const auto kernel = node.attr_ints("kernel_shape", {});
    return times(out_count, product(kernel.begin(), kernel.end()));
  }
  if (op == "GlobalAveragePool" || op.starts_with("Reduce") || op == "BatchNormalization" ||
      op == "LayerNormalization" || op == "Softmax" || op == "LogSoftmax")
    return element_count(shape_of(graph, node, node.inputs.at(0)));
  return out_count;
}

bool is_weight_input(const std::string& op, std::size_t index) {
  if (op == "Resize") return index == 0;
  if (op == "Dropout") return index == 0;
  return true;
}

std::int64_t parameter_count(const Graph& graph, const Node& node) {
  std::int64_t n = 0;
  for (std::size_t i = 0; i < node.inputs.size(); ++i) {
    const Constant* c = node.inputs[i].empty() ? nullptr : graph.constant(node.inputs[i]);
    if (c && is_float(c->dtype) && is_weight_input(node.op_type, i)) n += c->size();
  }
  return n;
}

}  // namespace fpaudit
