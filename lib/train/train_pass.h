// One forward and one backward pass of a plan in one arithmetic, with the trained parameters
// taken from the caller: the pieces lib/train/train_step.cpp runs per chain and step.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "shadow/plan.h"
#include "train/backward.h"
#include "train/loss.h"

namespace fpaudit::train {

/// The plan's layers with their backward passes, its trained parameters and its one output.
class TrainableModel {
 public:
  /// ModelError when a layer has no backward pass or the model has other than one input and
  /// output. A value read by several layers gets the sum of their contributions (finish()).
  explicit TrainableModel(const Plan& plan, BatchNormMode batchnorm = BatchNormMode::Model);
  const Plan& plan() const { return *plan_; }
  const std::vector<int>& parameter_slots() const { return parameters_; }
  int output_slot() const { return plan_->output_slots()[0]; }
  int input_slot() const { return plan_->input_slots()[0]; }
  /// The layer whose backward pass yields the gradient of slot s ("loss" for the output).
  const std::string& producer(int slot) const { return producer_[static_cast<std::size_t>(slot)]; }
  /// Slots whose gradient the backward pass computes, in the order it computes them (the
  /// output first, then back towards the input); parameters included, the graph input not.
  const std::vector<int>& gradient_slots() const { return gradient_slots_; }
  const LayerBackward& backward(std::size_t layer) const { return *backward_[layer]; }
  /// Whether the backward pass of `layer` computes the gradient of its input `input`: runtime
  /// values the layer is differentiable in (the graph input excepted) and trained parameters.
  bool wants_gradient(std::size_t layer, std::size_t input) const;

 private:
  const Plan* plan_;
  std::vector<std::unique_ptr<LayerBackward>> backward_;
  std::vector<int> parameters_;
  std::vector<std::string> producer_;
  std::vector<int> gradient_slots_;
};

/// A value's gradient from its readers' contributions `parts` (in the order the backward pass
/// reached them): the one contribution as it is, or their elementwise sum in a's sum schedule,
/// rounded once into storage and checked (Theorem 1). Leaves `parts` empty.
void finish(const Arithmetic& a, std::vector<Tensor>& parts, Tensor& grad, SumCheck* check);

/// The chain's constants (round_constants) with parameter k replaced by weights[k] (values of
/// a's storage format).
std::vector<Tensor> constants_with(const TrainableModel& m, const Arithmetic& a, const std::vector<std::vector<double>>& weights);

/// Runs the forward pass on input x (values of a's storage format): each layer's kernel, or the
/// layer's own forward pass where its backward pass has one (training-form BatchNorm); the result
/// keeps every activation for the backward pass.
Activations forward(const TrainableModel& m, const Arithmetic& a, const std::vector<Tensor>& constants, std::vector<double> x);

/// The backward pass from the loss gradient dlogits (already scaled): the gradient of every slot
/// in m.gradient_slots(), indexed by slot (empty tensors elsewhere). With `checks` (indexed by
/// slot) each gradient's sums are checked against their bounds. With `totals` (indexed by slot,
/// needs `checks`) each gradient gets Theorem 4's bound on ‖ĝ − g̃‖₂, g̃ the exact backward pass
/// of the same activations from the same dlogits; NaN where a layer on the way has none.
std::vector<Tensor> backward(const TrainableModel& m, const Arithmetic& a, const Activations& act, std::vector<double> dlogits,
                             std::vector<SumCheck>* checks, std::vector<double>* totals = nullptr);

}  // namespace fpaudit::train
