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
    ops::register_exact_unary_ops(r);
    ops::register_logic_ops(r);
    ops::register_select_reduce_ops(r);
    ops::register_data_layout_ops(r);
    ops::register_norm_reduce_ops(r);
    ops::register_prod_reduce_ops(r);
    ops::register_smooth_activation_ops(r);
    ops::register_data_select_ops(r);
    ops::register_loss_ops(r);
    ops::register_scan_select_ops(r);
    ops::register_einsum_ops(r);
    ops::register_topk_ops(r);
    return r;
  }();
  return registry;
}

}  // namespace fpaudit
