// What Resize works out at preparation, read by its kernel (lib/kernels/ops/resize.cpp) and its
// bound rule (lib/bounds/rules/reductions.cpp): every output element's terms, worked out in
// binary64 from the shapes alone. Each output coordinate is mapped back to an input coordinate
// (coordinate_transformation_mode), then to one input element (nearest), to the corners
// around it with their interpolation weights (linear), or to four neighbours per axis with the
// cubic convolution weights (cubic: cubic_coeff_a, exclude_outside).
#pragma once

#include <cstdint>
#include <vector>

#include "core/op_context.h"

namespace fpaudit::ops {

struct AxisSource;

struct ResizeGeometry {
  explicit ResizeGeometry(const OpContext& ctx);
  /// linear or cubic: each output is a weighted sum of its terms (nearest: a copy of one).
  bool interpolates_ = false;
  double extrapolation_ = 0;
  /// Output p reads input elements source_[start_[p] .. start_[p+1]) with weights weight_[...];
  /// none: the extrapolation value (tf_crop_and_resize outside the box).
  std::vector<std::int64_t> start_, source_;
  std::vector<double> weight_;
  std::size_t longest_ = 0;
  std::vector<std::size_t> prep_;  ///< roi, scales, sizes: read at preparation

 private:
  /// Scale per axis: the given scales, or sizes / input dims.
  static std::vector<double> scales_of(const OpContext& ctx, bool v10, const Shape& x);
  /// Every output element's terms: the row-major product of its axes' sources (corner order
  /// = row-major over the axes' left/right choices), weights multiplied in binary64.
  void build_terms(const Shape& x, const Shape& y, const std::vector<std::vector<AxisSource>>& axes);
};

}  // namespace fpaudit::ops
