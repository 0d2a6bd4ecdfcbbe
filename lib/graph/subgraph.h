// Bodies of If and Loop: which values of the enclosing graphs they read, and how infer_shapes
// replaces an If, a Loop or a recurrent layer (RNN, GRU, LSTM) by ordinary nodes.
#pragma once

#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "graph/graph.h"

namespace fpaudit {

/// Values a body reads from its enclosing graphs: read by one of its nodes (a nested If or Loop
/// lists its own outer reads among its inputs) or named as a body output, without being defined
/// in the body. In the order first read.
std::vector<std::string> outer_references(const Graph& body);

/// The outer values an If's or Loop's bodies read, in the order the loader appended them to the
/// node's inputs after the inputs ONNX defines (so that ordering and liveness see them).
std::vector<std::string> captured_values(const Node& node);

/// The operators infer_shapes expands into other nodes instead of evaluating: GRU, If, LSTM,
/// Loop, RNN (sorted).
std::span<const std::string_view> expanded_operators();
bool is_expanded(std::string_view op_type);

/// Receives each node an expansion builds; infer_shapes infers (and folds) it before the
/// expansion goes on, so the expansion can read the shapes and constants it produced.
using NodeSink = std::function<void(Node)>;

/// Replaces `node` (one of expanded_operators()) by nodes fed to `emit`; its outputs keep their
/// names. Errors are ModelErrors naming the node.
void expand_node(Graph& graph, const Node& node, const NodeSink& emit);

/// Builds the nodes of one expansion: names each "<owner>/<part>" (so reports say which layer
/// and step a node came from), its output the same, and adds the constants it needs.
class NodeBuilder {
 public:
  NodeBuilder(Graph& graph, const Node& owner, const NodeSink& emit) : graph_(graph), owner_(owner), emit_(emit) {}

  /// Emits a node; returns its (first) output's name: `output` when given, else "<owner>/<part>".
  std::string op(const std::string& op_type, std::vector<std::string> inputs, const std::string& part,
                 std::map<std::string, AttributeValue> attributes = {}, const std::string& output = "");
  /// Emits a node given in full (a body's node, already renamed).
  void node(Node n) { emit_(std::move(n)); }
  /// Adds a constant named "<owner>/<part>"; returns the name.
  std::string constant(const std::string& part, Constant value);
  std::string int64s(const std::string& part, std::vector<std::int64_t> values, Shape shape);
  std::string int64_scalar(const std::string& part, std::int64_t value) { return int64s(part, {value}, {}); }
  std::string floats(const std::string& part, DType dtype, double value, Shape shape);

  const ValueInfo& value(const std::string& name) const;
  const Constant* constant_value(const std::string& name) const { return graph_.constant(name); }
  const Node& owner() const { return owner_; }
  Graph& graph() { return graph_; }
  [[noreturn]] void fail(std::string_view problem) const;

 private:
  std::string unused_name(const std::string& part) const;

  Graph& graph_;
  const Node& owner_;
  const NodeSink& emit_;
};

void expand_recurrent(NodeBuilder& b);
void expand_if(NodeBuilder& b);
void expand_loop(NodeBuilder& b);

/// Emits a body's nodes with every value it defines renamed "<owner>/<prefix><name>" and its
/// reads of `bound` names (body inputs, captured outer values) replaced; adds its constants.
/// Returns the map from body names to emitted names (for its outputs).
std::map<std::string, std::string> inline_body(NodeBuilder& b, const Graph& body, const std::string& prefix,
                                               std::map<std::string, std::string> bound);

/// Binds each captured outer value of the owner's bodies (by original name) to the name the
/// owner reads it by now (a body inlined into another is renamed): inline_body's `bound` start.
std::map<std::string, std::string> captured_bindings(const Node& owner, std::size_t defined_inputs);

}  // namespace fpaudit
