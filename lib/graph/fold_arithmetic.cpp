// Folding rules that compute values: shape queries, generators, casts, element-by-element
// arithmetic, comparisons and integer reductions. Integers wrap like the dtype's two's
// complement; division by zero is refused rather than left undefined.
#include <cmath>
#include <functional>

#include <fmt/format.h>

#include "format/format.h"
#include "format/round.h"
#include "graph/broadcast.h"
#include "graph/dtype.h"
#include "graph/fold.h"
#include "graph/params.h"

namespace fpaudit {

namespace {

using Outputs = std::optional<std::vector<Constant>>;
using Types = std::vector<TensorType>;
using Ints = std::vector<std::int64_t>;

Outputs one(Constant c) { return std::vector<Constant>{std::move(c)}; }

// Wrapping integer arithmetic without signed overflow.
std::int64_t wrap_add(std::int64_t a, std::int64_t b) { return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b)); }
std::int64_t wrap_sub(std::int64_t a, std::int64_t b) { return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) - static_cast<std::uint64_t>(b)); }
std::int64_t wrap_mul(std::int64_t a, std::int64_t b) { return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) * static_cast<std::uint64_t>(b)); }

// ---- shape queries and generators --------------------------------------------------------

Outputs shape_of(const ShapeContext& ctx, const Types& out) {
  const Shape& s = ctx.input(0).shape;
  const auto rank = static_cast<std::int64_t>(s.size());
  std::int64_t start = ctx.node().attr_int("start", 0);
  start = std::clamp<std::int64_t>(start < 0 ? start + rank : start, 0, rank);
  Constant c = make_constant(out[0]);
  for (std::size_t i = 0; i < c.ints.size(); ++i) c.ints[i] = s[static_cast<std::size_t>(start) + i];
  return one(std::move(c));
}

Outputs size_of(const ShapeContext& ctx, const Types& out) {
  Constant c = make_constant(out[0]);
  c.ints[0] = element_count(ctx.input(0).shape);
  return one(std::move(c));
}

Outputs constant_of_shape(const ShapeContext& ctx, const Types& out) {
  Constant c = make_constant(out[0]);
  if (ctx.node().has_attr("value")) {
    const Constant& v = std::get<Constant>(ctx.node().attributes.at("value"));
    std::fill(c.values.begin(), c.values.end(), v.values.empty() ? 0.0 : v.values[0]);
    std::fill(c.ints.begin(), c.ints.end(), v.ints.empty() ? 0 : v.ints[0]);
  }
  return one(std::move(c));
}

Outputs range(const ShapeContext& ctx, const Types& out) {
  Constant c = make_constant(out[0]);
  const Constant &start = *ctx.constant(0), &delta = *ctx.constant(2);
  for (std::size_t i = 0; i < c.values.size(); ++i)
    c.values[i] = round_to_dtype(c.dtype, start.values[0] + static_cast<double>(i) * delta.values[0]);
  for (std::size_t i = 0; i < c.ints.size(); ++i)
    c.ints[i] = wrap_to(c.dtype, wrap_add(start.ints[0], wrap_mul(static_cast<std::int64_t>(i), delta.ints[0])));
  return one(std::move(c));
}

// ---- Cast --------------------------------------------------------------------------------

/// An int64 rounded into a floating dtype with one rounding: x is split into two halves that
/// binary64 holds exactly, so values beyond 2^53 are not rounded twice.
double int_to_float(DType to, std::int64_t x) {
  if (to == DType::Float64) return static_cast<double>(x);  // one correctly rounded conversion
  const double high = std::ldexp(static_cast<double>(x >> 32), 32);
  const double low = static_cast<double>(x & 0xFFFFFFFF);
  const double hi = high + low;
  const double lo = low - (hi - high);  // exact: |high| ≥ |low| or high = 0 (Fast2Sum)
  const Format f = to == DType::Float16 ? binary16() : to == DType::BFloat16 ? bfloat16() : binary32();
  return round_exact(f, hi, lo, Round::NearestEven).value;
}

