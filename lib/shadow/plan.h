// An execution plan: a shape-inferred Graph turned into prepared op kernels over numbered value
// slots, shared read-only by all threads, and the activations one thread evaluates it into. The
// model's constants as an arithmetic stores them come from round_constants (a binary64 copy) or,
// held in their own width, from a ConstantStore (shadow/constant_store.h).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "bounds/rules.h"
#include "graph/graph.h"
#include "kernels/op.h"

namespace fpaudit {

struct PlannedLayer {
  const Node* node = nullptr;
  std::unique_ptr<OpKernel> kernel;
  /// The op type's bound rule (lib/bounds/rules.h); null where it has none.
  std::unique_ptr<bounds::BoundRule> bound_rule;
  std::vector<int> inputs;   ///< slot per node input; -1 for absent or preparation-only inputs
  std::vector<int> outputs;  ///< slot per node output; -1 for absent ones (kernels get null)
  std::int64_t multiply_adds = 0;
  /// The layer computes exact data (ValueInfo::exact_data): integers from integer inputs alone,
  /// the same in every chain, so its error bound is 0.
  bool exact_data = false;
  /// Per node input: whether it is exact data (token ids, masks). An exact kernel bounded by
  /// running on its inputs' bounds reads such an input's values instead (a Gather's indices
  /// select the bounds as they select the values; their own bound is 0).
  std::vector<char> exact_inputs;
  /// The layer's error-bound transfer (lib/bounds/transfer.h): its bound rule, or for an exact
  /// kernel without one (data movement, ReLU, max) the kernel run in exact arithmetic on the
  /// input bounds, which moves and selects them as it moves and selects values. Throws
  /// bounds::NoBound for an inexact kernel without a rule.
  void bound(const bounds::BoundRequest& request) const;
  /// The Div of an exported LayerNorm (graph/layer_norm_pattern.h): the rule bounding it as one
  /// operator of the pattern's input, which reads the slots pattern_inputs (the Div's inputs,
  /// then x and ε) instead of `inputs`. Used for propagated bounds (bound_layer,
  /// shadow/apriori.h) of the reference, of plain chains, and of mixed chains that run all of
  /// pattern_nodes in one arithmetic; null on every other layer.
  std::unique_ptr<bounds::BoundRule> pattern_rule;
  std::vector<int> pattern_inputs;
  std::vector<const Node*> pattern_nodes;  ///< the pattern's seven operators
};

struct Slot {
  std::string name;
  Shape shape;
  const Constant* constant = nullptr;  ///< float constant (weights), else runtime value
  DType dtype = DType::Undefined;
  bool exact_data = false;  ///< runtime integers or bools from integer inputs (ValueInfo::exact_data)
};

class Plan {
 public:
  /// graph must have concrete shapes (infer_shapes) and outlive the plan.
  explicit Plan(const Graph& graph);

  const Graph& graph() const { return *graph_; }
  const std::vector<Slot>& slots() const { return slots_; }
  const std::vector<PlannedLayer>& layers() const { return layers_; }
  const std::vector<int>& input_slots() const { return inputs_; }
  const std::vector<int>& output_slots() const { return outputs_; }
  /// Index of the slot with this value name, or -1.
  int slot_of(const std::string& name) const;
  /// The layer that computes the slot's value; -1 for graph inputs and constants.
  int producer(int slot) const { return producer_[static_cast<std::size_t>(slot)]; }
  /// The layers that read the slot, in order.
  const std::vector<int>& readers(int slot) const { return readers_[static_cast<std::size_t>(slot)]; }
  /// The runtime slots whose last reader (or, unread, whose producer) is this layer, graph
  /// outputs left out: no later layer reads them, so an engine may free them after it.
  const std::vector<int>& dead_after(std::size_t layer) const { return dead_after_[layer]; }
  /// Whether the layer may write output 0 into input 0's buffer (in a chain that is not mixed:
  /// runs_in_place): its kernel allows it (OpKernel::elementwise_in_place), input 0 is a runtime
  /// value that dies after this layer and is not also another of its inputs, and both have one
  /// size.
  bool in_place(std::size_t layer) const { return in_place_[layer] != 0; }

