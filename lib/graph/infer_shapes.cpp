// infer_shapes: walks the sorted nodes once, giving each output a type and concrete shape and
// folding what can be computed from constants, then checks the graph outputs.
#include <algorithm>
#include <unordered_set>

#include <fmt/format.h>

#include "graph/dtype.h"
#include "graph/errors.h"
#include "graph/fold.h"
#include "graph/limits.h"
#include "graph/loader.h"
#include "graph/shape_rules.h"
#include "graph/subgraph.h"

namespace fpaudit {

namespace {

/// Declared dims (-1: any) against concrete ones.
bool matches_declared(const ValueInfo& declared, const Shape& actual) {
  if (!declared.has_shape) return true;
  if (declared.shape.size() != actual.size()) return false;
  for (std::size_t i = 0; i < actual.size(); ++i)
    if (declared.shape[i] >= 0 && declared.shape[i] != actual[i]) return false;
  return true;
}

void set_input_shapes(Graph& graph, std::span<const Shape> shapes) {
  if (shapes.size() != graph.inputs.size()) {
    std::string names;
    for (const ValueInfo& in : graph.inputs) names += (names.empty() ? "'" : ", '") + in.name + "'";
    fail(graph.source, fmt::format("the model has {} runtime input{} ({}) but {} input shape{} given",
                                   graph.inputs.size(), graph.inputs.size() == 1 ? "" : "s", names, shapes.size(),
                                   shapes.size() == 1 ? " was" : "s were"));
  }
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    ValueInfo& in = graph.inputs[i];
    auto refuse = [&](std::string_view problem) { fail(graph.source, fmt::format("input '{}': {}", in.name, problem)); };
    if (in.dtype == DType::Undefined) refuse("the model declares no element type for it");
    // Integer and bool inputs (token ids, attention masks) are exact data: never rounded.
    in.exact_data = !is_float(in.dtype);
    if (static_cast<std::int64_t>(shapes[i].size()) > kMaxRank) refuse("rank exceeds fpaudit's limit");
    for (std::int64_t d : shapes[i])
      if (d < 0) refuse(fmt::format("given shape {} has a negative dimension", shape_string(shapes[i])));
    if (element_count(shapes[i]) > kMaxValueElements)
      refuse(fmt::format("given shape {} has more than {} elements", shape_string(shapes[i]), kMaxValueElements));
    if (!matches_declared(in, shapes[i]))
      refuse(fmt::format("given shape {} does not match the declared shape {}", shape_string(shapes[i]),
                         shape_string(in.shape)));
    in.shape = shapes[i];
    in.has_shape = true;
    graph.values[in.name] = in;
  }
}

/// Every output type the rule gave must be a tensor fpaudit can hold.
void check_output_types(const ShapeContext& ctx, const std::vector<TensorType>& types) {
  for (std::size_t i = 0; i < ctx.node().outputs.size(); ++i) {
    if (ctx.node().outputs[i].empty()) continue;
    const Shape& s = types[i].shape;
    if (static_cast<std::int64_t>(s.size()) > kMaxRank) ctx.fail(fmt::format("output rank {} exceeds fpaudit's limit", s.size()));
    for (std::int64_t d : s)
      if (d < 0 || d > kMaxValueElements) ctx.fail(fmt::format("output shape {} is invalid", shape_string(s)));
    if (element_count(s) > kMaxValueElements)
      ctx.fail(fmt::format("output '{}' would have shape {}, more than {} elements", ctx.node().outputs[i],
                           shape_string(s), kMaxValueElements));
  }
}

/// The runtime input a refusal names: the first input that is not a constant.
std::string runtime_input(const Node& node, const Graph& graph) {
  for (const std::string& in : node.inputs)
    if (!in.empty() && !graph.constant(in)) return in;
  return "";
}

/// Types a runtime value may have: floating point; booleans (comparisons and logic give 0 and 1,
/// exact in every storage format); and the int64 indices of ArgMax/ArgMin and TopK (exact small
/// integers).
/// Integer tensors computed from floating-point data (a Cast of activations to int) are not
/// evaluated at run time; those computed from exact data are (integer_node).
bool runtime_output_type(const Node& node, DType t) {
  return is_float(t) || t == DType::Bool || (t == DType::Int64 && (node.op_type == "ArgMax" || node.op_type == "ArgMin" || node.op_type == "TopK"));
}

/// A node on exact data alone: every runtime input is exact data (an integer or bool input, or
/// computed from them), every output is integer or bool, and a fold rule gives its exact
/// semantics (wrapping integer arithmetic, truncating division, comparisons, data movement).
/// Its outputs are exact data too: the engine evaluates it with that rule (lib/kernels'
/// integer kernel), the same integers in every chain and the reference.
bool integer_node(const Graph& graph, const Node& node, const std::vector<TensorType>& types) {
  bool runtime = false;
  for (const std::string& in : node.inputs) {
    if (in.empty() || graph.constant(in)) continue;
    const ValueInfo* v = graph.value(in);
    if (!v || !v->exact_data) return false;
    runtime = true;
  }
  for (std::size_t i = 0; i < node.outputs.size(); ++i)
    if (!node.outputs[i].empty() && is_float(types[i].dtype)) return false;
  return runtime && find_fold_rule(node.op_type) != nullptr;
}

bool is_fold_only(const std::string& op) {
  const auto ops = fold_only_operators();
  return std::binary_search(ops.begin(), ops.end(), std::string_view(op));
}

/// Tries to fold the node; true when its outputs are now constants.
bool fold(Graph& graph, const ShapeContext& ctx, const std::vector<TensorType>& types, std::int64_t& folded_elements) {
  const Node& node = ctx.node();
  const FoldRule rule = find_fold_rule(node.op_type);
  const bool needs_values = node.op_type != "Shape" && node.op_type != "Size";
  if (!rule || (needs_values && !ctx.all_constant())) return false;
  std::int64_t elements = 0;
  for (const TensorType& t : types) elements += element_count(t.shape);
  // Large float results stay nodes (the engine evaluates them); integer results must fold.
  if (elements > kMaxFoldedElements || elements > kMaxFoldedTotalElements - folded_elements) {
    for (std::size_t i = 0; i < node.outputs.size(); ++i)
      if (!node.outputs[i].empty() && !is_float(types[i].dtype))
        ctx.fail(fmt::format("the {} result of {} elements is too large to fold", dtype_name(types[i].dtype), elements));
    return false;
  }
  auto values = rule(ctx, types);
  if (!values) return false;
  folded_elements += elements;
  for (std::size_t i = 0; i < node.outputs.size(); ++i) {
    if (node.outputs[i].empty()) continue;
    graph.values[node.outputs[i]] = {node.outputs[i], types[i].dtype, types[i].shape, true};
    graph.set_constant(node.outputs[i], std::move((*values)[i]));
  }
  return true;
}

/// Checks a node that stays for the engine: it must be evaluable on runtime data.
void keep_runtime_node(Graph& graph, Node& node, const std::vector<TensorType>& types) {
  const std::string input = runtime_input(node, graph);
  if (integer_node(graph, node, types)) {
    for (std::size_t i = 0; i < node.outputs.size(); ++i)
      if (!node.outputs[i].empty()) graph.values[node.outputs[i]] = {node.outputs[i], types[i].dtype, types[i].shape, true, true};
    return;
  }
  if (is_fold_only(node.op_type))
    fail_node(graph.source, node,
              input.empty() ? fmt::format("operator {} is supported only where fpaudit folds it (shape arithmetic), "
                                          "and it does not fold it for these {} constants",
                                          node.op_type, dtype_name(types[0].dtype))
                            : fmt::format("operator {} is supported only on constants (shape arithmetic), but input "
                                          "'{}' is computed at run time", node.op_type, input));
  if (node.op_type == "Dropout" && node.outputs.size() > 1 && !node.outputs[1].empty()) {
    // At inference the mask is all true whatever the data: a constant.
    // (Bool from opset 10; ones of the data's type before.)
    const auto count = static_cast<std::size_t>(element_count(types[1].shape));
    Constant mask{types[1].dtype, types[1].shape, {}, {}};
    if (is_float(mask.dtype)) mask.values.assign(count, 1.0);
    else mask.ints.assign(count, 1);
    graph.values[node.outputs[1]] = {node.outputs[1], mask.dtype, types[1].shape, true};
    graph.set_constant(node.outputs[1], std::move(mask));
    node.outputs[1].clear();
  }
  if (node.op_type == "BatchNormalization")
    for (std::size_t i = 1; i < node.outputs.size(); ++i)
      if (!node.outputs[i].empty())
        fail_node(graph.source, node, fmt::format("output '{}' is a training statistic, which fpaudit does not evaluate",
                                                  node.outputs[i]));
  for (std::size_t i = 0; i < node.outputs.size(); ++i) {
    if (node.outputs[i].empty()) continue;
    if (!runtime_output_type(node, types[i].dtype))
      fail_node(graph.source, node,
                input.empty() ? fmt::format("output '{}' ({}) cannot be folded from these constant inputs, and fpaudit "
                                            "evaluates only floating-point and boolean tensors at run time",
                                            node.outputs[i], dtype_name(types[i].dtype))
                              : fmt::format("output '{}' ({}) would be computed from run-time data (input '{}'), but "
                                            "fpaudit evaluates only floating-point and boolean tensors at run time",
                                            node.outputs[i], dtype_name(types[i].dtype), input));
    graph.values[node.outputs[i]] = {node.outputs[i], types[i].dtype, types[i].shape, true};
  }
}

/// Infers one node's outputs and folds it or keeps it for the engine; an If, a Loop or a
/// recurrent layer is expanded into nodes that go through here one by one.
void process(Graph& graph, Node node, std::vector<Node>& kept, std::int64_t& folded_elements) {
  try {
    if (is_expanded(node.op_type)) {
      expand_node(graph, node, [&](Node part) { process(graph, std::move(part), kept, folded_elements); });
      return;
    }
    const ShapeContext ctx(graph, node);
    const ShapeRule rule = find_shape_rule(node.op_type);
    if (!rule) ctx.fail("has no shape rule (an operator list is out of step with the rules)");
    const std::vector<TensorType> types = rule(ctx);
    if (types.size() < node.outputs.size()) ctx.fail(fmt::format("has {} outputs, more than the operator defines", node.outputs.size()));
    check_output_types(ctx, types);
    if (fold(graph, ctx, types, folded_elements)) return;
    keep_runtime_node(graph, node, types);
    kept.push_back(std::move(node));
  } catch (const ModelError& e) {
    rethrow_with_source(graph.source, e);
  }
}

}  // namespace

