// What Gemm and MatMul work out at preparation, read by their kernel (lib/kernels/ops/linear.cpp)
// and their bound rule (lib/bounds/rules/linear.cpp) alike.
#pragma once

#include <cstdint>
#include <vector>

#include "core/op_context.h"

namespace fpaudit::ops {

/// Gemm: Y = alpha·A'·B' + beta·C, A' = transA ? Aᵀ : A (M×K), B' = transB ? Bᵀ : B (K×N).
struct GemmGeometry {
  explicit GemmGeometry(const OpContext& ctx);
  /// alpha = beta = 1 and C absent or one bias per output feature: the bias rides in the GEMM.
  bool simple() const { return alpha_ == 1.0 && (!has_c_ || (beta_ == 1.0 && c_per_feature_)); }
  double alpha_ = 1, beta_ = 1;
  bool trans_a_ = false, trans_b_ = false, has_c_ = false, c_per_feature_ = false;
  long M_ = 0, K_ = 0, N_ = 0;
  Shape c_shape_;
};

/// MatMul with numpy semantics: 1-D operands promoted, leading batch dimensions broadcast.
struct MatMulGeometry {
  explicit MatMulGeometry(const OpContext& ctx);
  long M_ = 0, K_ = 0, N_ = 0;
  /// For each output batch index, the offsets of its A and B matrices.
  std::vector<std::int64_t> a_off_, b_off_;
};

}  // namespace fpaudit::ops
