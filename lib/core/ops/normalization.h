// What BatchNormalization and LayerNormalization work out at preparation, read by their kernel
// (lib/kernels/ops/normalization.cpp) and their bound rule (lib/bounds/rules/normalization.cpp).
#pragma once

#include <cstdint>
#include <vector>

#include "core/op_context.h"

namespace fpaudit::ops {

/// X [N, C, inner...] normalised per channel c by the constants γ, β, μ, σ² (inputs 2..5).
struct BatchNormGeometry {
  explicit BatchNormGeometry(const OpContext& ctx);
  double epsilon_ = 1e-5;
  std::int64_t outer_ = 1, channels_ = 1, inner_ = 1;
};

/// X as outer_ rows of length_ elements (the axes from `axis` on), each normalised on its own;
/// scale and bias broadcast to a row: element j reads scale[scale_at_[j]], bias[bias_at_[j]].
struct LayerNormGeometry {
  explicit LayerNormGeometry(const OpContext& ctx);
  double epsilon_ = 1e-5;
  std::int64_t outer_ = 1, length_ = 1;
  bool has_bias_ = false;
  std::vector<std::int64_t> scale_at_, bias_at_;
};

}  // namespace fpaudit::ops
