#include "kernels/ops/ops.h"

namespace fpaudit {

std::span<const OpRegistration> op_registry() {
  static const std::vector<OpRegistration> registry = [] {
    std::vector<OpRegistration> r;
    ops::register_unary_ops(r);
    ops::register_binary_ops(r);
    ops::register_linear_ops(r);
    ops::register_softmax_ops(r);
    ops::register_layout_ops(r);
    ops::register_conv_ops(r);
    ops::register_normalization_ops(r);
    ops::register_pool_ops(r);
    ops::register_reduce_ops(r);
    ops::register_resize_ops(r);
    return r;
  }();
  return registry;
}

}  // namespace fpaudit
