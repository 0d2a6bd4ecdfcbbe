// If and Loop, expanded by infer_shapes into the nodes of the branch taken or of every iteration.
//
// fpaudit plans one graph per model and runs every sample through the same nodes, so control
// flow is resolved where infer_shapes knows it: an If whose condition folds to a constant (the
// usual case in exported models: the condition comes from shapes or a bound input) becomes its
// taken branch, and a Loop whose trip count and condition fold becomes its iterations unrolled.
// An If whose condition is computed from the data runs both branches and selects each output per
// sample with Where (exact selection; its bound rule covers a chain whose condition flips).
// The nodes keep names that say where they came from ("<if>/then/<node>", "<loop>/3/<node>"),
// so every report, bound and margin step covers them as ordinary layers. A Loop whose trip count
// or condition depends on the data is refused naming the node: its nodes would differ per sample.
#include <fmt/format.h>

#include "graph/errors.h"
#include "graph/subgraph.h"

namespace fpaudit {

namespace {

/// The most iterations a Loop is unrolled to (each iteration's nodes become layers).
constexpr std::int64_t kMaxIterations = 4096;

/// The truth of a constant condition (bool, or any number: nonzero is true); nullopt when the
/// value is computed at run time.
std::optional<bool> constant_truth(const NodeBuilder& b, const std::string& name, std::string_view role) {
  const Constant* c = b.constant_value(name);
  if (!c) return std::nullopt;
  if (c->size() != 1) b.fail(fmt::format("{} '{}' has {} elements, one expected", role, name, c->size()));
  return is_float(c->dtype) ? c->values[0] != 0 : c->ints[0] != 0;
}

/// The body's outputs, looked up in the names inline_body gave them (or an outer value).
std::string body_output(const std::map<std::string, std::string>& names, const std::string& output) {
  auto it = names.find(output);
  return it == names.end() ? output : it->second;
}

}  // namespace

void expand_if(NodeBuilder& b) {
  const Node& node = b.owner();
  if (node.inputs.empty() || node.inputs[0].empty()) b.fail("has no condition input");
  const Graph& then_branch = node.attr_graph("then_branch");
  const Graph& else_branch = node.attr_graph("else_branch");
  if (then_branch.outputs.size() != else_branch.outputs.size() || then_branch.outputs.size() < node.outputs.size())
    b.fail(fmt::format("its branches have {} and {} outputs for the node's {}", then_branch.outputs.size(),
                       else_branch.outputs.size(), node.outputs.size()));
  if (!then_branch.inputs.empty() || !else_branch.inputs.empty()) b.fail("a branch of an If must have no inputs");
  const std::string& condition = node.inputs[0];
  if (const std::optional<bool> cond = constant_truth(b, condition, "the condition")) {
    const Graph& taken = *cond ? then_branch : else_branch;
    const std::string prefix = *cond ? "then/" : "else/";
    const auto names = inline_body(b, taken, prefix, captured_bindings(node, 1));
    for (std::size_t k = 0; k < node.outputs.size(); ++k)
      if (!node.outputs[k].empty())
        b.op("Identity", {body_output(names, taken.outputs[k].name)}, prefix + "out" + std::to_string(k), {},
             node.outputs[k]);
    return;
  }
  // A condition computed from the data may differ from sample to sample: both branches run and
  // Where selects each output per sample. The result is the taken branch's exactly, and Where's
  // rule bounds a chain whose condition may flip against the reference's (theory/recurrent.md).
  if (b.value(condition).dtype != DType::Bool || element_count(b.value(condition).shape) != 1)
    b.fail(fmt::format("the condition '{}' must be one boolean, it is {} {}", condition,
                       dtype_name(b.value(condition).dtype), shape_string(b.value(condition).shape)));
  const auto bindings = captured_bindings(node, 1);
  const auto then_names = inline_body(b, then_branch, "then/", bindings);
  const auto else_names = inline_body(b, else_branch, "else/", bindings);
  for (std::size_t k = 0; k < node.outputs.size(); ++k) {
    if (node.outputs[k].empty()) continue;
    const std::string t = body_output(then_names, then_branch.outputs[k].name);
    const std::string e = body_output(else_names, else_branch.outputs[k].name);
    if (b.value(t).shape != b.value(e).shape || b.value(t).dtype != b.value(e).dtype)
      b.fail(fmt::format("output {} is {} {} in one branch and {} {} in the other; with a condition computed at run "
                         "time ('{}') fpaudit runs both branches and selects per sample, which needs the same type "
                         "and shape", k, dtype_name(b.value(t).dtype), shape_string(b.value(t).shape),
                         dtype_name(b.value(e).dtype), shape_string(b.value(e).shape), condition));
    b.op("Where", {condition, t, e}, "select" + std::to_string(k), {}, node.outputs[k]);
  }
}

void expand_loop(NodeBuilder& b) {
  const Node& node = b.owner();
  const Graph& body = node.attr_graph("body");
  if (body.inputs.size() < 2 || body.outputs.size() < body.inputs.size() - 1)
    b.fail(fmt::format("its body has {} inputs and {} outputs; a Loop body takes (iteration, condition, carried...) "
                       "and returns (condition, carried..., scanned...)", body.inputs.size(), body.outputs.size()));
  const std::size_t carried = body.inputs.size() - 2;
  const std::size_t scanned = body.outputs.size() - 1 - carried;
  if (node.outputs.size() > carried + scanned) b.fail("has more outputs than its body defines");
  auto bindings = captured_bindings(node, 2 + carried);

  std::optional<std::int64_t> trips;
  if (!node.inputs[0].empty()) {
    const Constant* m = b.constant_value(node.inputs[0]);
    if (!m || m->size() != 1 || is_float(m->dtype))
      b.fail(fmt::format("the trip count '{}' is computed at run time; fpaudit unrolls a Loop only when its trip count "
                         "is a constant integer", node.inputs[0]));
    trips = m->ints[0];
  }
  bool cond = true;
  if (node.inputs.size() > 1 && !node.inputs[1].empty()) {
    const auto c = constant_truth(b, node.inputs[1], "the condition");
    if (!c) b.fail(fmt::format("the condition '{}' is computed at run time; fpaudit unrolls a Loop only when its "
                               "condition folds to a constant", node.inputs[1]));
    cond = *c;
  }
  if (!trips && node.inputs[1].empty()) b.fail("has neither a trip count nor a condition: it would never end");

  std::vector<std::string> state(node.inputs.begin() + 2, node.inputs.begin() + 2 + static_cast<std::ptrdiff_t>(carried));
  std::vector<std::vector<std::string>> scans(scanned);
  std::int64_t i = 0;
  for (; cond && (!trips || i < *trips); ++i) {
    if (i == kMaxIterations)
      b.fail(fmt::format("runs more than {} iterations; fpaudit unrolls a Loop and refuses longer ones", kMaxIterations));
    const std::string prefix = std::to_string(i) + "/";
    auto bound = bindings;
    bound[body.inputs[0].name] = b.int64_scalar(prefix + "iteration", i);
    bound[body.inputs[1].name] = b.constant(prefix + "condition", Constant{DType::Bool, {}, {}, {1}});
    for (std::size_t j = 0; j < carried; ++j) bound[body.inputs[2 + j].name] = state[j];
    const auto names = inline_body(b, body, prefix, bound);
    const std::string next = body_output(names, body.outputs[0].name);
    const auto c = constant_truth(b, next, "the body's condition");
    if (!c && (!trips || i + 1 < *trips))
      b.fail(fmt::format("the body's condition '{}' is computed at run time; fpaudit unrolls a Loop only when the "
                         "number of iterations is the same for every sample", body.outputs[0].name));
    cond = c.value_or(true);
    for (std::size_t j = 0; j < carried; ++j) state[j] = body_output(names, body.outputs[1 + j].name);
    for (std::size_t k = 0; k < scanned; ++k) scans[k].push_back(body_output(names, body.outputs[1 + carried + k].name));
  }

  for (std::size_t j = 0; j < carried && j < node.outputs.size(); ++j)
    if (!node.outputs[j].empty()) b.op("Identity", {state[j]}, "out" + std::to_string(j), {}, node.outputs[j]);
  for (std::size_t k = 0; k < scanned && carried + k < node.outputs.size(); ++k) {
    const std::string& output = node.outputs[carried + k];
    if (output.empty()) continue;
    if (scans[k].empty())
      b.fail(fmt::format("scan output '{}' would be empty (the loop runs no iteration), which fpaudit does not "
                         "represent", output));
    // Each iteration's value gains a leading axis; the iterations are stacked along it.
    std::vector<std::string> parts;
    for (std::size_t t = 0; t < scans[k].size(); ++t) {
      Shape shape = b.value(scans[k][t]).shape;
      shape.insert(shape.begin(), 1);
      const std::string tag = fmt::format("scan{}/{}", k, t);
      parts.push_back(b.op("Reshape", {scans[k][t], b.int64s(tag + "/shape", shape, {static_cast<std::int64_t>(shape.size())})},
                           tag));
    }
    b.op("Concat", parts, fmt::format("scan{}", k), {{"axis", std::int64_t{0}}}, output);
  }
}

}  // namespace fpaudit