Outputs cast(const ShapeContext& ctx, const Types& out) {
  const Constant& in = *ctx.constant(0);
  Constant c = make_constant(out[0]);
  for (std::size_t i = 0; i < static_cast<std::size_t>(in.size()); ++i) {
    if (is_float(c.dtype)) {
      c.values[i] = is_float(in.dtype) ? round_to_dtype(c.dtype, in.values[i]) : int_to_float(c.dtype, in.ints[i]);
    } else if (!is_float(in.dtype)) {
      c.ints[i] = wrap_to(c.dtype, in.ints[i]);
    } else if (c.dtype == DType::Bool) {
      c.ints[i] = in.values[i] != 0 ? 1 : 0;
    } else {
      // Float to integer truncates toward zero; NaN, infinities and values outside the
      // integer type have no defined result, so they are refused.
      const double t = std::trunc(in.values[i]);
      if (!(t >= -9223372036854775808.0 && t < 9223372036854775808.0) || wrap_to(c.dtype, static_cast<std::int64_t>(t)) != static_cast<std::int64_t>(t))
        ctx.fail(fmt::format("cannot cast {} to {}", in.values[i], dtype_name(c.dtype)));
      c.ints[i] = static_cast<std::int64_t>(t);
    }
  }
  return one(std::move(c));
}

// ---- element by element ------------------------------------------------------------------

/// Applies f to broadcast elements of the given inputs; float results are rounded to the
/// output dtype.
template <class FloatOp, class IntOp>
Constant map_elements(const ShapeContext& ctx, const TensorType& out, std::size_t first, std::size_t count, FloatOp float_op, IntOp int_op) {
  Constant c = make_constant(out);
  std::vector<Ints> offsets;
  std::vector<const Constant*> in;
  for (std::size_t i = first; i < first + count; ++i) {
    in.push_back(ctx.constant(i));
    offsets.push_back(broadcast_offsets(in.back()->shape, out.shape));
  }
  const bool float_inputs = is_float(in.back()->dtype);
  std::vector<double> x(count);
  Ints n(count);
  for (std::size_t k = 0; k < static_cast<std::size_t>(element_count(out.shape)); ++k) {
    for (std::size_t j = 0; j < count; ++j) {
      const auto at = static_cast<std::size_t>(offsets[j][k]);
      if (float_inputs) x[j] = real_at(*in[j], at);
      else n[j] = in[j]->ints[at];
    }
    if (is_float(out.dtype)) c.values[k] = round_to_dtype(out.dtype, float_op(x));
    else if (float_inputs) c.ints[k] = float_op(x) != 0 ? 1 : 0;  // comparisons of floats
    else c.ints[k] = wrap_to(out.dtype, int_op(n));
  }
  return c;
}

#define FPAUDIT_ELEMENTWISE(name, arity, float_expr, int_expr)                                                   \
  Outputs name(const ShapeContext& ctx, const Types& out) {                                                        \
    return one(map_elements(                                                                                    \
        ctx, out[0], 0, arity, [&]([[maybe_unused]] const std::vector<double>& x) -> double { return float_expr; },              \
        [&](const Ints& n) -> std::int64_t { return int_expr; }));                                              \
  }

std::int64_t int_div(const ShapeContext& ctx, std::int64_t a, std::int64_t b) {
  if (b == 0) ctx.fail("integer division by zero");
  if (b == -1) return wrap_sub(0, a);  // INT64_MIN / -1 would overflow
  return a / b;
}

/// Mod: fmod = 1 keeps the dividend's sign (C fmod); fmod = 0, integers only, the divisor's
/// (Python's %).
std::int64_t int_mod(const ShapeContext& ctx, std::int64_t a, std::int64_t b) {
  if (b == 0) ctx.fail("integer modulo by zero");
  if (b == -1) return 0;
  const std::int64_t r = a % b;
  if (ctx.node().attr_int("fmod", 0) == 0 && r != 0 && ((r < 0) != (b < 0))) return r + b;
  return r;
}

