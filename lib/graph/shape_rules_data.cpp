// Shape rules of the operators on runtime data added for issue #15's second round: selections
// (GatherElements, Trilu), losses (NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss), running
// sums (CumSum), Hardmax, Pad, OneHot, TopK, ScatterND and NonZero (constants only).
#include <fmt/format.h>

#include "graph/dtype.h"
#include "graph/shape_rules.h"

namespace fpaudit {

namespace {

using Types = std::vector<TensorType>;

void expect_float(const ShapeContext& ctx, std::size_t i, std::string_view role) {
  if (!is_float(ctx.input(i).dtype)) ctx.fail(fmt::format("{} must be a floating-point tensor, not {}", role, dtype_name(ctx.input(i).dtype)));
}

void expect_integer_indices(const ShapeContext& ctx, std::size_t i, std::string_view role) {
  const DType t = ctx.input(i).dtype;
  if (t != DType::Int64 && t != DType::Int32) ctx.fail(fmt::format("{} must be int32 or int64, not {}", role, dtype_name(t)));
}

/// GatherElements: the output has the indices' shape, which must have the data's rank.
Types gather_elements(const ShapeContext& ctx) {
  ctx.expect_inputs(2, 2);
  ctx.expect_outputs(1, 1);
  const Shape& data = ctx.input(0).shape;
  const Shape& indices = ctx.input(1).shape;
  expect_integer_indices(ctx, 1, "indices");
  if (data.empty() || indices.size() != data.size())
    ctx.fail(fmt::format("indices {} must have the rank of data {} (at least 1)", shape_string(indices), shape_string(data)));
  const auto axis = static_cast<std::size_t>(ctx.axis(ctx.node().attr_int("axis", 0), static_cast<std::int64_t>(data.size())));
  for (std::size_t d = 0; d < data.size(); ++d)
    if (d != axis && indices[d] > data[d])
      ctx.fail(fmt::format("indices {} exceed data {} along axis {}", shape_string(indices), shape_string(data), d));
  return {{ctx.input(0).dtype, indices}};
}

/// Trilu: the input's shape, rank 2 or more; k a scalar.
Types trilu(const ShapeContext& ctx) {
  ctx.expect_inputs(1, 2);
  ctx.expect_outputs(1, 1);
  if (ctx.input(0).rank() < 2) ctx.fail(fmt::format("input {} must have rank 2 or more", shape_string(ctx.input(0).shape)));
  if (ctx.has(1) && element_count(ctx.input(1).shape) != 1) ctx.fail("k must be a single value");
  return {ctx.input(0)};
}

/// NegativeLogLikelihoodLoss: input [N, C, d1, …], target [N, d1, …], weight [C]; the loss is
/// [N, d1, …] with reduction "none", a scalar with "sum" or "mean".
Shape loss_shape(const ShapeContext& ctx, std::size_t target_input) {
  const Shape& x = ctx.input(0).shape;
  const Shape& t = ctx.input(target_input).shape;
  expect_float(ctx, 0, "input");
  expect_integer_indices(ctx, target_input, "target");
  if (x.size() < 2) ctx.fail(fmt::format("input {} must be [N, C, ...]", shape_string(x)));
  Shape expected_target{x[0]};
  expected_target.insert(expected_target.end(), x.begin() + 2, x.end());
  if (t != expected_target)
    ctx.fail(fmt::format("target {} must be {} for input {}", shape_string(t), shape_string(expected_target), shape_string(x)));
  if (ctx.has(2) && ctx.input(2).shape != Shape{x[1]})
    ctx.fail(fmt::format("weight {} must be [{}]", shape_string(ctx.input(2).shape), x[1]));
  const std::string reduction = ctx.node().attr_string("reduction", "mean");
  if (reduction == "none") return expected_target;
  if (reduction != "sum" && reduction != "mean") ctx.fail(fmt::format("reduction '{}' must be none, sum or mean", reduction));
  return {};
}

Types nll_loss(const ShapeContext& ctx) {
  ctx.expect_inputs(2, 3);
  ctx.expect_outputs(1, 1);
  return {{ctx.input(0).dtype, loss_shape(ctx, 1)}};
}

/// SoftmaxCrossEntropyLoss: the loss as NegativeLogLikelihoodLoss's, and optionally the log
/// probabilities, of the scores' shape.
Types softmax_cross_entropy(const ShapeContext& ctx) {
  ctx.expect_inputs(2, 3);
  ctx.expect_outputs(1, 2);
  return {{ctx.input(0).dtype, loss_shape(ctx, 1)}, ctx.input(0)};
}

/// CumSum: the input's shape; the axis a constant scalar.
Types cumsum(const ShapeContext& ctx) {
  ctx.expect_inputs(2, 2);
  ctx.expect_outputs(1, 1);
  const std::vector<std::int64_t> axis = ctx.int_values(1, "axis");
  if (axis.size() != 1) ctx.fail("axis must hold one value");
  ctx.axis(axis[0], std::max<std::int64_t>(ctx.input(0).rank(), 1));
  return {ctx.input(0)};
}

/// Hardmax: the input's shape (opset 13: along one axis; before, flattened at the axis).
Types hardmax(const ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  ctx.expect_outputs(1, 1);
  const TensorType& x = ctx.input(0);
  ctx.axis(ctx.node().attr_int("axis", ctx.opset() >= 13 ? -1 : 1), std::max<std::int64_t>(x.rank(), 1));
  return {x};
}

/// Pad: each axis grows by its two pads (negative pads crop); pads from the input since opset 11.
Types pad(const ShapeContext& ctx) {
  ctx.expect_inputs(1, ctx.opset() < 11 ? 1 : 3);
  ctx.expect_outputs(1, 1);
  const Shape& x = ctx.input(0).shape;
  const std::vector<std::int64_t> pads = ctx.opset() < 11 ? ctx.node().attr_ints("pads", {}) : ctx.int_values(1, "pads");
  if (pads.size() != 2 * x.size()) ctx.fail(fmt::format("pads has {} values, {} expected for input {}", pads.size(), 2 * x.size(), shape_string(x)));
  Shape out(x.size());
  for (std::size_t d = 0; d < x.size(); ++d) {
    out[d] = x[d] + pads[d] + pads[d + x.size()];
    if (out[d] < 0) ctx.fail(fmt::format("pads crop axis {} of size {} below 0", d, x[d]));
  }
  if (ctx.has(2) && element_count(ctx.input(2).shape) != 1) ctx.fail("constant_value must be a single value");
  return {{ctx.input(0).dtype, out}};
}

/// OneHot: the indices' shape with depth inserted at axis; the values' element type.
Types one_hot(const ShapeContext& ctx) {
  ctx.expect_inputs(3, 3);
  ctx.expect_outputs(1, 1);
  const Constant& depth = ctx.require_constant(1, "depth");
  if (depth.size() != 1) ctx.fail("depth must be a single value");
  const double d = depth.values.empty() ? static_cast<double>(depth.ints.at(0)) : depth.values.at(0);
  if (!(d >= 1 && d <= 1e9)) ctx.fail(fmt::format("depth {} must be a positive whole number", d));
  if (ctx.input(2).shape.size() != 1 || ctx.input(2).shape[0] != 2) ctx.fail("values must hold two elements [off, on]");
  Shape out = ctx.input(0).shape;
  const auto axis = ctx.axis(ctx.node().attr_int("axis", -1), static_cast<std::int64_t>(out.size()) + 1);
  out.insert(out.begin() + axis, static_cast<std::int64_t>(d));
  return {{ctx.input(2).dtype, out}};
}

/// TopK: the input's shape with the axis cut to K (input 2 from opset 10, attribute k before);
/// the values in the input's type, the indices int64.
Types topk(const ShapeContext& ctx) {
  ctx.expect_inputs(1, 2);
  ctx.expect_outputs(2, 2);
  Shape out = ctx.input(0).shape;
  if (out.empty()) ctx.fail("TopK of a scalar");
  const auto axis = static_cast<std::size_t>(ctx.axis(ctx.node().attr_int("axis", -1), static_cast<std::int64_t>(out.size())));
  const std::vector<std::int64_t> k = ctx.has(1) ? ctx.int_values(1, "K") : std::vector<std::int64_t>{ctx.node().attr_int("k", -1)};
  if (k.size() != 1 || k[0] < 0 || k[0] > out[axis])
    ctx.fail(fmt::format("K must be one value in [0, {}] (the axis' extent)", out[axis]));
  out[axis] = k[0];
  return {{ctx.input(0).dtype, out}, {DType::Int64, out}};
}

/// ScatterND: the data's shape; updates must be indices.shape[:-1] + data.shape[q:], q the
/// indices' last extent.
Types scatter_nd(const ShapeContext& ctx) {
  ctx.expect_inputs(3, 3);
  ctx.expect_outputs(1, 1);
  expect_integer_indices(ctx, 1, "indices");
  const Shape& data = ctx.input(0).shape;
  const Shape& indices = ctx.input(1).shape;
  if (indices.empty() || indices.back() < 1 || indices.back() > static_cast<std::int64_t>(data.size()))
    ctx.fail(fmt::format("indices {} must end in an extent in [1, {}] (the data's rank)", shape_string(indices), data.size()));
  Shape want(indices.begin(), indices.end() - 1);
  want.insert(want.end(), data.begin() + indices.back(), data.end());
  if (ctx.input(2).shape != want)
    ctx.fail(fmt::format("updates {} must be {} for data {} and indices {}", shape_string(ctx.input(2).shape), shape_string(want),
                         shape_string(data), shape_string(indices)));
  return {ctx.input(0)};
}

/// NonZero: [rank, count of nonzero elements], int64. The count depends on the values, and
/// fpaudit's shapes are fixed before the data arrives: only a constant input (which folds) has one.
Types non_zero(const ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  ctx.expect_outputs(1, 1);
  const Constant* x = ctx.constant(0);
  if (x == nullptr)
    ctx.fail(fmt::format("input '{}' is computed at run time, and NonZero's output shape depends on its values; fpaudit "
                         "evaluates NonZero only on constants", ctx.node().inputs.at(0)));
  std::int64_t count = 0;
  for (std::size_t i = 0; i < static_cast<std::size_t>(x->size()); ++i) count += (x->values.empty() ? x->ints[i] != 0 : x->values[i] != 0) ? 1 : 0;
  return {{DType::Int64, {ctx.input(0).rank(), count}}};
}

constexpr ShapeRuleEntry kRules[] = {
    {"NonZero", non_zero},
    {"ScatterND", scatter_nd},
    {"TopK", topk},
    {"Pad", pad},
    {"OneHot", one_hot},
    {"GatherElements", gather_elements},
    {"Trilu", trilu},
    {"NegativeLogLikelihoodLoss", nll_loss},
    {"SoftmaxCrossEntropyLoss", softmax_cross_entropy},
    {"CumSum", cumsum},
    {"Hardmax", hardmax},
};

}  // namespace

std::span<const ShapeRuleEntry> data_shape_rules() { return kRules; }

}  // namespace fpaudit
