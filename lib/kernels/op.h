// Op kernels: one class per ONNX operator (in lib/kernels/ops/), written once against the
// Arithmetic interface so every chain and the reference run the same code. A kernel is
// prepared once per model (the constructor reads attributes, constant inputs and the concrete
// shapes, and rejects what it cannot do with a ModelError naming the node) and then run per
// sample and per chain.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "bounds/transfer.h"
#include "graph/graph.h"
#include "core/arithmetic.h"
#include "core/tensor.h"

namespace fpaudit {

/// What a kernel sees when it is prepared.
struct OpContext {
  const Graph& graph;
  const Node& node;
  std::vector<Shape> input_shapes;             ///< concrete; empty Shape{} for absent optional inputs
  std::vector<Shape> output_shapes;            ///< concrete
  std::vector<const Constant*> const_inputs;   ///< non-null where the input is a constant
  bool has_input(std::size_t i) const { return i < node.inputs.size() && !node.inputs[i].empty(); }
  /// ModelError "<file>: node '<name>' (<op>): <problem>".
  [[noreturn]] void fail(const std::string& problem) const;
  /// Integer contents of constant input i (axes, shapes, pads, ...); fails if not constant.
  std::vector<std::int64_t> const_ints(std::size_t i) const;
};

class OpKernel {
 public:
  virtual ~OpKernel() = default;
  /// Evaluates the node. inputs[i] is null for absent optional inputs and for inputs the
  /// kernel declared as read at preparation only (integer constants such as shapes and axes);
  /// float constants arrive already rounded to a's storage format. outputs have their
  /// concrete shapes and sizes on entry.
  virtual void run(const Arithmetic& a, std::span<const Tensor* const> inputs, std::span<Tensor* const> outputs) const = 0;
  /// Whether the kernel is exact in every arithmetic (data movement, max, ReLU...): it then
  /// creates no error of its own, only carries it. Reports use this to say so.
  virtual bool exact() const { return false; }
  /// Input indices consumed at preparation only (their data is never passed to run()).
  virtual std::vector<std::size_t> preparation_inputs() const { return {}; }
  /// Error-bound transfer (lib/bounds/transfer.h). The default serves exact kernels that only
  /// move or select values (data movement, ReLU, max): running the kernel on the input bounds
  /// moves and selects the bounds the same way. Every other kernel overrides it; one that
  /// cannot bound its output throws bounds::NoBound.
  virtual void bound(const bounds::BoundRequest& request) const;
};

using OpFactory = std::function<std::unique_ptr<OpKernel>(const OpContext&)>;

struct OpRegistration {
  std::string_view op_type;
  OpFactory make;
};

/// Every operator kernel fpaudit has.
std::span<const OpRegistration> op_registry();
/// The kernel for a node, prepared; ModelError if the operator has none.
std::unique_ptr<OpKernel> make_op_kernel(const OpContext& ctx);

}  // namespace fpaudit
