// What TopK works out at preparation, read by its kernel (lib/kernels/ops/topk.cpp) and its bound
// rule (lib/bounds/rules/runtime_scan.cpp): the input as outer × length × inner along the axis,
// K (a constant), and the direction. Slice (o, i) holds the elements base(o, i) + j·inner_;
// its K outputs are at out_base(o, i) + k·inner_.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include <fmt/format.h>

#include "core/op_context.h"

namespace fpaudit::ops {

struct TopKGeometry {
  explicit TopKGeometry(const OpContext& ctx) {
    const Shape& x = ctx.input_shapes.at(0);
    const int rank = static_cast<int>(x.size());
    if (rank == 0) ctx.fail("TopK of a scalar");
    const int axis = normalize_axis(ctx, ctx.node.attr_int("axis", -1), rank);
    for (int d = 0; d < axis; ++d) outer_ *= static_cast<long>(x[static_cast<std::size_t>(d)]);
    length_ = static_cast<long>(x[static_cast<std::size_t>(axis)]);
    for (int d = axis + 1; d < rank; ++d) inner_ *= static_cast<long>(x[static_cast<std::size_t>(d)]);
    // Opset 1 gives k as an attribute; from opset 10 it is input 2, which must be constant.
    std::vector<std::int64_t> k = ctx.has_input(1) ? ctx.const_ints(1) : std::vector<std::int64_t>{ctx.node.attr_int("k", -1)};
    if (k.size() != 1 || k[0] < 0 || k[0] > length_)
      ctx.fail(fmt::format("K must be one value in [0, {}] (the axis' extent)", length_));
    k_ = static_cast<long>(k[0]);
    largest_ = ctx.node.attr_int("largest", 1) != 0;
    if (ctx.has_input(1)) prep_.push_back(1);
  }
  long outer_ = 1, length_ = 1, inner_ = 1, k_ = 0;
  bool largest_ = true;
  std::vector<std::size_t> prep_;
  long base(long o, long i) const { return o * length_ * inner_ + i; }
  long out_base(long o, long i) const { return o * k_ * inner_ + i; }
  /// The positions j of slice v (v[j] = the j-th element) in TopK's order: by value, largest (or
  /// smallest) first, equal values by position (ONNX: the lower index first). NaN is taken as
  /// the largest value, as numpy sorts it.
  void order(const std::vector<double>& v, std::vector<long>& pos) const {
    pos.resize(v.size());
    for (std::size_t j = 0; j < v.size(); ++j) pos[j] = static_cast<long>(j);
    auto key_less = [&](long a, long b) {
      const double x = v[static_cast<std::size_t>(a)], y = v[static_cast<std::size_t>(b)];
      const bool xn = x != x, yn = y != y;
      if (xn || yn) return largest_ ? (xn && !yn) : (!xn && yn);
      return largest_ ? x > y : x < y;
    };
    std::stable_sort(pos.begin(), pos.end(), key_less);
  }
};

}  // namespace fpaudit::ops
