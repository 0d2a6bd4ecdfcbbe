// Shared declarations of the operator kernels: each ops/*.cpp file registers its operators
// through one register_* function, called by registry.cpp.
#pragma once

#include <vector>

#include <fmt/format.h>

#include "kernels/op.h"

namespace fpaudit::ops {

void register_unary_ops(std::vector<OpRegistration>& r);
void register_binary_ops(std::vector<OpRegistration>& r);
void register_linear_ops(std::vector<OpRegistration>& r);
void register_softmax_ops(std::vector<OpRegistration>& r);
void register_layout_ops(std::vector<OpRegistration>& r);
void register_conv_ops(std::vector<OpRegistration>& r);
void register_normalization_ops(std::vector<OpRegistration>& r);
void register_pool_ops(std::vector<OpRegistration>& r);
void register_reduce_ops(std::vector<OpRegistration>& r);
void register_resize_ops(std::vector<OpRegistration>& r);
void register_exact_unary_ops(std::vector<OpRegistration>& r);
void register_logic_ops(std::vector<OpRegistration>& r);
void register_select_reduce_ops(std::vector<OpRegistration>& r);
void register_data_layout_ops(std::vector<OpRegistration>& r);
void register_norm_reduce_ops(std::vector<OpRegistration>& r);
void register_prod_reduce_ops(std::vector<OpRegistration>& r);
void register_smooth_activation_ops(std::vector<OpRegistration>& r);

}  // namespace fpaudit::ops
