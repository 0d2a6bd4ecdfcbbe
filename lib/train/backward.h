// The backward pass of one layer, written once against the Arithmetic interface like the op
// kernels (lib/kernels), so every chain and the reference run the same code: a chain's gradient
// sums round exactly as its forward GEMMs do (lib/train/checked_sums.h), and the reference's are
// exact sums rounded once. Operators: Gemm, Conv (one group), BatchNormalization (inference
// form: the running statistics are constants, scale and bias train), Relu, MaxPool,
// AveragePool, GlobalAveragePool, and the reshapes (Flatten, Reshape, Identity, Squeeze,
// Unsqueeze). theory/training-step.md states what each computes.
#pragma once

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
};

/// The backward pass of ctx.node, prepared; a ModelError naming the node when its operator has
/// none (or a form of it this version does not differentiate, such as grouped convolution).
std::unique_ptr<LayerBackward> make_layer_backward(const OpContext& ctx);

}  // namespace fpaudit::train
