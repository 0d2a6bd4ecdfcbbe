#include "core/ops/window.h"

#include <fmt/format.h>

#include <limits>

namespace fpaudit::ops {

namespace {

using Ints = std::vector<std::int64_t>;

std::int64_t product(const Ints& v) {
  std::int64_t p = 1;
  for (std::int64_t x : v) p *= x;
  return p;
}

/// Attributes common to every windowed operator, with ONNX's defaults; the values themselves
/// were range-checked by shape inference.
Window read_attributes(const OpContext& ctx, const Ints& kernel) {
  const Shape& x = ctx.input_shapes.at(0);
  const Shape& y = ctx.output_shapes.at(0);
  if (x.size() < 3 || y.size() != x.size()) ctx.fail(fmt::format("X {} must be [N, C, spatial...]", shape_string(x)));
  const std::size_t r = x.size() - 2;
  const Node& n = ctx.node;
  Window w;
  w.kernel = kernel;
  w.strides = n.attr_ints("strides", Ints(r, 1));
  w.dilations = n.attr_ints("dilations", Ints(r, 1));
  const Ints pads = n.attr_ints("pads", Ints(2 * r, 0));
  if (w.kernel.size() != r || w.strides.size() != r || w.dilations.size() != r || pads.size() != 2 * r)
    ctx.fail(fmt::format("kernel_shape, strides, dilations and pads must describe {} spatial axes", r));
  w.pad_begin.assign(pads.begin(), pads.begin() + static_cast<long>(r));
  w.pad_end.assign(pads.begin() + static_cast<long>(r), pads.end());
  w.in.assign(x.begin() + 2, x.end());
  w.out.assign(y.begin() + 2, y.end());
  return w;
}

std::int64_t effective(const Window& w, std::size_t i) { return (w.kernel[i] - 1) * w.dilations[i] + 1; }

/// Splits `total` padding between the two ends; `more_at_end` gets the odd pixel at the end.
void split_padding(Window& w, std::size_t i, std::int64_t total, bool more_at_end) {
  const std::int64_t small = total >= 0 ? total / 2 : -((-total + 1) / 2);  // floor(total / 2)
  w.pad_begin[i] = more_at_end ? small : total - small;
  w.pad_end[i] = total - w.pad_begin[i];
}

/// Walks every (tap, output position) pair in row-major order of both, calling
/// source(axis, tap_i, out_i) for the input coordinate along each axis (or -1 for padding).
template <class Source>
std::vector<std::int32_t> build_taps(const OpContext& ctx, const Window& w, Source source) {
  const std::size_t r = w.rank();
  if (w.in_plane() > std::numeric_limits<std::int32_t>::max())
    ctx.fail(fmt::format("an input plane of {} elements is too large", w.in_plane()));
  // Per axis: the input coordinate of each (tap, output) pair, flattened tap-major.
  std::vector<Ints> axis_source(r);
  for (std::size_t i = 0; i < r; ++i)
    for (std::int64_t t = 0; t < w.kernel[i]; ++t)
      for (std::int64_t o = 0; o < w.out[i]; ++o) axis_source[i].push_back(source(i, t, o));
  Ints in_stride(r, 1);
  for (std::size_t i = r; i-- > 1;) in_stride[i - 1] = in_stride[i] * w.in[i];
  const std::int64_t taps = w.taps(), plane = w.out_plane();
  std::vector<std::int32_t> table(static_cast<std::size_t>(taps * plane));
  // Multi-indices of the current tap (first r entries) and output position (last r).
  Ints idx(2 * r, 0);
  std::int64_t* t_idx = idx.data();
  std::int64_t* o_idx = idx.data() + r;
  for (std::int64_t t = 0; t < taps; ++t) {
    std::fill(o_idx, o_idx + r, 0);
    for (std::int64_t p = 0; p < plane; ++p) {
      std::int64_t offset = 0;
      for (std::size_t i = 0; i < r && offset >= 0; ++i) {
        const std::int64_t q = axis_source[i][static_cast<std::size_t>(t_idx[i] * w.out[i] + o_idx[i])];
        offset = q < 0 ? -1 : offset + q * in_stride[i];
      }
      table[static_cast<std::size_t>(t * plane + p)] = offset < 0 ? kPadding : static_cast<std::int32_t>(offset);
      for (std::size_t i = r; i-- > 0;) {  // odometer over output positions
        if (++o_idx[i] < w.out[i]) break;
        o_idx[i] = 0;
      }
    }
    for (std::size_t i = r; i-- > 0;) {  // odometer over taps
      if (++t_idx[i] < w.kernel[i]) break;
      t_idx[i] = 0;
    }
  }
  return table;
}

}  // namespace

std::int64_t Window::taps() const { return product(kernel); }
std::int64_t Window::in_plane() const { return product(in); }
std::int64_t Window::out_plane() const { return product(out); }

Window read_conv_window(const OpContext& ctx, const Ints& kernel) {
  Window w = read_attributes(ctx, kernel);
  const std::string auto_pad = ctx.node.attr_string("auto_pad", "NOTSET");
  if (auto_pad == "NOTSET") return w;
  for (std::size_t i = 0; i < w.rank(); ++i) {
    if (auto_pad == "VALID") {
      w.pad_begin[i] = w.pad_end[i] = 0;
      continue;
    }
    if (auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER") ctx.fail(fmt::format("auto_pad '{}' is unknown", auto_pad));
    const std::int64_t total = std::max<std::int64_t>(0, (w.out[i] - 1) * w.strides[i] + effective(w, i) - w.in[i]);
    split_padding(w, i, total, auto_pad == "SAME_UPPER");
  }
  return w;
}

Window read_conv_transpose_window(const OpContext& ctx, const Ints& kernel) {
  Window w = read_attributes(ctx, kernel);
  const std::string auto_pad = ctx.node.attr_string("auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "VALID" && auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER")
    ctx.fail(fmt::format("auto_pad '{}' is unknown", auto_pad));
  const Ints output_padding = ctx.node.attr_ints("output_padding", Ints(w.rank(), 0));
  if (output_padding.size() != w.rank()) ctx.fail("'output_padding' must have one value per spatial axis");
  // With explicit pads (and no output_shape) the output size already follows from them.
  const bool derived = ctx.node.has_attr("output_shape") || auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER";
  for (std::size_t i = 0; i < w.rank(); ++i) {
    if (auto_pad == "VALID" && !derived) w.pad_begin[i] = w.pad_end[i] = 0;
    if (!derived) continue;
    const std::int64_t total = w.strides[i] * (w.in[i] - 1) + output_padding[i] + effective(w, i) - w.out[i];
    split_padding(w, i, total, auto_pad == "SAME_UPPER");
  }
  return w;
}

std::vector<std::int32_t> forward_taps(const OpContext& ctx, const Window& w) {
  return build_taps(ctx, w, [&](std::size_t i, std::int64_t t, std::int64_t o) -> std::int64_t {
    const std::int64_t q = o * w.strides[i] - w.pad_begin[i] + t * w.dilations[i];
    return q >= 0 && q < w.in[i] ? q : -1;
  });
}

std::vector<std::int32_t> transposed_taps(const OpContext& ctx, const Window& w) {
  return build_taps(ctx, w, [&](std::size_t i, std::int64_t t, std::int64_t o) -> std::int64_t {
    const std::int64_t q = o + w.pad_begin[i] - (w.kernel[i] - 1 - t) * w.dilations[i];
    if (q < 0 || q % w.strides[i] != 0) return -1;
    return q / w.strides[i] < w.in[i] ? q / w.strides[i] : -1;
  });
}

}  // namespace fpaudit::ops
