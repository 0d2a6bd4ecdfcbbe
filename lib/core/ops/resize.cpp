#include "core/ops/resize.h"

#include <algorithm>
#include <cmath>
#include <string>

#include <fmt/format.h>

#include "core/tensor.h"

namespace fpaudit::ops {

/// Where output index o along one axis reads from: up to two input indices with weights, or
/// nothing (tf_crop_and_resize outside the crop box: the extrapolation value).
struct AxisSource {
  std::int64_t index[4] = {0, 0, 0, 0};
  double weight[4] = {1, 0, 0, 0};
  int count = 1;
};

namespace {

struct ResizeAttributes {
  std::string mode, transform, nearest_mode;
  double extrapolation = 0;
  double cubic_a = -0.75;
  bool exclude_outside = false;
};

/// The input coordinate of output index o along an axis (ONNX's coordinate transformations;
/// length_resized is scale·length_original, as ONNX's reference computes it).
double original_coordinate(const ResizeAttributes& at, double o, double scale, double in, double roi_start,
                           double roi_end) {
  const double resized = scale * in;
  const std::string& t = at.transform;
  if (t == "half_pixel") return (o + 0.5) / scale - 0.5;
  if (t == "pytorch_half_pixel") return resized > 1 ? (o + 0.5) / scale - 0.5 : 0.0;
  if (t == "align_corners") return resized == 1 ? 0.0 : o * (in - 1) / (resized - 1);
  if (t == "asymmetric") return o / scale;
  if (t == "tf_half_pixel_for_nn") return (o + 0.5) / scale;
  // tf_crop_and_resize
  if (resized == 1) return (roi_end - roi_start) * (in - 1) / 2 + roi_start * (in - 1);
  return o * (roi_end - roi_start) * (in - 1) / (resized - 1) + roi_start * (in - 1);
}

/// Nearest input index for a coordinate, by nearest_mode (ties matter only for the round_*).
double nearest(const std::string& mode, double x) {
  const double f = std::floor(x);
  if (mode == "floor") return f;
  if (mode == "ceil") return std::ceil(x);
  if (x - f == 0.5) return mode == "round_prefer_ceil" ? f + 1 : f;
  return std::floor(x + 0.5);
}

/// Cubic convolution (Keys, with a = cubic_coeff_a), as ONNX's reference computes it: the four
/// input indices nearest to x among those of the input padded by 2 at each end (edge values),
/// with ratio = x - floor(x) taken as 1 where it is 0, so a whole x reads indices x-2 .. x+1
/// with weights 0, 0, 1, 0; weights in binary64 by the reference's formulas. exclude_outside
/// zeroes the weights of padded indices and divides the rest by their sum.
AxisSource cubic_source(const ResizeAttributes& at, double x, std::int64_t in) {
  AxisSource s;
  const double f = std::floor(x);
  double r = x - f;
  if (r == 0) r = 1;
  // The nearest four: floor(x) - 1 .. floor(x) + 2 (ratio 1: x - 2 .. x + 1), kept inside the
  // padded range [-2, in + 1] as the reference's nearest-index search keeps them.
  auto first = static_cast<std::int64_t>(f) - (r == 1 ? 2 : 1);
  first = std::clamp<std::int64_t>(first, -2, in - 2);
  const double A = at.cubic_a, q = 1 - r;
  const double c[4] = {((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A,
                       ((A + 2) * r - (A + 3)) * r * r + 1,
                       ((A + 2) * q - (A + 3)) * q * q + 1,
                       ((A * (q + 1) - 5 * A) * (q + 1) + 8 * A) * (q + 1) - 4 * A};
  double total = 0;
  s.count = 4;
  for (int k = 0; k < 4; ++k) {
    const std::int64_t i = first + k;
    const bool outside = i < 0 || i >= in;
    s.index[k] = std::clamp<std::int64_t>(i, 0, in - 1);
    s.weight[k] = at.exclude_outside && outside ? 0.0 : c[k];
    total += s.weight[k];
  }
  if (at.exclude_outside)
    for (double& w : s.weight) w /= total;
  return s;
}

AxisSource axis_source(const ResizeAttributes& at, double x, std::int64_t in) {
  AxisSource s;
  const auto last = static_cast<double>(in - 1);
  if (at.transform == "tf_crop_and_resize" && (x < 0 || x > last)) {
    s.count = 0;
    return s;
  }
  if (at.mode == "nearest") {
    s.index[0] = static_cast<std::int64_t>(std::clamp(nearest(at.nearest_mode, x), 0.0, last));
    return s;
  }
  if (at.mode == "cubic") return cubic_source(at, x, in);
  x = std::clamp(x, 0.0, last);
  const double left = std::floor(x), ratio = x - left;
  s.index[0] = static_cast<std::int64_t>(left);
  if (ratio == 0) return s;
  s.index[1] = s.index[0] + 1;
  s.weight[0] = 1 - ratio;
  s.weight[1] = ratio;
  s.count = 2;
  return s;
}

}  // namespace

ResizeGeometry::ResizeGeometry(const OpContext& ctx) {
  const bool v10 = ctx.graph.opset < 11;
  ResizeAttributes at;
  at.mode = ctx.node.attr_string("mode", "nearest");
  // Resize-10 defines no coordinate transformation or rounding: it behaves as Upsample did.
  at.transform = v10 ? "asymmetric" : ctx.node.attr_string("coordinate_transformation_mode", "half_pixel");
  at.nearest_mode = v10 ? "floor" : ctx.node.attr_string("nearest_mode", "round_prefer_floor");
  at.extrapolation = ctx.node.attr_float("extrapolation_value", 0.0);
  at.cubic_a = ctx.node.attr_float("cubic_coeff_a", -0.75);
  at.exclude_outside = ctx.node.attr_int("exclude_outside", 0) != 0;
  if (at.mode != "nearest" && at.mode != "linear" && at.mode != "cubic") ctx.fail(fmt::format("mode '{}' is unknown", at.mode));
  static constexpr std::string_view kTransforms[] = {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
                                                     "tf_half_pixel_for_nn", "tf_crop_and_resize"};
  if (std::find(std::begin(kTransforms), std::end(kTransforms), at.transform) == std::end(kTransforms))
    ctx.fail(fmt::format("coordinate_transformation_mode '{}' is unknown", at.transform));
  static constexpr std::string_view kNearest[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
  if (std::find(std::begin(kNearest), std::end(kNearest), at.nearest_mode) == std::end(kNearest))
    ctx.fail(fmt::format("nearest_mode '{}' is unknown", at.nearest_mode));
  interpolates_ = at.mode != "nearest";

  const Shape& x = ctx.input_shapes.at(0);
  const Shape& y = ctx.output_shapes.at(0);
  const std::vector<double> scales = scales_of(ctx, v10, x);
  // Resize-10 says nothing about rounding; for upsampling every runtime floors (Upsample's
  // rule), for downsampling they differ (ONNX Runtime rounds up), so that is refused.
  if (v10 && !interpolates_ && std::any_of(scales.begin(), scales.end(), [](double s) { return s < 1; }))
    ctx.fail("nearest downsampling in Resize-10 has no agreed rounding; export with opset 11 or later");
  std::vector<double> roi(2 * x.size(), 0.0);
  if (at.transform == "tf_crop_and_resize") {
    const Constant* c = ctx.has_input(1) ? ctx.const_inputs[1] : nullptr;
    if (c == nullptr || c->values.size() != roi.size()) ctx.fail("tf_crop_and_resize needs a constant 'roi' with two values per axis");
    roi = c->values;
  }
  for (std::size_t i = 1; i < ctx.node.inputs.size(); ++i)
    if (ctx.has_input(i)) prep_.push_back(i);

  // Per axis, where each output index reads from.
  std::vector<std::vector<AxisSource>> axes(x.size());
  for (std::size_t i = 0; i < x.size(); ++i)
    for (std::int64_t o = 0; o < y[i]; ++o) {
      const double c = original_coordinate(at, static_cast<double>(o), scales[i], static_cast<double>(x[i]),
                                           roi[i], roi[i + x.size()]);
      axes[i].push_back(axis_source(at, c, x[i]));
    }
  build_terms(x, y, axes);
  extrapolation_ = at.extrapolation;
}

std::vector<double> ResizeGeometry::scales_of(const OpContext& ctx, bool v10, const Shape& x) {
  const std::size_t scales_at = v10 ? 1 : 2;
  const Constant* scales = ctx.has_input(scales_at) ? ctx.const_inputs[scales_at] : nullptr;
  if (ctx.has_input(scales_at) && scales == nullptr) ctx.fail("'scales' must be a constant");
  if (scales != nullptr && scales->size() > 0) {
    if (scales->values.size() != x.size()) ctx.fail("'scales' must have one value per axis");
    return scales->values;
  }
  const std::vector<std::int64_t> sizes = ctx.const_ints(3);
  if (sizes.size() != x.size()) ctx.fail("'sizes' must have one value per axis");
  std::vector<double> out;
  for (std::size_t i = 0; i < x.size(); ++i) out.push_back(static_cast<double>(sizes[i]) / static_cast<double>(x[i]));
  return out;
}

void ResizeGeometry::build_terms(const Shape& x, const Shape& y, const std::vector<std::vector<AxisSource>>& axes) {
  const std::size_t rank = x.size();
  const std::vector<std::int64_t> stride = strides_of(x);
  std::vector<std::int64_t> o(rank, 0);
  start_.push_back(0);
  const std::int64_t total = element_count(y);
  for (std::int64_t p = 0; p < total; ++p) {
    std::vector<std::int64_t> offsets = {0};
    std::vector<double> weights = {1.0};
    for (std::size_t i = 0; i < rank; ++i) {
      const AxisSource& s = axes[i][static_cast<std::size_t>(o[i])];
      std::vector<std::int64_t> next_offsets;
      std::vector<double> next_weights;
      for (std::size_t k = 0; k < offsets.size(); ++k)
        for (int c = 0; c < s.count; ++c) {
          next_offsets.push_back(offsets[k] + s.index[c] * stride[i]);
          next_weights.push_back(weights[k] * s.weight[c]);
        }
      offsets = std::move(next_offsets);
      weights = std::move(next_weights);
    }
    source_.insert(source_.end(), offsets.begin(), offsets.end());
    weight_.insert(weight_.end(), weights.begin(), weights.end());
    longest_ = std::max(longest_, offsets.size());
    start_.push_back(static_cast<std::int64_t>(source_.size()));
    for (std::size_t i = rank; i-- > 0;) {
      if (++o[i] < y[i]) break;
      o[i] = 0;
    }
  }
}

}  // namespace fpaudit::ops