FPAUDIT_ELEMENTWISE(add, 2, x[0] + x[1], wrap_add(n[0], n[1]))
FPAUDIT_ELEMENTWISE(sub, 2, x[0] - x[1], wrap_sub(n[0], n[1]))
FPAUDIT_ELEMENTWISE(mul, 2, x[0] * x[1], wrap_mul(n[0], n[1]))
FPAUDIT_ELEMENTWISE(div, 2, x[0] / x[1], int_div(ctx, n[0], n[1]))
FPAUDIT_ELEMENTWISE(mod, 2, std::fmod(x[0], x[1]), int_mod(ctx, n[0], n[1]))
FPAUDIT_ELEMENTWISE(neg, 1, -x[0], wrap_sub(0, n[0]))
FPAUDIT_ELEMENTWISE(abs, 1, std::fabs(x[0]), n[0] < 0 ? wrap_sub(0, n[0]) : n[0])
FPAUDIT_ELEMENTWISE(floor, 1, std::floor(x[0]), n[0])
FPAUDIT_ELEMENTWISE(ceil, 1, std::ceil(x[0]), n[0])
FPAUDIT_ELEMENTWISE(relu, 1, x[0] > 0 ? x[0] : 0.0, n[0] > 0 ? n[0] : 0)
FPAUDIT_ELEMENTWISE(equal, 2, x[0] == x[1] ? 1.0 : 0.0, n[0] == n[1] ? 1 : 0)
FPAUDIT_ELEMENTWISE(less, 2, x[0] < x[1] ? 1.0 : 0.0, n[0] < n[1] ? 1 : 0)
FPAUDIT_ELEMENTWISE(greater, 2, x[0] > x[1] ? 1.0 : 0.0, n[0] > n[1] ? 1 : 0)
FPAUDIT_ELEMENTWISE(less_or_equal, 2, x[0] <= x[1] ? 1.0 : 0.0, n[0] <= n[1] ? 1 : 0)
FPAUDIT_ELEMENTWISE(greater_or_equal, 2, x[0] >= x[1] ? 1.0 : 0.0, n[0] >= n[1] ? 1 : 0)
FPAUDIT_ELEMENTWISE(sign, 1, x[0] > 0 ? 1.0 : x[0] < 0 ? -1.0 : x[0], n[0] > 0 ? 1 : n[0] < 0 ? -1 : 0)
FPAUDIT_ELEMENTWISE(round_even, 1, std::nearbyint(x[0]), n[0])
FPAUDIT_ELEMENTWISE(logical_not, 1, 0.0, n[0] == 0 ? 1 : 0)
FPAUDIT_ELEMENTWISE(logical_and, 2, 0.0, n[0] != 0 && n[1] != 0 ? 1 : 0)
FPAUDIT_ELEMENTWISE(logical_or, 2, 0.0, n[0] != 0 || n[1] != 0 ? 1 : 0)
FPAUDIT_ELEMENTWISE(logical_xor, 2, 0.0, (n[0] != 0) != (n[1] != 0) ? 1 : 0)
#undef FPAUDIT_ELEMENTWISE

/// Sqrt and Reciprocal are correctly rounded in binary64 and so fold exactly-once-rounded;
/// ONNX defines them for floating types only.
Outputs sqrt_rule(const ShapeContext& ctx, const Types& out) {
  if (!is_float(out[0].dtype)) return std::nullopt;
  return one(map_elements(ctx, out[0], 0, 1, [](const std::vector<double>& x) { return std::sqrt(x[0]); },
                          [](const Ints&) -> std::int64_t { return 0; }));
}
Outputs reciprocal(const ShapeContext& ctx, const Types& out) {
  if (!is_float(out[0].dtype)) return std::nullopt;
  return one(map_elements(ctx, out[0], 0, 1, [](const std::vector<double>& x) { return 1.0 / x[0]; },
                          [](const Ints&) -> std::int64_t { return 0; }));
}

/// Pow of integers (exporters square shape values now and then), wrapping like the dtype; the
/// float power is not correctly rounded by libm, so float Pow stays a node.
Outputs power(const ShapeContext& ctx, const Types& out) {
  if (is_float(out[0].dtype) || is_float(ctx.input(1).dtype)) return std::nullopt;
  return one(map_elements(ctx, out[0], 0, 2, [](const std::vector<double>&) { return 0.0; }, [&](const Ints& n) {
    if (n[1] < 0) ctx.fail(fmt::format("integer {} to the negative power {}", n[0], n[1]));
    std::uint64_t result = 1, base = static_cast<std::uint64_t>(n[0]);
    for (std::int64_t e = n[1]; e > 0; e >>= 1, base *= base)
      if (e & 1) result *= base;
    return static_cast<std::int64_t>(result);
  }));
}

