// The backward pass of one layer, written once against the Arithmetic interface like the op
// kernels (lib/kernels), so every chain and the reference run the same code: a chain's gradient
// sums round exactly as its forward GEMMs do (lib/train/checked_sums.h), and the reference's are
// exact sums rounded once. Operators: Gemm, MatMul, Conv (grouped and depthwise included),
// BatchNormalization (inference or training form), LayerNormalization, Softmax, ReduceMean,
// ReduceSum, the elementwise arithmetic with broadcasting (Add, Sub, Mul, Div), activations
// (Relu, Erf, Sqrt, Pow, Tanh, Sigmoid, HardSigmoid, HardSwish), pools, and every data movement
// the forward kernels express as an index map (Reshape, Transpose, Concat, Slice, Gather, ...).
// theory/training-step.md states what each computes.
#pragma once

#include <cmath>
#include <memory>
#include <span>
#include <vector>

#include "core/op_context.h"
#include "core/tensor.h"
#include "train/checked_sums.h"

namespace fpaudit::train {

class LayerBackward {
 public:
  virtual ~LayerBackward() = default;
  /// Given the layer's inputs as its forward pass read them (null where absent), its output and
  /// the gradient dy of the loss with respect to that output, writes the gradient with respect
  /// to each input i for which grads[i] is non-null (sized like the input on entry).
  virtual void run(const BackwardArithmetic& b, std::span<const Tensor* const> in, const Tensor& out, const Tensor& dy,
                   std::span<Tensor* const> grads) const = 0;
  /// Input positions that hold trained parameters (weights, biases, BatchNorm scale and bias).
  virtual std::vector<std::size_t> parameters() const { return {}; }
  /// Whether the layer passes a gradient to runtime input i (false for integer or boolean data).
  virtual bool differentiable(std::size_t) const { return true; }
  /// A forward pass of the layer's own replacing its kernel's (training-form BatchNorm, which
  /// normalises by the batch's statistics); false when the kernel's forward pass stands.
  virtual bool forward(const Arithmetic&, std::span<const Tensor* const>, Tensor&) const { return false; }
  /// An upper bound on ‖B_i‖₂, the operator norm of dy ↦ (gradient of input i) in exact
  /// arithmetic on the layer's values, for layers whose backward pass writes each element as one
  /// checked sum or rounding of the exact formula's own operands, or exactly; NaN for the others
  /// (their error is then not composed: theory/training-step.md, Theorem 4).
  virtual double backward_norm(std::size_t, std::span<const Tensor* const>, const Tensor&) const { return NAN; }
  /// A bound on ‖(B̂ − B)‖₂, B̂ the map B with the factors the chain computes itself in arithmetic
  /// a (BatchNorm's folded scale, its x̂) in place of the reference's; 0 where the chain's
  /// backward pass reads only the exact formula's own operands.
  virtual double factor_error(std::size_t, const Arithmetic&, std::span<const Tensor* const>, const Tensor&) const { return 0; }
};

/// How BatchNormalization is differentiated: with the model's running statistics as constants
/// (inference form), or with the statistics of the batch (training form: the forward pass then
/// normalises by the batch's mean and variance, and the backward pass differentiates them).
enum class BatchNormMode { Model, Eval, Train };  ///< Model: the node's training_mode attribute

/// The backward pass of ctx.node, prepared; a ModelError naming the node when its operator has
/// none (or a form of it this version does not differentiate). `batchnorm` picks the form of
/// BatchNormalization.
std::unique_ptr<LayerBackward> make_layer_backward(const OpContext& ctx, BatchNormMode batchnorm = BatchNormMode::Model);

}  // namespace fpaudit::train
