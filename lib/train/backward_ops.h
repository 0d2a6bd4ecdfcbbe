// The backward passes by family, each returning null for an operator it does not handle, and the
// pieces they share. lib/train/backward.cpp asks them in turn (make_layer_backward).
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "train/backward.h"

namespace fpaudit::train {

/// Data movement (Reshape, Flatten, Squeeze, Unsqueeze, Identity, Transpose, Concat, Slice,
/// Gather, Expand, Tile): the forward kernel itself, run once on element numbers, says which
/// input element each output element copies; the gradient sums the copies' gradients back.
std::unique_ptr<LayerBackward> make_movement_backward(const OpContext& ctx);
/// Add, Sub, Mul, Div with broadcasting, and the activations of one argument.
std::unique_ptr<LayerBackward> make_elementwise_backward(const OpContext& ctx);
/// MatMul, Softmax, ReduceMean, ReduceSum.
std::unique_ptr<LayerBackward> make_attention_backward(const OpContext& ctx);
/// BatchNormalization (in the form `mode` picks) and LayerNormalization.
std::unique_ptr<LayerBackward> make_normalization_backward(const OpContext& ctx, BatchNormMode mode);

/// The positions of a constant input that train: float tensors of more than one element.
/// Scalars are an exporter's literals (2 in x², ε, 1/√d, ½ in GELU), not weights.
bool trains(const OpContext& ctx, std::size_t input);

/// For every element j of a tensor, the output positions o that read it, in increasing o: the
/// fixed order its gradient terms are summed in. CSR form: readers of j are
/// `order[start[j] .. start[j+1])`.
struct ReaderLists {
  std::vector<std::int64_t> start, order;
  /// From `source[o]` = the element output o reads (-1: none), for a tensor of n elements.
  ReaderLists(std::span<const std::int64_t> source, std::int64_t n);
  /// √(most readers of one element): ‖gather_sums‖₂ (Cauchy–Schwarz per element).
  double norm() const;
  std::span<const std::int64_t> of(std::int64_t j) const {
    return {order.data() + start[static_cast<std::size_t>(j)], static_cast<std::size_t>(start[static_cast<std::size_t>(j) + 1] - start[static_cast<std::size_t>(j)])};
  }
};

/// dx[j] = Σ over the readers o of j of dy[o] (a copy when there is one reader, 0 with none,
/// else one checked sum in reader order).
void gather_sums(const BackwardArithmetic& b, const ReaderLists& r, std::span<const double> dy, std::span<double> dx);

}  // namespace fpaudit::train
