#include "core/ops/normalization.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/ops/broadcast.h"

namespace fpaudit::ops {

namespace {

/// Fails when an optional output the kernel does not compute is read by anything.
void refuse_outputs_from(const OpContext& ctx, std::size_t first, std::string_view why) {
  for (std::size_t i = first; i < ctx.node.outputs.size(); ++i)
    if (!ctx.node.outputs[i].empty())
      ctx.fail(fmt::format("output {} ('{}') is used, but {}", i + 1, ctx.node.outputs[i], why));
}

}  // namespace

BatchNormGeometry::BatchNormGeometry(const OpContext& ctx) {
  if (ctx.node.attr_int("training_mode", 0) != 0) ctx.fail("training_mode = 1: fpaudit evaluates inference only");
  refuse_outputs_from(ctx, 1, "the running statistics are training outputs, which fpaudit does not evaluate");
  const Shape& x = ctx.input_shapes.at(0);
  if (x.size() < 2) ctx.fail(fmt::format("X {} must be [N, C, ...]", shape_string(x)));
  for (std::size_t i = 1; i < 5; ++i)
    if (!ctx.has_input(i) || ctx.input_shapes[i] != Shape{x[1]})
      ctx.fail(fmt::format("input {} must have shape [C] = [{}]", i + 1, x[1]));
  epsilon_ = ctx.node.attr_float("epsilon", 1e-5);
  outer_ = x[0];
  channels_ = x[1];
  inner_ = 1;
  for (std::size_t d = 2; d < x.size(); ++d) inner_ *= x[d];
}

LayerNormGeometry::LayerNormGeometry(const OpContext& ctx) {
  refuse_outputs_from(ctx, 1, "fpaudit computes only Y (Mean and InvStdDev are training outputs)");
  const Shape& x = ctx.input_shapes.at(0);
  const int rank = static_cast<int>(x.size());
  if (rank == 0) ctx.fail("X is a scalar");
  const int axis = normalize_axis(ctx, ctx.node.attr_int("axis", -1), rank);
  const std::int64_t stash = ctx.node.attr_int("stash_type", 1);
  if (stash != 1 && stash != 10 && stash != 11 && stash != 16)
    ctx.fail(fmt::format("stash_type {} is not a floating-point type", stash));
  epsilon_ = ctx.node.attr_float("epsilon", 1e-5);
  const Shape normalized(x.begin() + axis, x.end());
  outer_ = 1;
  for (int d = 0; d < axis; ++d) outer_ *= x[d];
  length_ = element_count(normalized);
  // Scale and bias broadcast to the normalized shape: the element each position reads.
  auto offsets = [&](std::size_t i) {
    std::vector<std::int64_t> at(static_cast<std::size_t>(length_), 0);
    if (!ctx.has_input(i)) return at;  // no bias
    const Shape& s = ctx.input_shapes[i];
    if (s.size() > normalized.size()) ctx.fail(fmt::format("input {} {} has more axes than the normalized shape", i + 1, shape_string(s)));
    for (std::size_t k = 0; k < s.size(); ++k) {
      const std::int64_t want = normalized[normalized.size() - s.size() + k];
      if (s[k] != 1 && s[k] != want)
        ctx.fail(fmt::format("input {} {} does not broadcast to {}", i + 1, shape_string(s), shape_string(normalized)));
    }
    Broadcast({s}, normalized).for_each([&](std::int64_t o, const std::int64_t* off) { at[static_cast<std::size_t>(o)] = off[0]; });
    return at;
  };
  if (!ctx.has_input(1)) ctx.fail("input 2 (Scale) is required");
  has_bias_ = ctx.has_input(2);
  scale_at_ = offsets(1);
  bias_at_ = offsets(2);
}

GroupNormGeometry::GroupNormGeometry(const OpContext& ctx, bool instance) {
  const Shape& x = ctx.input_shapes.at(0);
  if (x.size() < 2) ctx.fail(fmt::format("X {} must be [N, C, ...]", shape_string(x)));
  const std::int64_t channels = x[1];
  std::int64_t inner = 1;
  for (std::size_t d = 2; d < x.size(); ++d) inner *= x[d];
  groups_ = instance ? channels : ctx.node.attr_int("num_groups", 0);
  if (groups_ <= 0 || channels % groups_ != 0)
    ctx.fail(fmt::format("num_groups {} does not divide the {} channels", groups_, channels));
  // GroupNormalization-18 scales per group ([G]); opset 21 changed scale and bias to [C].
  per_group_ = !instance && ctx.graph.opset < 21;
  const std::int64_t params = per_group_ ? groups_ : channels;
  for (std::size_t i = 1; i < 3; ++i)
    if (!ctx.has_input(i) || ctx.input_shapes[i] != Shape{params})
      ctx.fail(fmt::format("input {} must have shape [{}] ({} at opset {})", i + 1, params,
                           per_group_ ? "one value per group" : "one value per channel", ctx.graph.opset));
  epsilon_ = ctx.node.attr_float("epsilon", 1e-5);
  inner_ = inner;
  rows_ = x[0] * groups_;
  length_ = channels / groups_ * inner;
}

void GroupNormGeometry::scale_positions(std::int64_t row, std::vector<std::int64_t>& at) const {
  const std::int64_t g = row % groups_, first = g * (length_ / std::max<std::int64_t>(inner_, 1));
  at.resize(static_cast<std::size_t>(length_));
  for (std::int64_t j = 0; j < length_; ++j) at[static_cast<std::size_t>(j)] = per_group_ ? g : first + j / inner_;
}

LrnGeometry::LrnGeometry(const OpContext& ctx) {
  const Shape& x = ctx.input_shapes.at(0);
  if (x.size() < 2) ctx.fail(fmt::format("X {} must be [N, C, ...]", shape_string(x)));
  const std::int64_t size = ctx.node.attr_int("size", 0);
  if (size <= 0) ctx.fail("the attribute 'size' must be a positive number of channels");
  alpha_ = ctx.node.attr_float("alpha", 1e-4);
  beta_ = ctx.node.attr_float("beta", 0.75);
  bias_ = ctx.node.attr_float("bias", 1.0);
  scale_ = alpha_ / static_cast<double>(size);
  outer_ = x[0];
  channels_ = x[1];
  for (std::size_t d = 2; d < x.size(); ++d) inner_ *= x[d];
  // ONNX: channels c - floor((size - 1)/2) .. c + ceil((size - 1)/2), inside [0, C).
  const std::int64_t before = (size - 1) / 2, after = size - 1 - before;
  for (std::int64_t c = 0; c < channels_; ++c) {
    const std::int64_t lo = std::max<std::int64_t>(0, c - before), hi = std::min(channels_ - 1, c + after);
    first_.push_back(lo);
    count_.push_back(hi - lo + 1);
  }
}

LpNormGeometry::LpNormGeometry(const OpContext& ctx) {
  const Shape& x = ctx.input_shapes.at(0);
  const int rank = static_cast<int>(x.size());
  if (rank == 0) ctx.fail("LpNormalization of a scalar");
  const std::int64_t p = ctx.node.attr_int("p", 2);
  if (p != 1 && p != 2) ctx.fail(fmt::format("p = {}: ONNX defines only 1 and 2", p));
  p_ = static_cast<int>(p);
  const int axis = normalize_axis(ctx, ctx.node.attr_int("axis", -1), rank);
  for (int d = 0; d < axis; ++d) outer_ *= x[static_cast<std::size_t>(d)];
  length_ = x[static_cast<std::size_t>(axis)];
  for (int d = axis + 1; d < rank; ++d) inner_ *= x[static_cast<std::size_t>(d)];
}

}  // namespace fpaudit::ops
