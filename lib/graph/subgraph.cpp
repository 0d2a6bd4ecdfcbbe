// outer_references, the NodeBuilder and body inlining shared by the If, Loop and recurrent
// expansions (subgraph.h).
#include "graph/subgraph.h"

#include <algorithm>
#include <array>
#include <unordered_set>

#include <fmt/format.h>

#include "graph/errors.h"

namespace fpaudit {

namespace {

constexpr std::array kExpanded = std::to_array<std::string_view>({"GRU", "If", "LSTM", "Loop", "RNN"});
static_assert(std::ranges::is_sorted(kExpanded));

}  // namespace

std::span<const std::string_view> expanded_operators() { return kExpanded; }
bool is_expanded(std::string_view op_type) { return std::ranges::binary_search(kExpanded, op_type); }

std::vector<std::string> outer_references(const Graph& body) {
  std::unordered_set<std::string> defined;
  for (const auto& [name, c] : body.constants) defined.insert(name);
  for (const ValueInfo& in : body.inputs) defined.insert(in.name);
  for (const Node& n : body.nodes)
    for (const std::string& out : n.outputs) defined.insert(out);
  std::vector<std::string> outer;
  auto note = [&](const std::string& name) {
    if (!name.empty() && !defined.count(name) && std::find(outer.begin(), outer.end(), name) == outer.end())
      outer.push_back(name);
  };
  for (const Node& n : body.nodes)
    for (const std::string& in : n.inputs) note(in);
  for (const ValueInfo& out : body.outputs) note(out.name);
  return outer;
}

std::vector<std::string> captured_values(const Node& node) {
  std::vector<std::string> captured;
  for (const auto& [key, value] : node.attributes)
    if (const auto* body = std::get_if<std::shared_ptr<const Graph>>(&value))
      for (const std::string& name : outer_references(**body))
        if (std::find(captured.begin(), captured.end(), name) == captured.end()) captured.push_back(name);
  return captured;
}

std::map<std::string, std::string> captured_bindings(const Node& owner, std::size_t defined_inputs) {
  const std::vector<std::string> captured = captured_values(owner);
  if (owner.inputs.size() != defined_inputs + captured.size())
    throw ModelError(fmt::format("node '{}' ({}): has {} inputs, {} expected ({} defined by ONNX and {} read by its "
                                 "bodies)", owner.name, owner.op_type, owner.inputs.size(),
                                 defined_inputs + captured.size(), defined_inputs, captured.size()));
  std::map<std::string, std::string> bound;
  for (std::size_t i = 0; i < captured.size(); ++i) bound[captured[i]] = owner.inputs[defined_inputs + i];
  return bound;
}

void expand_node(Graph& graph, const Node& node, const NodeSink& emit) {
  NodeBuilder b(graph, node, emit);
  if (node.op_type == "If") expand_if(b);
  else if (node.op_type == "Loop") expand_loop(b);
  else expand_recurrent(b);
}

std::string NodeBuilder::unused_name(const std::string& part) const {
  std::string name = owner_.name + "/" + part;
  while (graph_.values.count(name) || graph_.constants.count(name)) name += "_";
  return name;
}

std::string NodeBuilder::op(const std::string& op_type, std::vector<std::string> inputs, const std::string& part,
                            std::map<std::string, AttributeValue> attributes, const std::string& output) {
  Node n;
  n.name = owner_.name + "/" + part;
  n.op_type = op_type;
  n.inputs = std::move(inputs);
  n.outputs = {output.empty() ? unused_name(part) : output};
  n.attributes = std::move(attributes);
  const std::string out = n.outputs[0];
  emit_(std::move(n));
  return out;
}

std::string NodeBuilder::constant(const std::string& part, Constant value) {
  const std::string name = unused_name(part);
  graph_.values[name] = {name, value.dtype, value.shape, true};
  graph_.set_constant(name, std::move(value));
  return name;
}

std::string NodeBuilder::int64s(const std::string& part, std::vector<std::int64_t> values, Shape shape) {
  return constant(part, Constant{DType::Int64, std::move(shape), {}, std::move(values)});
}

std::string NodeBuilder::floats(const std::string& part, DType dtype, double value, Shape shape) {
  const auto count = static_cast<std::size_t>(element_count(shape));
  return constant(part, Constant{dtype, std::move(shape), std::vector<double>(count, value), {}});
}

const ValueInfo& NodeBuilder::value(const std::string& name) const {
  const ValueInfo* v = graph_.value(name);
  if (!v) fail(fmt::format("value '{}' has no inferred type", name));
  return *v;
}

void NodeBuilder::fail(std::string_view problem) const { fail_node(graph_.source, owner_, problem); }

std::map<std::string, std::string> inline_body(NodeBuilder& b, const Graph& body, const std::string& prefix,
                                               std::map<std::string, std::string> bound) {
  const std::string base = b.owner().name + "/" + prefix;
  auto renamed = [&](const std::string& name) {
    std::string fresh = base + name;
    while (b.graph().values.count(fresh) || b.graph().constants.count(fresh)) fresh += "_";
    return fresh;
  };
  for (const auto& [name, c] : body.constants) {
    const std::string fresh = renamed(name);
    b.graph().values[fresh] = {fresh, c->dtype, c->shape, true};
    b.graph().constants[fresh] = c;  // shared, as a graph copy shares it
    bound[name] = fresh;
  }
  for (const Node& n : body.nodes) {
    Node copy = n;
    copy.name = base + n.name;
    for (std::string& in : copy.inputs)
      if (auto it = bound.find(in); !in.empty() && it != bound.end()) in = it->second;
    for (std::string& out : copy.outputs)
      if (!out.empty()) out = bound[out] = renamed(out);
    b.node(std::move(copy));
  }
  // Every outer value the body reads must be bound by now (a capture or the enclosing graph's).
  for (const std::string& name : outer_references(body))
    if (!bound.count(name) && !b.graph().value(name) && !b.graph().constant(name))
      b.fail(fmt::format("its body reads '{}', which is not defined", name));
  return bound;
}

}  // namespace fpaudit
