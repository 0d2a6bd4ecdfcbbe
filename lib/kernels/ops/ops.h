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
void register_data_select_ops(std::vector<OpRegistration>& r);
void register_loss_ops(std::vector<OpRegistration>& r);
void register_scan_select_ops(std::vector<OpRegistration>& r);
void register_einsum_ops(std::vector<OpRegistration>& r);
void register_topk_ops(std::vector<OpRegistration>& r);

/// One row of Softmax (log = false) or LogSoftmax along a strided axis: elements base + j·stride
/// for j < length, computed as lib/kernels/ops/softmax.cpp's header says; d and e are scratch of
/// at least `length` elements. Shared with SoftmaxCrossEntropyLoss, whose bound reuses Softmax's.
struct SoftmaxRowAt {
  long base = 0, length = 0, stride = 1;
};
void softmax_row(const Arithmetic& a, const double* x, double* y, SoftmaxRowAt row, bool log, std::vector<double>& d,
                 std::vector<double>& e);

}  // namespace fpaudit::ops
