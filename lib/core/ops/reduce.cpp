#include "core/ops/reduce.h"

#include <fmt/format.h>

#include "core/tensor.h"
#include "graph/params.h"

namespace fpaudit::ops {

ReduceGeometry::ReduceGeometry(const OpContext& ctx, bool mean) : mean_(mean) {
  // Axes: an attribute before opset 13 (ReduceSum) or 18 (ReduceMean), an input since;
  // int_list_param reads whichever the node has.
  const std::vector<std::int64_t> given = int_list_param(ctx.graph, ctx.node, "axes", 1).value_or(std::vector<std::int64_t>{});
  if (ctx.has_input(1)) prep_ = {1};
  const Shape& x = ctx.input_shapes.at(0);
  const int rank = static_cast<int>(x.size());
  std::vector<bool> reduced(x.size(), given.empty());
  if (given.empty() && ctx.node.attr_int("noop_with_empty_axes", 0) != 0) {
    identity_ = true;
    return;
  }
  for (std::int64_t axis : given) {
    const int d = normalize_axis(ctx, axis, rank);
    if (reduced[d]) ctx.fail(fmt::format("axis {} is given twice", axis));
    reduced[d] = true;
  }
  // The offsets of one output's terms relative to its first (row-major over the reduced
  // axes), and the offset of each output's first term (row-major over the kept axes).
  const std::vector<std::int64_t> stride = strides_of(x);
  terms_ = {0};
  bases_ = {0};
  for (int d = 0; d < rank; ++d) {
    std::vector<std::int64_t>& list = reduced[d] ? terms_ : bases_;
    std::vector<std::int64_t> grown;
    grown.reserve(list.size() * static_cast<std::size_t>(x[d]));
    for (std::int64_t off : list)
      for (std::int64_t i = 0; i < x[d]; ++i) grown.push_back(off + i * stride[d]);
    list = std::move(grown);
  }
  // Terms at a constant spacing (one reduced axis, or trailing ones) are summed in place.
  step_ = terms_.size() > 1 ? terms_[1] - terms_[0] : 1;
  for (std::size_t j = 1; j < terms_.size() && strided_; ++j) strided_ = terms_[j] - terms_[j - 1] == step_;
}

}  // namespace fpaudit::ops
