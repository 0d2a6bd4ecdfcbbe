// Op kernels: one class per ONNX operator (in lib/kernels/ops/), written once against the
// Arithmetic interface so every chain and the reference run the same code. A kernel is
// prepared once per model (the constructor reads attributes, constant inputs and the concrete
// shapes, and rejects what it cannot do with a ModelError naming the node) and then run per
// sample and per chain. Error bounds are not the kernels' business: lib/bounds registers a bound
// rule per op type, prepared from the same OpContext.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "core/arithmetic.h"
#include "core/op_context.h"
#include "core/tensor.h"
#include "graph/graph.h"

namespace fpaudit {

class OpKernel {
 public:
  virtual ~OpKernel() = default;
  /// Evaluates the node. inputs[i] is null for absent optional inputs and for inputs the
  /// kernel declared as read at preparation only (integer constants such as shapes and axes);
  /// float constants arrive already rounded to a's storage format. outputs have their
  /// concrete shapes and sizes on entry, and unspecified values (evaluate_batch recycles
  /// buffers): a kernel writes every element of every output.
  virtual void run(const Arithmetic& a, std::span<const Tensor* const> inputs, std::span<Tensor* const> outputs) const = 0;
  /// Evaluates the node for `samples` samples at once: sample b's inputs are
  /// inputs[b·I, (b+1)·I) and its outputs outputs[b·O, (b+1)·O) (I, O: the node's input and
  /// output counts); a constant is the same tensor in every sample. Each sample's outputs are
  /// exactly what run() gives it, bit for bit: the default runs the samples one by one, and the
  /// kernels whose outputs are dot products (Conv, Gemm, MatMul) make one GEMM of the batch, each
  /// output element still summed over the same terms in the same order (shadow/plan.h).
  virtual void run_batch(const Arithmetic& a, long samples, std::span<const Tensor* const> inputs,
                         std::span<Tensor* const> outputs) const;
  /// Whether the kernel is exact in every arithmetic (data movement, max, ReLU...): it then
  /// creates no error of its own, only carries it. Reports use this to say so, and an exact
  /// kernel without a bound rule of its own (lib/bounds/rules.h) bounds its output by running
  /// on the input bounds (PlannedLayer::bound, lib/shadow/plan.h).
  virtual bool exact() const { return false; }
  /// Whether output 0 may be input 0's own buffer: element i of output 0 is a function of
  /// element i of input 0 (and of other inputs), read before it is written, and output 0 has
  /// input 0's size. evaluate_batch then hands a dying input's buffer to the output instead of
  /// writing a second one (ReLU, BatchNormalization and elementwise functions of one value).
  virtual bool elementwise_in_place() const { return false; }
  /// Input indices consumed at preparation only (their data is never passed to run()).
  virtual std::vector<std::size_t> preparation_inputs() const { return {}; }
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