/// Min and Max over any number of inputs; NaN propagates, as in ONNX.
template <bool kMax>
Outputs extremum(const ShapeContext& ctx, const Types& out) {
  auto pick_float = [](const std::vector<double>& x) {
    double r = x[0];
    for (double v : x) r = std::isnan(v) || std::isnan(r) ? std::nan("") : (kMax ? std::max(r, v) : std::min(r, v));
    return r;
  };
  auto pick_int = [](const Ints& n) { return kMax ? *std::max_element(n.begin(), n.end()) : *std::min_element(n.begin(), n.end()); };
  return one(map_elements(ctx, out[0], 0, ctx.input_count(), pick_float, pick_int));
}

Outputs where(const ShapeContext& ctx, const Types& out) {
  Constant c = make_constant(out[0]);
  const Ints cond = broadcast_offsets(ctx.input(0).shape, out[0].shape);
  const Ints a = broadcast_offsets(ctx.input(1).shape, out[0].shape);
  const Ints b = broadcast_offsets(ctx.input(2).shape, out[0].shape);
  const Constant &k = *ctx.constant(0), &x = *ctx.constant(1), &y = *ctx.constant(2);
  for (std::size_t i = 0; i < cond.size(); ++i) {
    const bool take_x = k.ints[static_cast<std::size_t>(cond[i])] != 0;
    const auto at = static_cast<std::size_t>(take_x ? a[i] : b[i]);
    if (is_float(c.dtype)) c.values[i] = (take_x ? x : y).values[at];
    else c.ints[i] = (take_x ? x : y).ints[at];
  }
  return one(std::move(c));
}

/// An integer Clip bound: a one-element constant input of the input's type (opset 11 on; the
/// float attributes of older opsets apply to float inputs only).
std::optional<std::int64_t> int_bound(const ShapeContext& ctx, std::size_t i, const char* name) {
  if (ctx.node().has_attr(name)) ctx.fail(fmt::format("attribute '{}' applies to floating-point inputs only", name));
  const Constant* c = ctx.constant(i);
  if (!c) return std::nullopt;
  if (c->dtype != ctx.input(0).dtype || c->ints.size() != 1)
    ctx.fail(fmt::format("'{}' must be one value of the input's type", name));
  return c->ints[0];
}

Outputs clip(const ShapeContext& ctx, const Types& out) {
  Constant c = *ctx.constant(0);
  c.shape = out[0].shape;
  if (is_float(c.dtype)) {
    const auto lo = float_param(ctx.graph(), ctx.node(), "min", 1);
    const auto hi = float_param(ctx.graph(), ctx.node(), "max", 2);
    for (double& v : c.values) {
      if (lo && v < *lo) v = *lo;
      if (hi && v > *hi) v = *hi;
    }
    return one(std::move(c));
  }
  const auto lo = int_bound(ctx, 1, "min"), hi = int_bound(ctx, 2, "max");
  for (std::int64_t& v : c.ints) {
    if (lo && v < *lo) v = *lo;
    if (hi && v > *hi) v = *hi;
  }
  return one(std::move(c));
}

constexpr FoldRuleEntry kRules[] = {
    {"Abs", abs},           {"Add", add},                 {"And", logical_and},     {"Cast", cast},
    {"Ceil", ceil},         {"Clip", clip},               {"ConstantOfShape", constant_of_shape},
    {"Div", div},           {"Equal", equal},             {"Floor", floor},         {"Greater", greater},
    {"GreaterOrEqual", greater_or_equal},                 {"Less", less},           {"LessOrEqual", less_or_equal},
    {"Max", extremum<true>},      {"Min", extremum<false>}, {"Mod", mod},
    {"Mul", mul},           {"Neg", neg},                 {"Not", logical_not},     {"Or", logical_or},       {"Pow", power},
    {"Range", range},       {"Reciprocal", reciprocal},   {"Relu", relu},           {"Round", round_even},
    {"Shape", shape_of},    {"Sign", sign},
    {"Size", size_of},      {"Sqrt", sqrt_rule},          {"Sub", sub},             {"Where", where},
    {"Xor", logical_xor},
};

}  // namespace

std::span<const FoldRuleEntry> arithmetic_fold_rules() { return kRules; }

}  // namespace fpaudit
