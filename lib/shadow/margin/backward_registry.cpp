// The backward steps by op type (theory/margin-bound.md), registered in one table like the
// forward bound rules: an op type not listed has no step, and the margin bound of a model that
// uses it is reported as unavailable.
#include <array>

#include "shadow/margin/backward.h"

namespace fpaudit::margin {

std::unique_ptr<BackwardStep> make_gemm_backward(const OpContext& ctx);
std::unique_ptr<BackwardStep> make_conv_backward(const OpContext& ctx);
std::unique_ptr<BackwardStep> make_conv_transpose_backward(const OpContext& ctx);
std::unique_ptr<BackwardStep> make_batch_norm_backward(const OpContext& ctx);
std::unique_ptr<BackwardStep> make_relu_backward(const OpContext& ctx);
std::unique_ptr<BackwardStep> make_max_pool_backward(const OpContext& ctx);
std::unique_ptr<BackwardStep> make_average_pool_backward(const OpContext& ctx);
std::unique_ptr<BackwardStep> make_copy_backward(const OpContext& ctx);
std::unique_ptr<BackwardStep> make_binary_backward(const OpContext& ctx);
std::unique_ptr<BackwardStep> make_unary_backward(const OpContext& ctx);
std::unique_ptr<BackwardStep> make_gelu_backward(const OpContext& ctx);
std::unique_ptr<BackwardStep> make_reduce_backward(const OpContext& ctx);
std::unique_ptr<BackwardStep> make_movement_backward(const OpContext& ctx);
std::unique_ptr<BackwardStep> make_matmul_backward(const OpContext& ctx);
std::unique_ptr<BackwardStep> make_softmax_backward(const OpContext& ctx);
std::unique_ptr<BackwardStep> make_layer_norm_backward(const OpContext& ctx);
std::unique_ptr<BackwardStep> make_hard_sigmoid_backward(const OpContext& ctx);

std::span<const BackwardRegistration> backward_registry() {
  static const std::array<BackwardRegistration, 44> table{{
      {"Gemm", make_gemm_backward},
      {"Conv", make_conv_backward},
      {"ConvTranspose", make_conv_transpose_backward},
      {"BatchNormalization", make_batch_norm_backward},
      {"Relu", make_relu_backward},
      {"LeakyRelu", make_relu_backward},
      {"MaxPool", make_max_pool_backward},
      {"AveragePool", make_average_pool_backward},
      {"GlobalAveragePool", make_average_pool_backward},
      {"Flatten", make_copy_backward},
      {"Reshape", make_copy_backward},
      {"Identity", make_copy_backward},
      {"Squeeze", make_copy_backward},
      {"Unsqueeze", make_copy_backward},
      {"Dropout", make_copy_backward},
      {"Add", make_binary_backward},
      {"Sub", make_binary_backward},
      {"Mul", make_binary_backward},
      {"Div", make_binary_backward},
      {"Pow", make_binary_backward},
      {"Erf", make_unary_backward},
      {"Tanh", make_unary_backward},
      {"Sigmoid", make_unary_backward},
      {"Exp", make_unary_backward},
      {"Sqrt", make_unary_backward},
      {"Reciprocal", make_unary_backward},
      {"Neg", make_unary_backward},
      {"HardSwish", make_unary_backward},
      {"Gelu", make_gelu_backward},
      {"ReduceMean", make_reduce_backward},
      {"ReduceSum", make_reduce_backward},
      {"Transpose", make_movement_backward},
      {"Gather", make_movement_backward},
      {"Slice", make_movement_backward},
      {"Concat", make_movement_backward},
      {"Expand", make_movement_backward},
      {"Tile", make_movement_backward},
      {"DepthToSpace", make_movement_backward},
      {"SpaceToDepth", make_movement_backward},
      {"Split", make_movement_backward},
      {"MatMul", make_matmul_backward},
      {"Softmax", make_softmax_backward},
      {"LayerNormalization", make_layer_norm_backward},
      {"HardSigmoid", make_hard_sigmoid_backward},
  }};
  return table;
}

std::unique_ptr<BackwardStep> make_backward_step(const OpContext& ctx) {
  for (const BackwardRegistration& r : backward_registry())
    if (r.op_type == ctx.node.op_type) return r.make(ctx);
  return nullptr;
}

}  // namespace fpaudit::margin
