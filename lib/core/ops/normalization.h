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

/// InstanceNormalization and GroupNormalization: X [N, C, inner...] as N·G rows of
/// (C/G)·inner contiguous elements (InstanceNormalization: G = C), each normalised on its own as
/// a LayerNormalization row; the scale and bias element of position j in a row of group g is
/// the channel g·C/G + j/inner (InstanceNormalization, GroupNormalization-21) or the group g
/// (GroupNormalization-18, whose scale and bias are [G]).
struct GroupNormGeometry {
  GroupNormGeometry(const OpContext& ctx, bool instance);
  /// The scale and bias positions of row `row`'s elements, into `at` (length_ elements): worked
  /// out per row rather than stored, as a stored map would be as large as the input.
  void scale_positions(std::int64_t row, std::vector<std::int64_t>& at) const;
  double epsilon_ = 1e-5;
  std::int64_t rows_ = 1, length_ = 1, groups_ = 1, inner_ = 1;
  bool per_group_ = false;
};

/// LRN: X [N, C, inner...]; element (n, c, i) reads the squares of channels first_[c] ..
/// first_[c] + count_[c] - 1 (the window of `size` around c, cut at the edges), each at stride
/// inner_. scale_ = alpha/size in binary64.
struct LrnGeometry {
  explicit LrnGeometry(const OpContext& ctx);
  double scale_ = 0, alpha_ = 1e-4, beta_ = 0.75, bias_ = 1;
  std::int64_t outer_ = 1, channels_ = 1, inner_ = 1;
  std::vector<std::int64_t> first_, count_;
};

/// LpNormalization: X as outer_ × length_ × inner_ along the axis; each slice divided by its
/// p-norm (p = 1 or 2).
struct LpNormGeometry {
  explicit LpNormGeometry(const OpContext& ctx);
  int p_ = 2;
  std::int64_t outer_ = 1, length_ = 1, inner_ = 1;
};

}  // namespace fpaudit::ops