 private:
  const Graph* graph_;
  std::vector<Slot> slots_;
  std::vector<PlannedLayer> layers_;
  std::vector<int> inputs_, outputs_;
  std::vector<int> producer_;
  std::vector<std::vector<int>> readers_;
  std::vector<std::vector<int>> dead_after_;
  std::vector<char> in_place_;
};

/// The arithmetic whose storage format holds the slot's values in chain a: a itself, except for
/// a mixed chain (core/mixed_arithmetic.h): the producing node's arithmetic, and for graph
/// inputs and constants the kept arithmetic when some kept node reads them, else the base.
const Arithmetic& holder_of(const Plan& plan, const Arithmetic& a, int slot);
/// Where chain a's layer l reads a value held in another storage format (a mixed chain's
/// boundary): the arithmetic the layer runs in, which rounds the value into its storage first;
/// null where the value is read as it is held.
const Arithmetic* crossing(const Plan& plan, const Arithmetic& a, const PlannedLayer& layer, int slot);

/// The float constants of a plan, rounded into one arithmetic's storage format; indexed by slot
/// (empty tensors for non-constant slots).
std::vector<Tensor> round_constants(const Plan& plan, const Arithmetic& a);

class ConstantCache;

/// Buffers of freed slots, kept for later slots of the same size: a run through many batches
/// (evaluate_batch) then neither allocates nor zeroes its activations again, which cost a tenth
/// of a CNN's `fpaudit run`. A buffer taken from it holds stale values, so only a caller whose
/// every slot is written whole before it is read may use one: the kernels' contract
/// (OpKernel::run), held by tests/shadow/batch_test.cpp (batches recycle, samples alone do not)
/// and by the ONNX node tests through a poisoning pool (tests/ops/onnx_conformance_test.cpp).
class BufferPool {
 public:
  /// poison: a take() that finds no buffer returns n NaNs instead of nothing, so that an output
  /// element a kernel leaves unwritten shows (tests/ops/onnx_conformance_test.cpp).
  explicit BufferPool(bool poison = false) : poison_(poison) {}
  /// A buffer of exactly n values (stale contents), or an empty one if none is kept.
  std::vector<double> take(std::size_t n);
  /// Keeps v for a later take (up to kMaxBuffers of them; the others are freed).
  void give(std::vector<double>&& v);

 private:
  static constexpr std::size_t kMaxBuffers = 256;
  bool poison_;
  std::vector<std::vector<double>> free_;
};

/// The values of every slot for one arithmetic during one sample (a thread's working set).
class Activations {
 public:
  Activations(const Plan& plan, const std::vector<Tensor>& constants);
  /// Constants read from a workspace's cache of a store (shadow/constant_store.h), expanded a
  /// layer at a time instead of held whole.
  Activations(const Plan& plan, ConstantCache& constants);
  /// Sets graph input k to `values` (already in this arithmetic's storage format).
  void set_input(std::size_t k, std::vector<double> values);
  /// Runs one layer in arithmetic a. Inputs come from `source` (this object for propagation,
  /// another one to evaluate on someone else's values), outputs go to this object.
  void run_layer(const Arithmetic& a, std::size_t layer, const Activations& source);
  /// Points ins and outs (one per layer input and output, null where absent) at the tensors
  /// run_layer hands the kernel: inputs from `source`, outputs of this object, a mixed chain's
  /// values held in another format rounded into this node's first (into this object's scratch).
  void operands(const Arithmetic& a, std::size_t layer, const Activations& source, const Tensor** ins, Tensor** outs);
  /// Runs every layer in order on this object's own values.
  void run_all(const Arithmetic& a);
  const Tensor& value(int slot) const;
  Tensor& mutable_value(int slot) { return runtime(slot); }
  /// Frees a runtime slot's values; the next read or write finds zeros, as after construction.
  /// A slot's values exist only from its first read or write (shadow/audit.cpp frees what no
  /// later layer reads), so an engine's memory follows the values it keeps, not the graph.
  /// With recycle_through(pool), freed values go to the pool, and a slot's first use takes a
  /// buffer from it when one fits: its values are then unspecified, not zeros.
  void release(int slot);
  /// Gives runtime slot `from`'s values to slot `to` (the same element count) without copying,
  /// for a kernel that writes `to` in place over them (OpKernel::elementwise_in_place); `from`
  /// is left empty until released, and must not be read again.
  void hand_over(int from, int to);
  void recycle_through(BufferPool* pool) { pool_ = pool; }
  const Plan& plan() const { return *plan_; }

