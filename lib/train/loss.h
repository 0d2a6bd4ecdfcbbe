// The loss at the network's output and its gradient with respect to the logits, in one
// arithmetic. The gradient is multiplied by the loss scale S in the same rounding that forms it,
// as a framework multiplies the loss by S before the backward pass.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "core/arithmetic.h"

namespace fpaudit::train {

enum class LossKind { CrossEntropy, MeanSquared };
std::string_view loss_name(LossKind k);

/// The loss of logits [N, C] against integer labels [N], or of logits [N, C, P...] (a class score
/// per position: segmentation) against labels [N, P...] (`positions` = the product of P...), in
/// binary64 from the given logits (so a chain's loss is the loss of the logits it computed):
/// cross-entropy of softmax over C, mean over the N·P rows; or the mean squared error against
/// the one-hot labels, mean over all N·C·P elements.
double loss_value(LossKind k, std::span<const double> logits, std::span<const std::int64_t> labels, long classes, long positions = 1);

/// S·∂loss/∂logits in arithmetic a, in storage: for cross-entropy (softmax(z) − onehot)·S/N with
/// the softmax evaluated as the chain's Softmax kernel does (max subtracted, exp and sum in the
/// accumulation format); for the squared error (z − onehot)·2S/(N·C) (N·P rows with positions).
std::vector<double> loss_gradient(const Arithmetic& a, LossKind k, std::span<const double> logits,
                                  std::span<const std::int64_t> labels, long classes, double scale, long positions = 1);

}  // namespace fpaudit::train
