// Shape rules of the operators whose output shape comes from values rather than from input
// shapes alone (Shape, Size, ConstantOfShape, Range, Resize), and of the reductions.
#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "graph/dtype.h"
#include "graph/limits.h"
#include "graph/shape_rules.h"

namespace fpaudit {

namespace {

using Types = std::vector<TensorType>;
using Ints = std::vector<std::int64_t>;

/// Shape: the input's dimensions, from opset 15 only those in [start, end).
Types shape_of(const ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  ctx.expect_outputs(1, 1);
  const auto rank = ctx.input(0).rank();
  auto clamp_position = [rank](std::int64_t p) { return std::clamp<std::int64_t>(p < 0 ? p + rank : p, 0, rank); };
  const std::int64_t start = clamp_position(ctx.node().attr_int("start", 0));
  const std::int64_t end = clamp_position(ctx.node().attr_int("end", rank));
  return {{DType::Int64, {std::max<std::int64_t>(end - start, 0)}}};
}

Types size_of(const ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  ctx.expect_outputs(1, 1);
  return {{DType::Int64, {}}};
}

Types constant_of_shape(const ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  ctx.expect_outputs(1, 1);
  const Ints dims = ctx.int_values(0, "shape");
  for (std::int64_t d : dims)
    if (d < 0) ctx.fail(fmt::format("shape [{}] has a negative dimension", fmt::join(dims, ", ")));
  DType dtype = DType::Float32;
  if (ctx.node().has_attr("value")) {
    const auto* v = std::get_if<Constant>(&ctx.node().attributes.at("value"));
    if (!v || v->size() != 1) ctx.fail("attribute 'value' must be a tensor of one element");
    dtype = v->dtype;
  }
  return {{dtype, Shape(dims)}};
}

/// Range: max(ceil((limit - start) / delta), 0) elements, computed exactly for integers.
std::int64_t range_count(const ShapeContext& ctx, const Constant& start, const Constant& limit, const Constant& delta) {
  if (is_float(start.dtype)) {
    const double n = std::ceil((limit.values[0] - start.values[0]) / delta.values[0]);
    if (!std::isfinite(n)) ctx.fail("start, limit and delta give no finite element count");
    if (n > static_cast<double>(kMaxFoldedElements)) ctx.fail(fmt::format("{} elements is too many", n));
    return n > 0 ? static_cast<std::int64_t>(n) : 0;
  }
  const std::int64_t s = start.ints[0], l = limit.ints[0], d = delta.ints[0];
  if (d == 0) ctx.fail("delta is 0");
  if (d > 0 ? l <= s : l >= s) return 0;
  // The distance and the step as unsigned magnitudes: no signed overflow for any int64 values.
  const std::uint64_t distance = d > 0 ? static_cast<std::uint64_t>(l) - static_cast<std::uint64_t>(s)
                                       : static_cast<std::uint64_t>(s) - static_cast<std::uint64_t>(l);
  const std::uint64_t step = d > 0 ? static_cast<std::uint64_t>(d) : 0 - static_cast<std::uint64_t>(d);
  const std::uint64_t n = distance / step + (distance % step != 0 ? 1 : 0);
  if (n > static_cast<std::uint64_t>(kMaxFoldedElements)) ctx.fail(fmt::format("{} elements is too many", n));
  return static_cast<std::int64_t>(n);
}

Types range(const ShapeContext& ctx) {
  ctx.expect_inputs(3, 3);
  ctx.expect_outputs(1, 1);
  const Constant& start = ctx.require_constant(0, "start");
  const Constant& limit = ctx.require_constant(1, "limit");
  const Constant& delta = ctx.require_constant(2, "delta");
  for (const Constant* c : {&start, &limit, &delta}) {
    if (c->size() != 1) ctx.fail("start, limit and delta must be scalars");
    if (c->dtype != start.dtype) ctx.fail("start, limit and delta must have one element type");
  }
  return {{start.dtype, {range_count(ctx, start, limit, delta)}}};
}

/// Resize: scales (input 1 in opset 10, input 2 from 11) or sizes (input 3 from 11), exactly
/// one of them given; an empty scales tensor counts as not given.
Types resize(const ShapeContext& ctx) {
  const bool v10 = ctx.opset() < 11;
  ctx.expect_inputs(v10 ? 2 : 1, v10 ? 2 : 4);
  ctx.expect_outputs(1, 1);
  const Shape& x = ctx.input(0).shape;
  // Opset 18 options with no counterpart in fpaudit's kernel: refused unless at their defaults.
  if (ctx.node().attr_int("antialias", 0) != 0) ctx.fail("antialias (opset 18) is not supported");
  if (ctx.node().has_attr("axes")) ctx.fail("the 'axes' attribute (opset 18) is not supported; give scales or sizes for every axis");
  if (ctx.node().attr_string("keep_aspect_ratio_policy", "stretch") != "stretch")
    ctx.fail("keep_aspect_ratio_policy other than 'stretch' (opset 18) is not supported");
  const std::size_t scales_at = v10 ? 1 : 2;
  const Constant* scales = ctx.has(scales_at) ? &ctx.require_constant(scales_at, "scales") : nullptr;
  if (scales && scales->size() == 0) scales = nullptr;
  const Constant* sizes = !v10 && ctx.has(3) ? &ctx.require_constant(3, "sizes") : nullptr;
  if ((scales != nullptr) == (sizes != nullptr)) ctx.fail("exactly one of 'scales' and 'sizes' must be given");
  Shape out;
  if (sizes) {
    if (sizes->dtype != DType::Int64 || sizes->ints.size() != x.size())
      ctx.fail(fmt::format("'sizes' must be int64 with one value per axis of {}", shape_string(x)));
    for (std::int64_t s : sizes->ints)
      if (s < 0) ctx.fail(fmt::format("size {} is negative", s));
    out = sizes->ints;
  } else {
    if (!is_float(scales->dtype) || scales->values.size() != x.size())
      ctx.fail(fmt::format("'scales' must be float with one value per axis of {}", shape_string(x)));
    const bool crop = ctx.node().attr_string("coordinate_transformation_mode", "half_pixel") == "tf_crop_and_resize";
    const Constant* roi = crop ? &ctx.require_constant(1, "roi") : nullptr;
    if (roi && (!is_float(roi->dtype) || roi->values.size() != 2 * x.size()))
      ctx.fail("'roi' must be float with two values per axis");
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double scale = scales->values[i];
      if (!(scale > 0)) ctx.fail(fmt::format("scale {} is not positive", scale));
      const double extent = roi ? roi->values[i + x.size()] - roi->values[i] : 1.0;
      const double o = std::floor(static_cast<double>(x[i]) * extent * scale);
      if (!(o >= 0 && o <= static_cast<double>(kMaxValueElements)))
        ctx.fail(fmt::format("scale {} gives output size {} along axis {}", scale, o, i));
      out.push_back(static_cast<std::int64_t>(o));
    }
  }
  return {{ctx.input(0).dtype, out}};
}

/// ReduceMean, ReduceSum, ReduceProd, ReduceMin, ReduceMax: axes from the attribute (from the
/// input for ReduceSum from opset 13); none means all, or nothing with noop_with_empty_axes.
Types reduce(const ShapeContext& ctx) {
  ctx.expect_inputs(1, 2);
  ctx.expect_outputs(1, 1);
  const Shape& x = ctx.input(0).shape;
  const auto rank = static_cast<std::int64_t>(x.size());
  const Ints given = ctx.int_list("axes", 1).value_or(Ints{});
  if (given.empty() && ctx.node().attr_int("noop_with_empty_axes", 0) != 0) return {ctx.input(0)};
  Ints axes = ctx.axes(given, rank);
  if (given.empty()) {
    axes.resize(x.size());
    std::iota(axes.begin(), axes.end(), 0);
  }
  const bool keep = ctx.node().attr_int("keepdims", 1) != 0;
  Shape out;
  for (std::int64_t i = 0; i < rank; ++i) {
    const bool reduced = std::find(axes.begin(), axes.end(), i) != axes.end();
    if (!reduced) out.push_back(x[static_cast<std::size_t>(i)]);
    else if (keep) out.push_back(1);
  }
  return {{ctx.input(0).dtype, out}};
}

/// ArgMax, ArgMin: the axis reduced (kept as 1 with keepdims), int64 indices.
Types arg_extremum(const ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  ctx.expect_outputs(1, 1);
  Shape out = ctx.input(0).shape;
  if (out.empty()) ctx.fail("the input must have rank 1 or more");
  const auto axis = static_cast<std::size_t>(ctx.axis(ctx.node().attr_int("axis", 0), static_cast<std::int64_t>(out.size())));
  if (out[axis] == 0) ctx.fail(fmt::format("axis {} is empty: there is no extremum", axis));
  if (ctx.node().attr_int("keepdims", 1) != 0) out[axis] = 1;
  else out.erase(out.begin() + static_cast<std::ptrdiff_t>(axis));
  return {{DType::Int64, out}};
}

constexpr ShapeRuleEntry kRules[] = {
    {"ArgMax", arg_extremum},               {"ArgMin", arg_extremum},
    {"ConstantOfShape", constant_of_shape}, {"Range", range},       {"ReduceMax", reduce},
    {"ReduceMean", reduce},                 {"ReduceMin", reduce},  {"ReduceProd", reduce},
    {"ReduceSum", reduce},                  {"ReduceL1", reduce},   {"ReduceL2", reduce},
    {"ReduceSumSquare", reduce},            {"ReduceLogSumExp", reduce}, {"ReduceLogSum", reduce},                  {"Resize", resize},     {"Shape", shape_of},
    {"Size", size_of},
};

}  // namespace

std::span<const ShapeRuleEntry> generator_shape_rules() { return kRules; }

ShapeRule find_shape_rule(std::string_view op) {
  for (auto family : {elementwise_shape_rules(), nn_shape_rules(), layout_shape_rules(), generator_shape_rules(),
                      data_shape_rules()})
    for (const ShapeRuleEntry& e : family)
      if (e.op == op) return e.rule;
  return nullptr;
}

}  // namespace fpaudit