 private:
  const Tensor& constant(int slot) const;
  Tensor& runtime(int slot) const;  // zeros of the slot's shape on first use (or a pool's buffer)
  const Plan* plan_;
  BufferPool* pool_ = nullptr;
  const std::vector<Tensor>* constants_ = nullptr;
  ConstantCache* cache_ = nullptr;
  // Runtime slots, allocated on first use (mutable: a first read allocates the zeros it reads).
  mutable std::vector<Tensor> values_;
  mutable std::vector<char> allocated_;
  std::vector<Tensor> crossed_;  ///< a mixed chain's inputs rounded at a boundary (run_layer)
};

/// A layer's inputs as the bound rules and backward steps read the chain's rounded constants: the
/// tensor `values` holds for each constant input, null for runtime and absent ones.
std::vector<const Tensor*> constant_inputs(const PlannedLayer& layer, const Activations& values);

/// Runs one layer for a batch of samples together, each on its own values (batch[b] holds
/// sample b's), through OpKernel::run_batch: Conv, Gemm and MatMul make one GEMM of the batch.
/// Every sample's outputs are bit for bit what run_layer gives it alone. input0_is_output0: each
/// sample's input 0 was handed to output 0 (Activations::hand_over), which the kernel reads.
void run_layer_batch(const Arithmetic& a, std::size_t layer, std::span<Activations> batch, bool input0_is_output0 = false);
/// Whether evaluate_batch may run the layer with output 0 in input 0's buffer: Plan::in_place,
/// and the chain is not mixed (whose boundary rounds an input into scratch first).
bool runs_in_place(const Plan& plan, const Arithmetic& a, std::size_t layer);

/// Graph input k of one sample (exact values) as arithmetic a stores it: a floating-point input
/// rounded to a's storage format, an integer or bool input (exact data) as it is.
std::vector<double> stored_input(const Plan& plan, std::size_t k, const Arithmetic& a, std::vector<double> x);

/// Evaluates the plan for one input sample per graph input (values exact; they are rounded into
/// a's storage format first) and returns the graph outputs.
std::vector<Tensor> evaluate(const Plan& plan, const Arithmetic& a, const std::vector<std::vector<double>>& inputs);
/// The same with the constants rounded once by the caller (round_constants(plan, a)), for
/// evaluating many samples.
std::vector<Tensor> evaluate(const Plan& plan, const Arithmetic& a, const std::vector<Tensor>& constants,
                             const std::vector<std::vector<double>>& inputs);
/// The same reading the constants through a cache of a store (shadow/constant_store.h).
std::vector<Tensor> evaluate(const Plan& plan, const Arithmetic& a, ConstantCache& constants,
                             const std::vector<std::vector<double>>& inputs);
/// Evaluates several samples together, layer by layer (run_layer_batch), each sample's values
/// freed after their last reader as evaluate frees them: inputs[b] are sample b's inputs, and
/// the result's [b] its graph outputs, bit for bit what evaluate gives it alone. Memory: the
/// activations of the batch. Freed values go to `pool` (a per-thread one when null) and are
/// reused by later slots and batches.
std::vector<std::vector<Tensor>> evaluate_batch(const Plan& plan, const Arithmetic& a, ConstantCache& constants,
                                                const std::vector<std::vector<std::vector<double>>>& inputs,
                                                BufferPool* pool = nullptr);

}  // namespace fpaudit
