// Shape rules of the operators that work element by element: unary functions, broadcasting
// binary and variadic operators, Where, Clip, PRelu, Cast, Dropout, Softmax.
#include <fmt/format.h>

#include "graph/broadcast.h"
#include "graph/dtype.h"
#include "graph/shape_rules.h"

namespace fpaudit {

namespace {

using Types = std::vector<TensorType>;

Types same_as_input(const ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  ctx.expect_outputs(1, 1);
  return {ctx.input(0)};
}

/// Softmax and LogSoftmax: same shape; the axis must exist (opset 13 changed its meaning from
/// "flatten to 2-D at axis" to "along axis", not the shape).
Types softmax(const ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  ctx.expect_outputs(1, 1);
  const TensorType& x = ctx.input(0);
  const std::int64_t fallback = ctx.opset() >= 13 ? -1 : 1;
  ctx.axis(ctx.node().attr_int("axis", fallback), std::max<std::int64_t>(x.rank(), 1));
  return {x};
}

Shape broadcast_all(const ShapeContext& ctx, std::size_t first, std::size_t last) {
  Shape out = ctx.input(first).shape;
  for (std::size_t i = first + 1; i <= last; ++i) {
    auto b = broadcast_shapes(out, ctx.input(i).shape);
    if (!b)
      ctx.fail(fmt::format("input shapes {} and {} do not broadcast", shape_string(out), shape_string(ctx.input(i).shape)));
    out = *b;
  }
  return out;
}

void same_dtypes(const ShapeContext& ctx, std::size_t first, std::size_t last) {
  for (std::size_t i = first + 1; i <= last; ++i)
    if (ctx.input(i).dtype != ctx.input(first).dtype)
      ctx.fail(fmt::format("inputs have different element types: {} and {}", dtype_name(ctx.input(first).dtype),
                           dtype_name(ctx.input(i).dtype)));
}

/// Add, Sub, Mul, Div, Mod: two inputs of one type, broadcast.
Types arithmetic(const ShapeContext& ctx) {
  ctx.expect_inputs(2, 2);
  ctx.expect_outputs(1, 1);
  same_dtypes(ctx, 0, 1);
  return {{ctx.input(0).dtype, broadcast_all(ctx, 0, 1)}};
}

/// Pow: the exponent may have another type; the result has the base's.
Types power(const ShapeContext& ctx) {
  ctx.expect_inputs(2, 2);
  ctx.expect_outputs(1, 1);
  return {{ctx.input(0).dtype, broadcast_all(ctx, 0, 1)}};
}

/// Min, Max (and Sum-like variadic forms): one or more inputs of one type, broadcast.
Types variadic(const ShapeContext& ctx) {
  ctx.expect_inputs(1, static_cast<std::size_t>(-1));
  ctx.expect_outputs(1, 1);
  const std::size_t last = ctx.input_count() - 1;
  same_dtypes(ctx, 0, last);
  return {{ctx.input(0).dtype, broadcast_all(ctx, 0, last)}};
}

/// Equal, Less, Greater: compare two inputs of one type, giving bool.
Types comparison(const ShapeContext& ctx) {
  ctx.expect_inputs(2, 2);
  ctx.expect_outputs(1, 1);
  same_dtypes(ctx, 0, 1);
  return {{DType::Bool, broadcast_all(ctx, 0, 1)}};
}

Types logical_binary(const ShapeContext& ctx) {
  ctx.expect_inputs(2, 2);
  ctx.expect_outputs(1, 1);
  for (std::size_t i = 0; i < 2; ++i)
    if (ctx.input(i).dtype != DType::Bool) ctx.fail(fmt::format("input {} must be bool", i + 1));
  return {{DType::Bool, broadcast_all(ctx, 0, 1)}};
}

Types logical_not(const ShapeContext& ctx) {
  Types t = same_as_input(ctx);
  if (t[0].dtype != DType::Bool) ctx.fail("input must be bool");
  return t;
}

Types where(const ShapeContext& ctx) {
  ctx.expect_inputs(3, 3);
  ctx.expect_outputs(1, 1);
  if (ctx.input(0).dtype != DType::Bool) ctx.fail("the condition must be bool");
  same_dtypes(ctx, 1, 2);
  return {{ctx.input(1).dtype, broadcast_all(ctx, 0, 2)}};
}

/// Clip: min and max are attributes before opset 11 and optional scalar inputs from 11.
Types clip(const ShapeContext& ctx) {
  ctx.expect_inputs(1, 3);
  ctx.expect_outputs(1, 1);
  for (std::size_t i = 1; i < ctx.input_count(); ++i)
    if (ctx.has(i) && element_count(ctx.input(i).shape) != 1) ctx.fail(fmt::format("input {} must be a scalar", i + 1));
  return {ctx.input(0)};
}

/// PRelu: the slope broadcasts to X (in one direction only); the result has X's shape.
Types prelu(const ShapeContext& ctx) {
  ctx.expect_inputs(2, 2);
  ctx.expect_outputs(1, 1);
  same_dtypes(ctx, 0, 1);
  const Shape& x = ctx.input(0).shape;
  auto b = broadcast_shapes(x, ctx.input(1).shape);
  if (!b || *b != x)
    ctx.fail(fmt::format("slope {} does not broadcast to X {}", shape_string(ctx.input(1).shape), shape_string(x)));
  return {ctx.input(0)};
}

Types cast(const ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  ctx.expect_outputs(1, 1);
  if (!ctx.node().has_attr("to")) ctx.fail("attribute 'to' is missing");
  const std::int64_t to = ctx.node().attr_int("to", 0);
  const DType t = dtype_from_onnx(to);
  if (t == DType::Undefined) ctx.fail(fmt::format("Cast to {} is not supported", onnx_type_name(to)));
  return {{t, ctx.input(0).shape}};
}

/// Dropout is the identity at inference; its optional mask output is all true. Training mode
/// (an input from opset 12) would make both random.
Types dropout(const ShapeContext& ctx) {
  ctx.expect_inputs(1, 3);
  ctx.expect_outputs(1, 2);
  if (ctx.has(2)) {
    const Constant& mode = ctx.require_constant(2, "training_mode");
    if (mode.size() != 1 || mode.dtype != DType::Bool) ctx.fail("training_mode must be one bool");
    if (mode.ints[0] != 0) ctx.fail("training_mode is true; fpaudit evaluates inference only");
  }
  // The mask is bool from opset 10, the data's own type before.
  return {ctx.input(0), {ctx.opset() >= 10 ? DType::Bool : ctx.input(0).dtype, ctx.input(0).shape}};
}

constexpr ShapeRuleEntry kRules[] = {
    {"Abs", same_as_input},      {"Add", arithmetic},         {"And", logical_binary},
    {"Cast", cast},              {"Ceil", same_as_input},     {"Clip", clip},
    {"Div", arithmetic},         {"Dropout", dropout},        {"Equal", comparison},
    {"Erf", same_as_input},      {"Exp", same_as_input},      {"Floor", same_as_input},
    {"Gelu", same_as_input},     {"Greater", comparison},     {"HardSigmoid", same_as_input},
    {"HardSwish", same_as_input}, {"Identity", same_as_input}, {"LeakyRelu", same_as_input},
    {"Less", comparison},        {"Log", same_as_input},      {"LogSoftmax", softmax},
    {"Max", variadic},           {"Min", variadic},           {"Mod", arithmetic},
    {"Mul", arithmetic},         {"Neg", same_as_input},      {"Not", logical_not},
    {"Or", logical_binary},      {"PRelu", prelu},            {"Pow", power},
    {"Reciprocal", same_as_input}, {"Relu", same_as_input},   {"Sigmoid", same_as_input},
    {"Softmax", softmax},        {"Sqrt", same_as_input},     {"Sub", arithmetic},
    {"Tanh", same_as_input},     {"Where", where},
    {"GreaterOrEqual", comparison}, {"LessOrEqual", comparison}, {"Xor", logical_binary},
    {"Round", same_as_input},    {"Sign", same_as_input},     {"ThresholdedRelu", same_as_input},
    {"Elu", same_as_input},      {"Selu", same_as_input},     {"Celu", same_as_input},     {"Softplus", same_as_input}, {"Mish", same_as_input},
    {"Sum", variadic},           {"Mean", variadic},
};

}  // namespace

std::span<const ShapeRuleEntry> elementwise_shape_rules() { return kRules; }

}  // namespace fpaudit
