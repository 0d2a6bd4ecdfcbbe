// What CumSum works out at preparation, read by its kernel (lib/kernels/ops/scan_select.cpp) and
// its bound rule (lib/bounds/rules/runtime_scan.cpp): the input as outer × length × inner along
// the axis, and for each position j along it the offsets (multiples of inner) of the terms its
// running sum adds, in order: k ≤ j (k < j when exclusive), or k ≥ j (k > j) when reversed.
#pragma once

#include <cstdint>
#include <vector>

#include <fmt/format.h>

#include "core/op_context.h"

namespace fpaudit::ops {

struct CumSumGeometry {
  explicit CumSumGeometry(const OpContext& ctx) {
    const Shape& x = ctx.input_shapes.at(0);
    const std::vector<std::int64_t> axis_given = ctx.const_ints(1);
    if (axis_given.size() != 1) ctx.fail("axis must hold one value");
    const int rank = static_cast<int>(x.size());
    if (rank == 0) ctx.fail("the running sum of a scalar");
    const int axis = normalize_axis(ctx, axis_given[0], rank);
    for (int d = 0; d < axis; ++d) outer_ *= static_cast<long>(x[static_cast<std::size_t>(d)]);
    length_ = static_cast<long>(x[static_cast<std::size_t>(axis)]);
    for (int d = axis + 1; d < rank; ++d) inner_ *= static_cast<long>(x[static_cast<std::size_t>(d)]);
    const bool exclusive = ctx.node.attr_int("exclusive", 0) != 0, reverse = ctx.node.attr_int("reverse", 0) != 0;
    terms_.resize(static_cast<std::size_t>(length_));
    for (long j = 0; j < length_; ++j)
      for (long k = 0; k < length_; ++k) {
        const bool in = reverse ? (exclusive ? k > j : k >= j) : (exclusive ? k < j : k <= j);
        if (in) terms_[static_cast<std::size_t>(j)].push_back(k * inner_);
      }
  }
  long outer_ = 1, length_ = 1, inner_ = 1;
  std::vector<std::vector<std::int64_t>> terms_;
  /// The input offset of output (o, j, i): terms_[j] are relative to base(o, i).
  long base(long o, long i) const { return o * length_ * inner_ + i; }
  std::vector<std::size_t> prep_{1};
};

}  // namespace fpaudit::ops
