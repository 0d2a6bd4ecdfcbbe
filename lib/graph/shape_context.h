// What a shape rule or a folding rule sees of one node: its inputs' types and shapes, which of
// them are constants, its attributes, and a way to fail naming the node.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "graph/graph.h"

namespace fpaudit {

/// Element type and concrete shape of a value.
struct TensorType {
  DType dtype = DType::Undefined;
  Shape shape;
  std::int64_t rank() const { return static_cast<std::int64_t>(shape.size()); }
  friend bool operator==(const TensorType&, const TensorType&) = default;
};

class ShapeContext {
 public:
  /// Reads the node's inputs from graph.constants and graph.values (which must hold a concrete
  /// shape for every runtime input).
  ShapeContext(const Graph& graph, const Node& node);

  const Graph& graph() const { return graph_; }
  const Node& node() const { return node_; }
  std::int64_t opset() const { return graph_.opset; }

  std::size_t input_count() const { return node_.inputs.size(); }
  /// Input i is given (present and not "").
  bool has(std::size_t i) const { return i < node_.inputs.size() && !node_.inputs[i].empty(); }
  /// Type of input i; a missing required input fails naming its position.
  const TensorType& input(std::size_t i) const;
  /// The constant behind input i; nullptr when it is computed at run time or absent.
  const Constant* constant(std::size_t i) const { return has(i) ? graph_.constant(node_.inputs[i]) : nullptr; }
  /// The constant behind input i, which the rule needs (`role` names it in the message).
  const Constant& require_constant(std::size_t i, std::string_view role) const;
  /// Whether every given input is a constant.
  bool all_constant() const;

  /// Integer-list parameter from attribute or input (see params.h).
  std::optional<std::vector<std::int64_t>> int_list(const std::string& attr, std::size_t input_index) const;
  /// A constant 1-D (or scalar) integer input, as a list.
  std::vector<std::int64_t> int_values(std::size_t i, std::string_view role) const;

  /// axis normalized into [0, rank); fails when out of range.
  std::int64_t axis(std::int64_t a, std::int64_t rank) const;
  /// Each axis normalized; repeated axes fail.
  std::vector<std::int64_t> axes(const std::vector<std::int64_t>& a, std::int64_t rank) const;

  /// Checks the number of given inputs and of outputs (counting "" outputs) against ONNX's.
  void expect_inputs(std::size_t min, std::size_t max) const;
  void expect_outputs(std::size_t min, std::size_t max) const;

  [[noreturn]] void fail(std::string_view problem) const;

 private:
  const Graph& graph_;
  const Node& node_;
  std::vector<TensorType> inputs_;
};

}  // namespace fpaudit
