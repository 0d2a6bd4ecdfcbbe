#include "core/ops/pool.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/ops/window.h"

namespace fpaudit::ops {

namespace {

/// Number of taps of output o along axis i whose position lies in the padded input
/// [−pad_begin, in + pad_end): the window PyTorch and ONNX clip ceil_mode windows to.
std::int64_t taps_in_padded_input(const Window& w, std::size_t i, std::int64_t o) {
  std::int64_t n = 0;
  for (std::int64_t t = 0; t < w.kernel[i]; ++t) {
    const std::int64_t q = o * w.strides[i] - w.pad_begin[i] + t * w.dilations[i];
    n += q >= -w.pad_begin[i] && q < w.in[i] + w.pad_end[i];
  }
  return n;
}

PlaneWindows plane_windows(const OpContext& ctx, const Window& w, bool count_padding) {
  const std::vector<std::int32_t> taps = forward_taps(ctx, w);
  const std::int64_t plane = w.out_plane(), n_taps = w.taps();
  PlaneWindows pw;
  pw.start.push_back(0);
  std::vector<std::int64_t> o(w.rank(), 0);  // multi-index of p
  for (std::int64_t p = 0; p < plane; ++p) {
    for (std::int64_t t = 0; t < n_taps; ++t)
      if (const std::int32_t s = taps[static_cast<std::size_t>(t * plane + p)]; s != kPadding) pw.source.push_back(s);
    const auto inside = static_cast<std::int64_t>(pw.source.size()) - pw.start.back();
    std::int64_t padded = 1;
    for (std::size_t i = 0; i < w.rank(); ++i) padded *= taps_in_padded_input(w, i, o[i]);
    // An average over nothing, or a maximum of nothing, has no value: refuse the attributes.
    if (inside == 0 && !count_padding)
      ctx.fail(fmt::format("the window of output position {} lies entirely in the padding", p));
    pw.count.push_back(static_cast<double>(count_padding ? padded : inside));
    pw.longest = std::max(pw.longest, inside);
    pw.start.push_back(static_cast<std::int64_t>(pw.source.size()));
    for (std::size_t i = w.rank(); i-- > 0;) {
      if (++o[i] < w.out[i]) break;
      o[i] = 0;
    }
  }
  return pw;
}

}  // namespace

PoolGeometry::PoolGeometry(const OpContext& ctx, bool max) : max_(max) {
  const std::vector<std::int64_t> kernel = ctx.node.attr_ints("kernel_shape", {});
  if (kernel.empty()) ctx.fail("attribute 'kernel_shape' is missing");
  if (max) {
    for (std::size_t i = 1; i < ctx.node.outputs.size(); ++i)
      if (!ctx.node.outputs[i].empty()) ctx.fail("the Indices output is used; fpaudit computes only the pooled values");
  } else if (ctx.node.has_attr("dilations")) {
    ctx.fail("AveragePool with dilations (opset 19) is not supported");
  }
  const Window w = read_conv_window(ctx, kernel);
  windows_ = plane_windows(ctx, w, !max && ctx.node.attr_int("count_include_pad", 0) != 0);
  const Shape& x = ctx.input_shapes[0];
  planes_ = x[0] * x[1];
  in_plane_ = w.in_plane();
  out_plane_ = w.out_plane();
}

GlobalPoolGeometry::GlobalPoolGeometry(const OpContext& ctx) {
  const Shape& x = ctx.input_shapes.at(0);
  if (x.size() < 2) ctx.fail(fmt::format("X {} must be [N, C, ...]", shape_string(x)));
  planes_ = x[0] * x[1];
  plane_ = 1;
  for (std::size_t d = 2; d < x.size(); ++d) plane_ *= x[d];
}

}  // namespace fpaudit::ops
