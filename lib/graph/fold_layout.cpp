// Folding rules of data movement: the values are copied, never changed, so every dtype folds.
#include <numeric>

#include "graph/broadcast.h"
#include "graph/fold.h"
#include "graph/shape_rules.h"

namespace fpaudit {

namespace {

using Outputs = std::optional<std::vector<Constant>>;
using Types = std::vector<TensorType>;
using Ints = std::vector<std::int64_t>;

/// Identity, Reshape, Flatten, Squeeze, Unsqueeze: same elements, new shape.
Outputs same_elements(const ShapeContext& ctx, const Types& out) {
  Constant c = *ctx.constant(0);
  c.shape = out[0].shape;
  return std::vector<Constant>{std::move(c)};
}

/// Dropout at inference: the identity, and a mask of all true.
Outputs dropout(const ShapeContext& ctx, const Types& out) {
  Constant mask = make_constant(out[1]);
  std::fill(mask.ints.begin(), mask.ints.end(), 1);
  return std::vector<Constant>{*ctx.constant(0), std::move(mask)};
}

/// The row-major offset in the input of every output element, given for each output axis the
/// input axis it walks and the input position of its first element and its step.
Ints walk(const Shape& out, const Shape& in, const std::vector<std::size_t>& in_axis, const Ints& first, const Ints& step) {
  const Ints in_strides = strides_of(in);
  Ints offsets(static_cast<std::size_t>(element_count(out)));
  Ints index(out.size(), 0);
  std::int64_t base = 0;
  for (std::size_t a = 0; a < out.size(); ++a) base += first[a] * in_strides[in_axis[a]];
  std::int64_t offset = base;
  for (std::size_t k = 0; k < offsets.size(); ++k) {
    offsets[k] = offset;
    for (std::size_t a = out.size(); a-- > 0;) {
      const std::int64_t move = step[a] * in_strides[in_axis[a]];
      if (++index[a] < out[a]) {
        offset += move;
        break;
      }
      offset -= move * (out[a] - 1);
      index[a] = 0;
    }
  }
  return offsets;
}

Outputs transpose(const ShapeContext& ctx, const Types& out) {
  const Shape& in = ctx.input(0).shape;
  Ints reversed(in.size());
  std::iota(reversed.rbegin(), reversed.rend(), 0);
  const Ints perm = ctx.node().attr_ints("perm", reversed);
  std::vector<std::size_t> axis(perm.begin(), perm.end());
  const Ints offsets = walk(out[0].shape, in, axis, Ints(in.size(), 0), Ints(in.size(), 1));
  return std::vector<Constant>{gather_offsets(*ctx.constant(0), out[0], offsets)};
}

Outputs slice(const ShapeContext& ctx, const Types& out) {
  const Shape& in = ctx.input(0).shape;
  std::vector<std::size_t> axis(in.size());
  std::iota(axis.begin(), axis.end(), 0);
  Ints first, step;
  for (const SliceAxis& a : slice_plan(ctx)) {
    first.push_back(a.start);
    step.push_back(a.step);
  }
  const Ints offsets = walk(out[0].shape, in, axis, first, step);
  return std::vector<Constant>{gather_offsets(*ctx.constant(0), out[0], offsets)};
}

/// Concat and Split view a tensor as [outer, axis, inner] blocks.
struct Blocks {
  std::int64_t outer = 1, inner = 1;
};
Blocks blocks(const Shape& s, std::size_t axis) {
  Blocks b;
  for (std::size_t i = 0; i < axis; ++i) b.outer *= s[i];
  for (std::size_t i = axis + 1; i < s.size(); ++i) b.inner *= s[i];
  return b;
}

Outputs concat(const ShapeContext& ctx, const Types& out) {
  const auto axis = static_cast<std::size_t>(ctx.axis(ctx.node().attr_int("axis", 0), out[0].rank()));
  const Blocks b = blocks(out[0].shape, axis);
  Ints offsets;  // into the inputs laid end to end
  std::vector<const Constant*> parts;
  std::int64_t total = 0;
  std::vector<std::int64_t> start;  // each input's first element in that concatenation
  for (std::size_t i = 0; i < ctx.input_count(); ++i) {
    parts.push_back(ctx.constant(i));
    start.push_back(total);
    total += parts.back()->size();
  }
  Constant joined = make_constant({out[0].dtype, {total}});
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (is_float(joined.dtype)) std::copy(parts[i]->values.begin(), parts[i]->values.end(), joined.values.begin() + start[i]);
    else std::copy(parts[i]->ints.begin(), parts[i]->ints.end(), joined.ints.begin() + start[i]);
  }
  for (std::int64_t o = 0; o < b.outer; ++o)
    for (std::size_t i = 0; i < parts.size(); ++i) {
      const std::int64_t rows = parts[i]->shape[axis] * b.inner;
      for (std::int64_t r = 0; r < rows; ++r) offsets.push_back(start[i] + o * rows + r);
    }
  return std::vector<Constant>{gather_offsets(joined, out[0], offsets)};
}

Outputs split(const ShapeContext& ctx, const Types& out) {
  const Shape& in = ctx.input(0).shape;
  const auto axis = static_cast<std::size_t>(ctx.axis(ctx.node().attr_int("axis", 0), static_cast<std::int64_t>(in.size())));
  const Blocks b = blocks(in, axis);
  std::vector<Constant> parts;
  std::int64_t at = 0;  // position along the axis where this part starts
  for (const TensorType& part : out) {
    Ints offsets;
    const std::int64_t rows = part.shape[axis] * b.inner;
    for (std::int64_t o = 0; o < b.outer; ++o)
      for (std::int64_t r = 0; r < rows; ++r) offsets.push_back(o * in[axis] * b.inner + at * b.inner + r);
    parts.push_back(gather_offsets(*ctx.constant(0), part, offsets));
    at += part.shape[axis];
  }
  return parts;
}

Outputs gather(const ShapeContext& ctx, const Types& out) {
  const Shape& data = ctx.input(0).shape;
  const auto axis = static_cast<std::size_t>(ctx.axis(ctx.node().attr_int("axis", 0), static_cast<std::int64_t>(data.size())));
  const Blocks b = blocks(data, axis);
  const Ints& indices = ctx.constant(1)->ints;  // range-checked by the shape rule
  Ints offsets;
  for (std::int64_t o = 0; o < b.outer; ++o)
    for (std::int64_t i : indices) {
      const std::int64_t row = i < 0 ? i + data[axis] : i;
      for (std::int64_t r = 0; r < b.inner; ++r) offsets.push_back((o * data[axis] + row) * b.inner + r);
    }
  return std::vector<Constant>{gather_offsets(*ctx.constant(0), out[0], offsets)};
}

Outputs expand(const ShapeContext& ctx, const Types& out) {
  const Ints offsets = broadcast_offsets(ctx.input(0).shape, out[0].shape);
  return std::vector<Constant>{gather_offsets(*ctx.constant(0), out[0], offsets)};
}

Outputs tile(const ShapeContext& ctx, const Types& out) {
  const Shape& in = ctx.input(0).shape;
  const Ints in_strides = strides_of(in);
  const Ints out_strides = strides_of(out[0].shape);
  Ints offsets(static_cast<std::size_t>(element_count(out[0].shape)));
  for (std::size_t k = 0; k < offsets.size(); ++k) {
    std::int64_t rest = static_cast<std::int64_t>(k), offset = 0;
    for (std::size_t a = 0; a < in.size(); ++a) {
      offset += (rest / out_strides[a]) % in[a] * in_strides[a];
      rest %= out_strides[a];
    }
    offsets[k] = offset;
  }
  return std::vector<Constant>{gather_offsets(*ctx.constant(0), out[0], offsets)};
}

constexpr FoldRuleEntry kRules[] = {
    {"Concat", concat},          {"Dropout", dropout},         {"Expand", expand},
    {"Flatten", same_elements},  {"Gather", gather},           {"Identity", same_elements},
    {"Reshape", same_elements},  {"Slice", slice},             {"Split", split},
    {"Squeeze", same_elements},  {"Tile", tile},               {"Transpose", transpose},
    {"Unsqueeze", same_elements},
};

}  // namespace

std::span<const FoldRuleEntry> layout_fold_rules() { return kRules; }

Constant make_constant(const TensorType& type) {
  Constant c;
  c.dtype = type.dtype;
  c.shape = type.shape;
  const auto n = static_cast<std::size_t>(element_count(type.shape));
  if (is_float(type.dtype)) c.values.resize(n);
  else c.ints.resize(n);
  return c;
}

Constant gather_offsets(const Constant& in, const TensorType& out, std::span<const std::int64_t> offsets) {
  Constant c = make_constant(out);
  for (std::size_t k = 0; k < offsets.size(); ++k) {
    const auto from = static_cast<std::size_t>(offsets[k]);
    if (is_float(c.dtype)) c.values[k] = in.values[from];
    else c.ints[k] = in.ints[from];
  }
  return c;
}

FoldRule find_fold_rule(std::string_view op) {
  for (auto family : {layout_fold_rules(), arithmetic_fold_rules(), reduce_fold_rules(), data_fold_rules()})
    for (const FoldRuleEntry& e : family)
      if (e.op == op) return e.rule;
  return nullptr;
}

}  // namespace fpaudit
