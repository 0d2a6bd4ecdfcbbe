// Shape rules of the layers with weights and windows: Gemm, MatMul, Conv, ConvTranspose, the
// pools, BatchNormalization and LayerNormalization.
#include <fmt/format.h>

#include "graph/broadcast.h"
#include "graph/dtype.h"
#include "graph/einsum.h"
#include "graph/shape_rules.h"

namespace fpaudit {

namespace {

using Types = std::vector<TensorType>;
using Ints = std::vector<std::int64_t>;

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

Types gemm(const ShapeContext& ctx) {
  ctx.expect_inputs(2, 3);
  ctx.expect_outputs(1, 1);
  const Shape& a = ctx.input(0).shape;
  const Shape& b = ctx.input(1).shape;
  if (a.size() != 2 || b.size() != 2)
    ctx.fail(fmt::format("A {} and B {} must be matrices", shape_string(a), shape_string(b)));
  const bool ta = ctx.node().attr_int("transA", 0) != 0, tb = ctx.node().attr_int("transB", 0) != 0;
  const std::int64_t m = ta ? a[1] : a[0], k = ta ? a[0] : a[1];
  const std::int64_t kb = tb ? b[1] : b[0], n = tb ? b[0] : b[1];
  if (k != kb)
    ctx.fail(fmt::format("A {} (transA={}) and B {} (transB={}) disagree on K: {} and {}", shape_string(a), ta ? 1 : 0,
                         shape_string(b), tb ? 1 : 0, k, kb));
  const Shape out{m, n};
  if (ctx.has(2)) {  // C broadcasts to [M, N] in one direction
    auto c = broadcast_shapes(out, ctx.input(2).shape);
    if (!c || *c != out)
      ctx.fail(fmt::format("C {} does not broadcast to [M, N] = {}", shape_string(ctx.input(2).shape), shape_string(out)));
  }
  return {{ctx.input(0).dtype, out}};
}

/// MatMul as numpy.matmul: a 1-D operand is a row (A) or column (B) vector, removed again from
/// the result; the dimensions before the last two broadcast.
Types matmul(const ShapeContext& ctx) {
  ctx.expect_inputs(2, 2);
  ctx.expect_outputs(1, 1);
  Shape a = ctx.input(0).shape, b = ctx.input(1).shape;
  if (a.empty() || b.empty()) ctx.fail("MatMul operands must have rank 1 or more");
  const bool a_vector = a.size() == 1, b_vector = b.size() == 1;
  if (a_vector) a.insert(a.begin(), 1);
  if (b_vector) b.push_back(1);
  const std::int64_t k = a.back(), kb = b[b.size() - 2];
  if (k != kb)
    ctx.fail(fmt::format("A {} and B {} disagree on K: {} and {}", shape_string(ctx.input(0).shape),
                         shape_string(ctx.input(1).shape), k, kb));
  auto batch = broadcast_shapes(Shape(a.begin(), a.end() - 2), Shape(b.begin(), b.end() - 2));
  if (!batch)
    ctx.fail(fmt::format("batch dimensions of {} and {} do not broadcast", shape_string(ctx.input(0).shape),
                         shape_string(ctx.input(1).shape)));
  Shape out = *batch;
  if (!a_vector) out.push_back(a[a.size() - 2]);
  if (!b_vector) out.push_back(b.back());
  return {{ctx.input(0).dtype, out}};
}

/// A window's attributes over `spatial` dimensions, with ONNX's defaults and checks.
struct Window {
  Ints kernel, strides, dilations, pads;
  std::string auto_pad;
};

Window read_window(const ShapeContext& ctx, std::size_t spatial, const Ints& kernel) {
  const Node& n = ctx.node();
  Window w{kernel, n.attr_ints("strides", Ints(spatial, 1)), n.attr_ints("dilations", Ints(spatial, 1)),
           n.attr_ints("pads", Ints(2 * spatial, 0)), n.attr_string("auto_pad", "NOTSET")};
  // The cap keeps every size computed from these far from int64 overflow (dims are < 2^32).
  constexpr std::int64_t kMax = std::int64_t{1} << 24;
  auto check = [&](const Ints& v, std::size_t size, std::int64_t min, std::string_view name) {
    if (v.size() != size) ctx.fail(fmt::format("'{}' has {} values, expected {}", name, v.size(), size));
    for (std::int64_t x : v)
      if (x < min || x > kMax) ctx.fail(fmt::format("'{}' value {} is outside [{}, {}]", name, x, min, kMax));
  };
  check(w.kernel, spatial, 1, "kernel_shape");
  check(w.strides, spatial, 1, "strides");
  check(w.dilations, spatial, 1, "dilations");
  check(w.pads, 2 * spatial, 0, "pads");
  if (w.auto_pad != "NOTSET" && w.auto_pad != "SAME_UPPER" && w.auto_pad != "SAME_LOWER" && w.auto_pad != "VALID")
    ctx.fail(fmt::format("auto_pad '{}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID", w.auto_pad));
  if (w.auto_pad != "NOTSET") w.pads.assign(2 * spatial, 0);  // the explicit pads are unused then
  return w;
}

/// Output size of one spatial dimension of a convolution or pool. ceil_mode (pools only)
/// rounds the window count up, but a window must start inside the input or its left padding
/// (the rule PyTorch exports and ONNX adopted).
std::int64_t window_output(const ShapeContext& ctx, const Window& w, std::size_t i, std::int64_t in, bool ceil_mode) {
  const std::int64_t s = w.strides[i];
  if (w.auto_pad == "SAME_UPPER" || w.auto_pad == "SAME_LOWER") return ceil_div(in, s);
  const std::int64_t effective = (w.kernel[i] - 1) * w.dilations[i] + 1;
  const std::int64_t padded = in + w.pads[i] + w.pads[i + w.kernel.size()];
  if (padded < effective)
    ctx.fail(fmt::format("the window (effective size {}) is larger than the padded input ({}) along spatial axis {}",
                         effective, padded, i));
  if (!ceil_mode) return (padded - effective) / s + 1;
  std::int64_t out = ceil_div(padded - effective, s) + 1;
  if ((out - 1) * s >= in + w.pads[i]) --out;
  return out;
}

Types conv(const ShapeContext& ctx) {
  ctx.expect_inputs(2, 3);
  ctx.expect_outputs(1, 1);
  const Shape& x = ctx.input(0).shape;
  const Shape& wt = ctx.input(1).shape;
  if (x.size() < 3 || wt.size() != x.size())
    ctx.fail(fmt::format("X {} must be [N, C, spatial...] and W {} of the same rank", shape_string(x), shape_string(wt)));
  const std::int64_t group = ctx.node().attr_int("group", 1);
  if (group < 1 || x[1] != wt[1] * group || wt[0] % group != 0)
    ctx.fail(fmt::format("X {} and W {} do not match with group = {} (need C = W[1] * group, W[0] divisible by group)",
                         shape_string(x), shape_string(wt), group));
  if (ctx.has(2) && ctx.input(2).shape != Shape{wt[0]})
    ctx.fail(fmt::format("bias {} must be [{}]", shape_string(ctx.input(2).shape), wt[0]));
  const std::size_t spatial = x.size() - 2;
  const Ints kernel(wt.begin() + 2, wt.end());
  if (ctx.node().has_attr("kernel_shape") && ctx.node().attr_ints("kernel_shape", {}) != kernel)
    ctx.fail(fmt::format("kernel_shape does not match W {}", shape_string(wt)));
  const Window w = read_window(ctx, spatial, kernel);
  Shape out{x[0], wt[0]};
  for (std::size_t i = 0; i < spatial; ++i) out.push_back(window_output(ctx, w, i, x[i + 2], false));
  return {{ctx.input(0).dtype, out}};
}

/// ConvTranspose: out = stride·(in-1) + output_padding + effective kernel - pads, or the
/// explicit output_shape, or in·stride for SAME padding.
Types conv_transpose(const ShapeContext& ctx) {
  ctx.expect_inputs(2, 3);
  ctx.expect_outputs(1, 1);
  const Shape& x = ctx.input(0).shape;
  const Shape& wt = ctx.input(1).shape;
  if (x.size() < 3 || wt.size() != x.size())
    ctx.fail(fmt::format("X {} must be [N, C, spatial...] and W {} of the same rank", shape_string(x), shape_string(wt)));
  const std::int64_t group = ctx.node().attr_int("group", 1);
  if (group < 1 || x[1] != wt[0])
    ctx.fail(fmt::format("X {} has {} channels but W {} expects {}", shape_string(x), x[1], shape_string(wt), wt[0]));
  const std::int64_t channels = wt[1] * group;
  if (ctx.has(2) && ctx.input(2).shape != Shape{channels})
    ctx.fail(fmt::format("bias {} must be [{}]", shape_string(ctx.input(2).shape), channels));
  const std::size_t spatial = x.size() - 2;
  const Ints kernel = ctx.node().attr_ints("kernel_shape", Ints(wt.begin() + 2, wt.end()));
  const Window w = read_window(ctx, spatial, kernel);
  const Ints output_padding = ctx.node().attr_ints("output_padding", Ints(spatial, 0));
  if (output_padding.size() != spatial) ctx.fail("'output_padding' must have one value per spatial axis");
  for (std::int64_t p : output_padding)
    if (p < 0 || p >= std::int64_t{1} << 24) ctx.fail(fmt::format("'output_padding' value {} is out of range", p));
  Ints output_shape = ctx.node().attr_ints("output_shape", {});
  if (output_shape.size() == spatial + 2) output_shape.erase(output_shape.begin(), output_shape.begin() + 2);
  if (!output_shape.empty() && output_shape.size() != spatial)
    ctx.fail("'output_shape' must have one value per spatial axis");
  Shape out{x[0], channels};
  for (std::size_t i = 0; i < spatial; ++i) {
    std::int64_t o;
    if (!output_shape.empty()) o = output_shape[i];
    else if (w.auto_pad == "SAME_UPPER" || w.auto_pad == "SAME_LOWER") o = x[i + 2] * w.strides[i];
    else
      o = w.strides[i] * (x[i + 2] - 1) + output_padding[i] + (w.kernel[i] - 1) * w.dilations[i] + 1 - w.pads[i] -
          w.pads[i + spatial];
    if (o < 1) ctx.fail(fmt::format("the output would have size {} along spatial axis {}", o, i));
    out.push_back(o);
  }
  return {{ctx.input(0).dtype, out}};
}

Types pool(const ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  const bool max_pool = ctx.node().op_type == "MaxPool";
  ctx.expect_outputs(1, max_pool ? 2 : 1);
  const Shape& x = ctx.input(0).shape;
  if (x.size() < 3) ctx.fail(fmt::format("X {} must be [N, C, spatial...]", shape_string(x)));
  if (!ctx.node().has_attr("kernel_shape")) ctx.fail("attribute 'kernel_shape' is missing");
  const std::size_t spatial = x.size() - 2;
  const Window w = read_window(ctx, spatial, ctx.node().attr_ints("kernel_shape", {}));
  const bool ceil_mode = ctx.node().attr_int("ceil_mode", 0) != 0;
  Shape out{x[0], x[1]};
  for (std::size_t i = 0; i < spatial; ++i) out.push_back(window_output(ctx, w, i, x[i + 2], ceil_mode));
  return {{ctx.input(0).dtype, out}, {DType::Int64, out}};
}

Types global_pool(const ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  ctx.expect_outputs(1, 1);
  Shape s = ctx.input(0).shape;
  if (s.size() < 2) ctx.fail(fmt::format("X {} must be [N, C, spatial...]", shape_string(s)));
  std::fill(s.begin() + 2, s.end(), 1);
  return {{ctx.input(0).dtype, s}};
}

/// BatchNormalization at inference: Y has X's shape. The further outputs are training
/// statistics ([C]); infer_shapes refuses them when something reads them.
Types batch_norm(const ShapeContext& ctx) {
  ctx.expect_inputs(5, 5);
  ctx.expect_outputs(1, 5);
  const Shape& x = ctx.input(0).shape;
  if (x.size() < 2) ctx.fail(fmt::format("X {} must be [N, C, ...]", shape_string(x)));
  if (ctx.node().attr_int("training_mode", 0) != 0) ctx.fail("training_mode is 1; fpaudit evaluates inference only");
  // Opset 7/8: spatial = 0 normalizes every element with its own statistics ([C, spatial...]).
  if (ctx.opset() < 9 && ctx.node().attr_int("spatial", 1) == 0) ctx.fail("spatial = 0 (opset 7-8) is not supported");
  for (std::size_t i = 1; i < 5; ++i)
    if (ctx.input(i).shape != Shape{x[1]})
      ctx.fail(fmt::format("input {} {} must be [C] = [{}]", i + 1, shape_string(ctx.input(i).shape), x[1]));
  const TensorType stat{ctx.input(3).dtype, {x[1]}};
  return {ctx.input(0), stat, stat, stat, stat};
}

/// LayerNormalization (opset 17): normalizes over the axes from `axis` on; Mean and InvStdDev
/// keep the leading axes and have 1 elsewhere, in the stash type.
Types layer_norm(const ShapeContext& ctx) {
  ctx.expect_inputs(2, 3);
  ctx.expect_outputs(1, 3);
  const Shape& x = ctx.input(0).shape;
  const auto axis = ctx.axis(ctx.node().attr_int("axis", -1), static_cast<std::int64_t>(x.size()));
  const Shape normalized(x.begin() + axis, x.end());
  for (std::size_t i = 1; i < 3; ++i) {
    if (!ctx.has(i)) continue;
    auto b = broadcast_shapes(normalized, ctx.input(i).shape);
    if (!b || *b != normalized)
      ctx.fail(fmt::format("input {} {} does not broadcast to the normalized shape {}", i + 1,
                           shape_string(ctx.input(i).shape), shape_string(normalized)));
  }
  const DType stash = dtype_from_onnx(ctx.node().attr_int("stash_type", 1));
  if (!is_float(stash)) ctx.fail("stash_type must be a floating-point type");
  Shape stat = x;
  std::fill(stat.begin() + axis, stat.end(), 1);
  return {ctx.input(0), {stash, stat}, {stash, stat}};
}

/// Einsum: the output axes the equation names (graph/einsum.h); floating-point operands only.
Types einsum(const ShapeContext& ctx) {
  ctx.expect_inputs(1, 64);
  ctx.expect_outputs(1, 1);
  std::vector<Shape> shapes;
  for (std::size_t i = 0; i < ctx.input_count(); ++i) {
    if (!is_float(ctx.input(i).dtype)) ctx.fail(fmt::format("operand {} is {}; fpaudit evaluates floating-point Einsum", i + 1, dtype_name(ctx.input(i).dtype)));
    shapes.push_back(ctx.input(i).shape);
  }
  std::string problem;
  const EinsumSpec s = parse_einsum(ctx.node().attr_string("equation", ""), shapes, problem);
  if (!problem.empty()) ctx.fail(problem);
  return {{ctx.input(0).dtype, s.output_shape}};
}

/// InstanceNormalization and GroupNormalization: Y has X's shape ([N, C, ...]); scale and bias
/// are [C], or [num_groups] for GroupNormalization before opset 21.
Types group_norm(const ShapeContext& ctx) {
  ctx.expect_inputs(3, 3);
  ctx.expect_outputs(1, 1);
  const Shape& x = ctx.input(0).shape;
  if (x.size() < 2) ctx.fail(fmt::format("X {} must be [N, C, ...]", shape_string(x)));
  std::int64_t params = x[1];
  if (ctx.node().op_type == "GroupNormalization") {
    const std::int64_t groups = ctx.node().attr_int("num_groups", 0);
    if (groups <= 0 || x[1] % groups != 0) ctx.fail(fmt::format("num_groups {} does not divide the {} channels", groups, x[1]));
    if (ctx.opset() < 21) params = groups;
  }
  for (std::size_t i = 1; i < 3; ++i)
    if (ctx.input(i).shape != Shape{params})
      ctx.fail(fmt::format("input {} {} must be [{}]", i + 1, shape_string(ctx.input(i).shape), params));
  return {ctx.input(0)};
}

/// LRN ([N, C, ...]) and LpNormalization: the input's shape.
Types local_norm(const ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  ctx.expect_outputs(1, 1);
  const Shape& x = ctx.input(0).shape;
  if (ctx.node().op_type == "LRN" && x.size() < 2) ctx.fail(fmt::format("X {} must be [N, C, ...]", shape_string(x)));
  if (x.empty()) ctx.fail("the input is a scalar");
  return {ctx.input(0)};
}

constexpr ShapeRuleEntry kRules[] = {
    {"AveragePool", pool},
    {"BatchNormalization", batch_norm},
    {"Conv", conv},
    {"ConvTranspose", conv_transpose},
    {"Einsum", einsum},
    {"Gemm", gemm},
    {"GlobalAveragePool", global_pool},
    {"GlobalMaxPool", global_pool},
    {"GroupNormalization", group_norm},
    {"InstanceNormalization", group_norm},
    {"LRN", local_norm},
    {"LayerNormalization", layer_norm},
    {"LpNormalization", local_norm},
    {"MatMul", matmul},
    {"MaxPool", pool},
};

}  // namespace

std::span<const ShapeRuleEntry> nn_shape_rules() { return kRules; }

}  // namespace fpaudit
