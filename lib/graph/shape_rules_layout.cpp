// Shape rules of the operators that only move data: Reshape, Flatten, Transpose, Concat,
// Split, Slice, Squeeze, Unsqueeze, Gather, Expand, Tile.
#include <algorithm>
#include <numeric>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "graph/broadcast.h"
#include "graph/dtype.h"
#include "graph/shape_rules.h"

namespace fpaudit {

namespace {

using Types = std::vector<TensorType>;
using Ints = std::vector<std::int64_t>;

std::int64_t product(Shape::const_iterator first, Shape::const_iterator last) {
  return element_count(Shape(first, last));
}

/// Reshape: 0 copies the input's dimension at that position (unless allowzero, opset 14), one
/// -1 takes what is left.
Types reshape(const ShapeContext& ctx) {
  ctx.expect_inputs(2, 2);
  ctx.expect_outputs(1, 1);
  const Shape& x = ctx.input(0).shape;
  const Ints target = ctx.int_values(1, "shape");
  const bool allow_zero = ctx.opset() >= 14 && ctx.node().attr_int("allowzero", 0) != 0;
  Shape out;
  std::optional<std::size_t> inferred;
  for (std::size_t i = 0; i < target.size(); ++i) {
    const std::int64_t d = target[i];
    if (d == -1) {
      if (inferred) ctx.fail("the target shape has more than one -1");
      inferred = i;
      out.push_back(1);
    } else if (d == 0 && !allow_zero) {
      if (i >= x.size()) ctx.fail(fmt::format("target dimension {} is 0 but the input {} has no dimension {}", i, shape_string(x), i));
      out.push_back(x[i]);
    } else if (d < 0) {
      ctx.fail(fmt::format("target dimension {} is {}", i, d));
    } else {
      out.push_back(d);
    }
  }
  const std::int64_t have = element_count(x), known = element_count(out);
  if (inferred) {
    if (known == 0 || have % known != 0)
      ctx.fail(fmt::format("cannot reshape {} to [{}]: the -1 has no whole size", shape_string(x), fmt::join(target, ", ")));
    out[*inferred] = have / known;
  } else if (known != have) {
    ctx.fail(fmt::format("cannot reshape {} ({} elements) to {} ({} elements)", shape_string(x), have, shape_string(out), known));
  }
  return {{ctx.input(0).dtype, out}};
}

Types flatten(const ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  ctx.expect_outputs(1, 1);
  const Shape& x = ctx.input(0).shape;
  const auto rank = static_cast<std::int64_t>(x.size());
  std::int64_t axis = ctx.node().attr_int("axis", 1);
  if (axis < -rank || axis > rank) ctx.fail(fmt::format("axis {} is out of range for rank {}", axis, rank));
  if (axis < 0) axis += rank;
  return {{ctx.input(0).dtype, {product(x.begin(), x.begin() + axis), product(x.begin() + axis, x.end())}}};
}

Types transpose(const ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  ctx.expect_outputs(1, 1);
  const Shape& x = ctx.input(0).shape;
  Ints reversed(x.size());
  std::iota(reversed.rbegin(), reversed.rend(), 0);
  const Ints perm = ctx.node().attr_ints("perm", reversed);
  Ints sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  Ints identity(x.size());
  std::iota(identity.begin(), identity.end(), 0);
  if (sorted != identity) ctx.fail(fmt::format("perm is not a permutation of the {} axes", x.size()));
  Shape out;
  for (std::int64_t p : perm) out.push_back(x[static_cast<std::size_t>(p)]);
  return {{ctx.input(0).dtype, out}};
}

Types concat(const ShapeContext& ctx) {
  ctx.expect_inputs(1, static_cast<std::size_t>(-1));
  ctx.expect_outputs(1, 1);
  if (!ctx.node().has_attr("axis")) ctx.fail("attribute 'axis' is missing");
  Shape out = ctx.input(0).shape;
  const auto axis = static_cast<std::size_t>(ctx.axis(ctx.node().attr_int("axis", 0), static_cast<std::int64_t>(out.size())));
  for (std::size_t i = 1; i < ctx.input_count(); ++i) {
    const TensorType& t = ctx.input(i);
    if (t.dtype != ctx.input(0).dtype) ctx.fail("inputs have different element types");
    bool fits = t.shape.size() == out.size();
    for (std::size_t d = 0; fits && d < out.size(); ++d) fits = d == axis || t.shape[d] == out[d];
    if (!fits)
      ctx.fail(fmt::format("input {} {} does not fit {} along axis {}", i + 1, shape_string(t.shape),
                           shape_string(ctx.input(0).shape), axis));
    out[axis] += t.shape[axis];
  }
  return {{ctx.input(0).dtype, out}};
}

/// Split: sizes from the 'split' attribute (before opset 13) or input; else num_outputs parts
/// (opset 18); else equal parts.
Types split(const ShapeContext& ctx) {
  ctx.expect_inputs(1, 2);
  const Shape& x = ctx.input(0).shape;
  const auto axis = static_cast<std::size_t>(ctx.axis(ctx.node().attr_int("axis", 0), static_cast<std::int64_t>(x.size())));
  const std::size_t parts = ctx.node().outputs.size();
  if (parts == 0) ctx.fail("has no outputs");
  Ints sizes;
  if (auto given = ctx.int_list("split", 1)) {
    sizes = *given;
    if (sizes.size() != parts) ctx.fail(fmt::format("'split' has {} sizes for {} outputs", sizes.size(), parts));
    std::int64_t sum = 0;
    for (std::int64_t s : sizes) {
      if (s < 0 || s > x[axis]) ctx.fail(fmt::format("split size {} is out of range", s));
      sum += s;
    }
    if (sum != x[axis]) ctx.fail(fmt::format("split sizes add up to {}, not to the dimension {}", sum, x[axis]));
  } else if (ctx.node().has_attr("num_outputs")) {
    // Opset 18: parts of ceil(dim / num_outputs), the last one holding what is left.
    const std::int64_t n = ctx.node().attr_int("num_outputs", 0);
    if (n != static_cast<std::int64_t>(parts)) ctx.fail(fmt::format("num_outputs is {} but the node has {} outputs", n, parts));
    const std::int64_t chunk = (x[axis] + n - 1) / n;
    if (chunk * (n - 1) >= x[axis] && x[axis] > 0)
      ctx.fail(fmt::format("dimension {} does not split into {} parts of {} with a non-empty last one", x[axis], n, chunk));
    sizes.assign(parts, chunk);
    sizes.back() = x[axis] - chunk * (n - 1);
  } else {
    const auto n = static_cast<std::int64_t>(parts);
    if (x[axis] % n != 0) ctx.fail(fmt::format("dimension {} does not split into {} equal parts", x[axis], n));
    sizes.assign(parts, x[axis] / n);
  }
  Types out;
  for (std::int64_t s : sizes) {
    Shape part = x;
    part[axis] = s;
    out.push_back({ctx.input(0).dtype, part});
  }
  return out;
}

Types slice(const ShapeContext& ctx) {
  ctx.expect_inputs(ctx.opset() >= 10 ? 3 : 1, ctx.opset() >= 10 ? 5 : 1);
  ctx.expect_outputs(1, 1);
  Shape out;
  for (const SliceAxis& a : slice_plan(ctx)) out.push_back(a.count);
  return {{ctx.input(0).dtype, out}};
}

Types squeeze(const ShapeContext& ctx) {
  ctx.expect_inputs(1, 2);
  ctx.expect_outputs(1, 1);
  const Shape& x = ctx.input(0).shape;
  const auto given = ctx.int_list("axes", 1);
  Shape out;
  if (!given) {
    for (std::int64_t d : x)
      if (d != 1) out.push_back(d);
    return {{ctx.input(0).dtype, out}};
  }
  const Ints axes = ctx.axes(*given, static_cast<std::int64_t>(x.size()));
  for (std::int64_t a : axes)
    if (x[static_cast<std::size_t>(a)] != 1)
      ctx.fail(fmt::format("cannot squeeze axis {} of {}: its size is not 1", a, shape_string(x)));
  for (std::size_t i = 0; i < x.size(); ++i)
    if (std::find(axes.begin(), axes.end(), static_cast<std::int64_t>(i)) == axes.end()) out.push_back(x[i]);
  return {{ctx.input(0).dtype, out}};
}

Types unsqueeze(const ShapeContext& ctx) {
  ctx.expect_inputs(1, 2);
  ctx.expect_outputs(1, 1);
  const Shape& x = ctx.input(0).shape;
  const auto given = ctx.int_list("axes", 1);
  if (!given) ctx.fail("'axes' is missing");
  const auto rank = static_cast<std::int64_t>(x.size() + given->size());
  const Ints axes = ctx.axes(*given, rank);
  Shape out;
  auto next = x.begin();
  for (std::int64_t i = 0; i < rank; ++i)
    out.push_back(std::find(axes.begin(), axes.end(), i) != axes.end() ? 1 : *next++);
  return {{ctx.input(0).dtype, out}};
}

Types gather(const ShapeContext& ctx) {
  ctx.expect_inputs(2, 2);
  ctx.expect_outputs(1, 1);
  const Shape& data = ctx.input(0).shape;
  if (data.empty()) ctx.fail("data must have rank 1 or more");
  const auto axis = static_cast<std::size_t>(ctx.axis(ctx.node().attr_int("axis", 0), static_cast<std::int64_t>(data.size())));
  const TensorType& indices = ctx.input(1);
  if (indices.dtype != DType::Int64 && indices.dtype != DType::Int32) ctx.fail("indices must be int32 or int64");
  if (const Constant* c = ctx.constant(1))
    for (std::int64_t i : c->ints)
      if (i < -data[axis] || i >= data[axis])
        ctx.fail(fmt::format("index {} is out of range for dimension {} of size {}", i, axis, data[axis]));
  Shape out(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(axis));
  out.insert(out.end(), indices.shape.begin(), indices.shape.end());
  out.insert(out.end(), data.begin() + static_cast<std::ptrdiff_t>(axis) + 1, data.end());
  return {{ctx.input(0).dtype, out}};
}

/// Expand broadcasts in both directions: the result may be larger than the given shape.
Types expand(const ShapeContext& ctx) {
  ctx.expect_inputs(2, 2);
  ctx.expect_outputs(1, 1);
  const Ints target = ctx.int_values(1, "shape");
  for (std::int64_t d : target)
    if (d < 0) ctx.fail(fmt::format("target shape [{}] has a negative dimension", fmt::join(target, ", ")));
  auto out = broadcast_shapes(ctx.input(0).shape, target);
  if (!out)
    ctx.fail(fmt::format("cannot expand {} to [{}]", shape_string(ctx.input(0).shape), fmt::join(target, ", ")));
  return {{ctx.input(0).dtype, *out}};
}

Types tile(const ShapeContext& ctx) {
  ctx.expect_inputs(2, 2);
  ctx.expect_outputs(1, 1);
  const Shape& x = ctx.input(0).shape;
  const Ints repeats = ctx.int_values(1, "repeats");
  if (repeats.size() != x.size()) ctx.fail(fmt::format("'repeats' has {} values for rank {}", repeats.size(), x.size()));
  Shape out;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (repeats[i] < 0 || repeats[i] > (std::int64_t{1} << 31)) ctx.fail(fmt::format("repeat {} is out of range", repeats[i]));
    out.push_back(x[i] * repeats[i]);
  }
  return {{ctx.input(0).dtype, out}};
}

/// DepthToSpace [N, C, H, W] → [N, C/b², H·b, W·b]; SpaceToDepth the inverse.
Types depth_space(const ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  ctx.expect_outputs(1, 1);
  const Shape& x = ctx.input(0).shape;
  if (x.size() != 4) ctx.fail(fmt::format("input {} must be [N, C, H, W]", shape_string(x)));
  const std::int64_t b = ctx.node().attr_int("blocksize", 0);
  if (b < 1 || b > (std::int64_t{1} << 15)) ctx.fail(fmt::format("blocksize {} is out of range", b));
  if (ctx.node().op_type == "DepthToSpace") {
    const std::string mode = ctx.node().attr_string("mode", "DCR");
    if (mode != "DCR" && mode != "CRD") ctx.fail(fmt::format("mode '{}' must be DCR or CRD", mode));
    if (x[1] % (b * b) != 0) ctx.fail(fmt::format("channels {} are not a multiple of blocksize² = {}", x[1], b * b));
    return {{ctx.input(0).dtype, {x[0], x[1] / (b * b), x[2] * b, x[3] * b}}};
  }
  if (x[2] % b != 0 || x[3] % b != 0) ctx.fail(fmt::format("H {} and W {} must be multiples of blocksize {}", x[2], x[3], b));
  return {{ctx.input(0).dtype, {x[0], x[1] * b * b, x[2] / b, x[3] / b}}};
}

constexpr ShapeRuleEntry kRules[] = {
    {"DepthToSpace", depth_space}, {"SpaceToDepth", depth_space},
    {"Concat", concat},   {"Expand", expand},   {"Flatten", flatten},     {"Gather", gather},
    {"Reshape", reshape}, {"Slice", slice},     {"Split", split},         {"Squeeze", squeeze},
    {"Tile", tile},       {"Transpose", transpose}, {"Unsqueeze", unsqueeze},
};

}  // namespace

