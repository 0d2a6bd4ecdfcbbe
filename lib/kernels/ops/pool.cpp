// MaxPool, AveragePool and GlobalAveragePool. Each output reads the input elements of its window
// that lie inside the input, listed at preparation (row-major tap order): MaxPool selects the
// largest exactly; AveragePool sums them in the accumulation format by the chain's schedule and
// divides by the count with one rounding into storage. Padding adds nothing to a sum, so it
// only changes the count (count_include_pad).
#include <cmath>

#include "bounds/reductions.h"
#include "kernels/ops/ops.h"
#include "kernels/ops/window.h"

namespace fpaudit::ops {

namespace {

/// The windows of one input plane: for output position p, the input offsets
/// source[start[p] .. start[p+1]) and the divisor AveragePool uses.
struct PlaneWindows {
  std::vector<std::int64_t> start;
  std::vector<std::int32_t> source;
  std::vector<double> count;
  std::int64_t longest = 0;
};

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

/// MaxPool and AveragePool over the planes of X [N, C, spatial...].
class Pool : public OpKernel {
 public:
  Pool(const OpContext& ctx, bool max) : max_(max) {
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

  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const double* x = in[0]->data.data();
    double* y = out[0]->data.data();
    std::vector<double> window(static_cast<std::size_t>(max_ ? 0 : windows_.longest));
    for (std::int64_t plane = 0; plane < planes_; ++plane) {
      const double* xp = x + plane * in_plane_;
      double* yp = y + plane * out_plane_;
      for (std::int64_t p = 0; p < out_plane_; ++p) {
        const std::int32_t* first = windows_.source.data() + windows_.start[p];
        const std::int64_t n = windows_.start[p + 1] - windows_.start[p];
        if (max_) {
          double m = -INFINITY;
          for (std::int64_t k = 0; k < n; ++k) {
            const double v = xp[first[k]];
            m = v > m || std::isnan(v) ? v : m;  // a NaN stays: nothing compares greater
          }
          yp[p] = m;
        } else {
          for (std::int64_t k = 0; k < n; ++k) window[static_cast<std::size_t>(k)] = xp[first[k]];
          yp[p] = a.div(a.sum(window.data(), 1, n), windows_.count[static_cast<std::size_t>(p)]);
        }
      }
    }
  }
  bool exact() const override { return max_; }
  /// MaxPool: the largest input bound of the window (a max is 1-Lipschitz in the max-norm).
  /// AveragePool: a sum by the schedule, then one rounded division (bounds/reductions.h).
  void bound(const bounds::BoundRequest& r) const override {
    const bounds::Enclosure& x = r.inputs[0];
    double fail = 0;
    std::vector<std::int64_t> terms;  // one window's offsets, widened for reduction_bound
    for (std::int64_t plane = 0; plane < planes_; ++plane)
      for (std::int64_t p = 0; p < out_plane_; ++p) {
        const std::int32_t* first = windows_.source.data() + windows_.start[p];
        const std::int64_t n = windows_.start[p + 1] - windows_.start[p];
        const long o = static_cast<long>(plane * out_plane_ + p), base = static_cast<long>(plane * in_plane_);
        if (max_) {
          double d = 0, q = 0;
          for (std::int64_t k = 0; k < n; ++k) {
            d = std::fmax(d, x.err->data[base + first[k]]);
            q = std::fmax(q, x.err_prob->data[base + first[k]]);
          }
          r.det[0]->data[o] = d;
          r.prob[0]->data[o] = q;
          continue;
        }
        terms.assign(first, first + n);
        const bounds::ElementBound b = bounds::reduction_bound(r.model, r.lambda, x, base, terms.data(), static_cast<long>(n),
                                                               {true, windows_.count[static_cast<std::size_t>(p)]});
        r.det[0]->data[o] = b.det;
        r.prob[0]->data[o] = b.prob;
        fail = std::fmax(fail, b.failure);
      }
    if (r.failure_probability) *r.failure_probability = fail;
  }

 private:
  bool max_;
  PlaneWindows windows_;
  std::int64_t planes_ = 0, in_plane_ = 0, out_plane_ = 0;
};

/// GlobalAveragePool: the average of each whole plane.
class GlobalAveragePool : public OpKernel {
 public:
  explicit GlobalAveragePool(const OpContext& ctx) {
    const Shape& x = ctx.input_shapes.at(0);
    if (x.size() < 2) ctx.fail(fmt::format("X {} must be [N, C, ...]", shape_string(x)));
    planes_ = x[0] * x[1];
    plane_ = 1;
    for (std::size_t d = 2; d < x.size(); ++d) plane_ *= x[d];
  }
  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const double* x = in[0]->data.data();
    double* y = out[0]->data.data();
    for (std::int64_t p = 0; p < planes_; ++p) y[p] = a.div(a.sum(x + p * plane_, 1, plane_), static_cast<double>(plane_));
  }

  void bound(const bounds::BoundRequest& r) const override {
    std::vector<std::int64_t> terms(static_cast<std::size_t>(plane_));
    for (std::int64_t k = 0; k < plane_; ++k) terms[static_cast<std::size_t>(k)] = k;
    double fail = 0;
    for (std::int64_t p = 0; p < planes_; ++p) {
      const bounds::ElementBound b = bounds::reduction_bound(r.model, r.lambda, r.inputs[0], static_cast<long>(p * plane_), terms.data(),
                                                             static_cast<long>(plane_), {true, static_cast<double>(plane_)});
      r.det[0]->data[p] = b.det;
      r.prob[0]->data[p] = b.prob;
      fail = std::fmax(fail, b.failure);
    }
    if (r.failure_probability) *r.failure_probability = fail;
  }

 private:
  std::int64_t planes_ = 0, plane_ = 1;
};

}  // namespace

void register_pool_ops(std::vector<OpRegistration>& r) {
  r.push_back({"MaxPool", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<Pool>(ctx, true); }});
  r.push_back({"AveragePool", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<Pool>(ctx, false); }});
  r.push_back({"GlobalAveragePool", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<GlobalAveragePool>(ctx); }});
}

}  // namespace fpaudit::ops
