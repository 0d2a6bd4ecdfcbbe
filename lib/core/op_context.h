// What an operator sees when it is prepared, once per model: the node, its concrete shapes and
// its constant inputs. Op kernels (lib/kernels) and bound rules (lib/bounds) both prepare from
// it, each from the same context; what both need to work out (window geometry, broadcasting,
// attributes) lives in lib/core/ops so that it is worked out by one piece of code.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace fpaudit {

struct OpContext {
  const Graph& graph;
  const Node& node;
  std::vector<Shape> input_shapes;             ///< concrete; empty Shape{} for absent optional inputs
  std::vector<Shape> output_shapes;            ///< concrete
  std::vector<const Constant*> const_inputs;   ///< non-null where the input is a constant
  bool has_input(std::size_t i) const { return i < node.inputs.size() && !node.inputs[i].empty(); }
  /// ModelError "<file>: node '<name>' (<op>): <problem>".
  [[noreturn]] void fail(const std::string& problem) const;
  /// fail's message as a ConstantRequired: input i is computed at run time where a constant is needed.
  [[noreturn]] void fail_not_constant(std::size_t i, const std::string& problem) const;
  /// Integer contents of constant input i (axes, shapes, pads, ...); fails if not constant.
  std::vector<std::int64_t> const_ints(std::size_t i) const;
};

/// The context a node's kernel and bound rule are prepared from: the shapes of its inputs and
/// outputs as the graph knows them and its constant inputs. Fails naming the node when an input
/// or output has no known shape. The planner, the margin pass and the training step all call it,
/// so they see one context per node.
OpContext context_of(const Graph& graph, const Node& node);

namespace ops {
/// Normalises an axis in [-rank, rank) to [0, rank); fails naming the node otherwise.
int normalize_axis(const OpContext& ctx, std::int64_t axis, int rank);
}  // namespace ops

}  // namespace fpaudit
