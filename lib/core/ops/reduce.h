// What ReduceSum and ReduceMean work out at preparation, read by their kernel
// (lib/kernels/ops/reduce.cpp) and their bound rule (lib/bounds/rules/reductions.cpp).
#pragma once

#include <cstdint>
#include <vector>

#include "core/op_context.h"

namespace fpaudit::ops {

struct ReduceGeometry {
  ReduceGeometry(const OpContext& ctx, bool mean);
  bool mean_;
  /// noop_with_empty_axes without axes: the output is the input.
  bool identity_ = false;
  /// The offsets of one output's terms relative to its first (row-major over the reduced
  /// axes), and the offset of each output's first term (row-major over the kept axes).
  std::vector<std::int64_t> terms_, bases_;
  /// Terms at a constant spacing step_ (one reduced axis, or trailing ones).
  bool strided_ = true;
  std::int64_t step_ = 1;
  std::vector<std::size_t> prep_;  ///< the axes input, read at preparation
};

}  // namespace fpaudit::ops
