#include "core/ops/reduction_layout.h"

#include <fmt/format.h>

#include "graph/params.h"

namespace fpaudit::ops {

namespace {

std::vector<bool> rounded_axes(const OpContext& ctx, std::vector<std::size_t>& prep) {
  bool noop = false;
  std::vector<bool> reduced = reduced_axes(ctx, prep, noop);
  if (noop) ctx.fail("noop_with_empty_axes with no axes is not supported for this reduction");
  return reduced;
}

std::vector<bool> extremum_axes(const OpContext& ctx, bool global, std::vector<std::size_t>& prep) {
  if (global) {
    const Shape& x = ctx.input_shapes.at(0);
    std::vector<bool> reduced(x.size(), true);
    reduced[0] = reduced[1] = false;  // [N, C, spatial...]: the planes
    return reduced;
  }
  bool noop = false;
  return reduced_axes(ctx, prep, noop);
}

std::vector<bool> arg_axis(const OpContext& ctx) {
  const Shape& x = ctx.input_shapes.at(0);
  const int axis = normalize_axis(ctx, ctx.node.attr_int("axis", 0), static_cast<int>(x.size()));
  std::vector<bool> reduced(x.size(), false);
  reduced[static_cast<std::size_t>(axis)] = true;
  return reduced;
}

}  // namespace

Reduction::Reduction(const Shape& x, const std::vector<bool>& reduced) {
  const std::vector<std::int64_t> stride = strides_of(x);
  for (std::size_t d = 0; d < x.size(); ++d) {
    std::vector<std::int64_t>& list = reduced[d] ? terms : bases;
    std::vector<std::int64_t> grown;
    grown.reserve(list.size() * static_cast<std::size_t>(x[d]));
    for (std::int64_t off : list)
      for (std::int64_t i = 0; i < x[d]; ++i) grown.push_back(off + i * stride[d]);
    list = std::move(grown);
  }
}

std::vector<bool> reduced_axes(const OpContext& ctx, std::vector<std::size_t>& prep, bool& noop) {
  // Axes: an attribute before opset 18 (13 for ReduceSum), an input since; int_list_param
  // reads either.
  const std::vector<std::int64_t> given = int_list_param(ctx.graph, ctx.node, "axes", 1).value_or(std::vector<std::int64_t>{});
  prep.clear();
  if (ctx.has_input(1)) prep = {1};
  const Shape& x = ctx.input_shapes.at(0);
  const int rank = static_cast<int>(x.size());
  noop = given.empty() && ctx.node.attr_int("noop_with_empty_axes", 0) != 0;
  std::vector<bool> reduced(x.size(), given.empty() && !noop);
  for (std::int64_t axis : given) {
    const int d = normalize_axis(ctx, axis, rank);
    if (reduced[static_cast<std::size_t>(d)]) ctx.fail(fmt::format("axis {} is given twice", axis));
    reduced[static_cast<std::size_t>(d)] = true;
  }
  return reduced;
}

RoundedReduction::RoundedReduction(const OpContext& ctx) : r_(ctx.input_shapes.at(0), rounded_axes(ctx, prep_)) {}

ExtremumReduction::ExtremumReduction(const OpContext& ctx, bool global)
    : r_(ctx.input_shapes.at(0), extremum_axes(ctx, global, prep_)) {}

ArgReduction::ArgReduction(const OpContext& ctx)
    : last_(ctx.node.attr_int("select_last_index", 0) != 0), r_(ctx.input_shapes.at(0), arg_axis(ctx)) {}

}  // namespace fpaudit::ops