void infer_shapes(Graph& graph, std::span<const Shape> input_shapes) {
  set_input_shapes(graph, input_shapes);
  std::vector<Node> kept;
  std::int64_t folded_elements = 0;
  std::vector<Node> nodes = std::move(graph.nodes);
  graph.nodes.clear();
  for (Node& node : nodes) process(graph, std::move(node), kept, folded_elements);
  graph.nodes = std::move(kept);

  for (ValueInfo& out : graph.outputs) {
    const ValueInfo* v = graph.value(out.name);
    if (!v || v->dtype == DType::Undefined) fail(graph.source, fmt::format("output '{}' has no inferred type", out.name));
    if (out.dtype != DType::Undefined && out.dtype != v->dtype)
      fail(graph.source, fmt::format("output '{}': inferred element type {} but the model declares {}", out.name,
                                     dtype_name(v->dtype), dtype_name(out.dtype)));
    if (!matches_declared(out, v->shape))
      fail(graph.source, fmt::format("output '{}': inferred shape {} but the model declares {}", out.name,
                                     shape_string(v->shape), shape_string(out.shape)));
    out = *v;
  }
}

void bind_input(Graph& graph, const std::string& name, Constant value) {
  auto it = std::find_if(graph.inputs.begin(), graph.inputs.end(), [&](const ValueInfo& v) { return v.name == name; });
  if (it == graph.inputs.end()) fail(graph.source, fmt::format("input '{}': the model has no such runtime input", name));
  if (it->dtype != DType::Undefined && it->dtype != value.dtype)
    fail(graph.source, fmt::format("input '{}': a {} value was given for a {} input", name, dtype_name(value.dtype),
                                   dtype_name(it->dtype)));
  if (!matches_declared(*it, value.shape))
    fail(graph.source, fmt::format("input '{}': given shape {} does not match the declared shape {}", name,
                                   shape_string(value.shape), shape_string(it->shape)));
  graph.values[name] = {name, value.dtype, value.shape, true};
  graph.set_constant(name, std::move(value));
  graph.inputs.erase(it);
}

}  // namespace fpaudit