std::vector<SliceAxis> slice_plan(const ShapeContext& ctx) {
  const Shape& x = ctx.input(0).shape;
  const auto rank = static_cast<std::int64_t>(x.size());
  const auto starts = ctx.int_list("starts", 1), ends = ctx.int_list("ends", 2);
  if (!starts || !ends) ctx.fail("'starts' and 'ends' are required");
  Ints axes_given(starts->size());
  std::iota(axes_given.begin(), axes_given.end(), 0);
  const Ints axes = ctx.axes(ctx.int_list("axes", 3).value_or(axes_given), rank);
  const Ints steps = ctx.int_list("steps", 4).value_or(Ints(starts->size(), 1));
  if (ends->size() != starts->size() || axes.size() != starts->size() || steps.size() != starts->size())
    ctx.fail("'starts', 'ends', 'axes' and 'steps' must have the same length");
  std::vector<SliceAxis> plan;
  for (std::int64_t d : x) plan.push_back({0, 1, d});
  for (std::size_t i = 0; i < axes.size(); ++i) {
    const std::int64_t d = x[static_cast<std::size_t>(axes[i])];
    std::int64_t step = steps[i], start = (*starts)[i], end = (*ends)[i];
    if (step == 0) ctx.fail("a step of 0 is not allowed");
    // Negative positions count from the end; then both are clamped into the dimension (one
    // before its start for ends of negative steps). |step| > d selects at most one element,
    // so it is clamped to d + 1 without changing the selection (and -INT64_MIN is avoided).
    if (start < 0) start += d;
    if (end < 0) end += d;
    step = std::clamp(step, -(d + 1), d + 1);
    std::int64_t count;
    if (d == 0) {
      start = 0;
      count = 0;
    } else if (step > 0) {
      start = std::clamp<std::int64_t>(start, 0, d);
      end = std::clamp<std::int64_t>(end, 0, d);
      count = end > start ? (end - start + step - 1) / step : 0;
    } else {
      start = std::clamp<std::int64_t>(start, 0, d - 1);
      end = std::clamp<std::int64_t>(end, -1, d - 1);
      count = start > end ? (start - end - step - 1) / -step : 0;
    }
    plan[static_cast<std::size_t>(axes[i])] = {start, step, count};
  }
  return plan;
}

std::span<const ShapeRuleEntry> layout_shape_rules() { return kRules; }

}  // namespace fpaudit
