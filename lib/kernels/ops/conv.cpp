// Conv and ConvTranspose. Every output element is one dot product over k = (input channel of its
// group, kernel tap) in row-major order, evaluated by the chain's GEMM (Arithmetic::gemm) with
// the bias as the GEMM's row bias: the input is unrolled per group into a K×P matrix (im2col, K
// = channels·taps, P = output positions), padding as exact zeros, and multiplied by the M×K
// weight matrix. ConvTranspose is the Conv of the zero-upsampled, padded input with the
// transposed, flipped kernel, so it runs the same code with another tap table and weight order.
#include <fmt/format.h>

#include "bounds/linear.h"
#include "kernels/ops/ops.h"
#include "kernels/ops/window.h"

namespace fpaudit::ops {

namespace {

/// One thread's im2col matrix, kept between calls: it is large (K·P values) and rebuilt for
/// every layer and chain, so allocating it each time would cost more than filling it.
std::vector<double>& column_scratch() {
  thread_local std::vector<double> scratch;
  return scratch;
}

/// The grouped im2col + GEMM both operators reduce to, prepared once.
///   x: [N, C, in...]   weights: [M, K] row-major, group g owning rows [g·Mg, (g+1)·Mg)
///   y: [N, M, out...]  K = Cg·taps, Cg = C / groups, Mg = M / groups
class GroupedConvolution {
 public:
  GroupedConvolution(const OpContext& ctx, std::int64_t groups, std::int64_t out_channels, const Window& w,
                     std::vector<std::int32_t> taps)
      : batch_(ctx.input_shapes.at(0).at(0)),
        channels_(ctx.input_shapes[0].at(1)),
        groups_(groups),
        group_channels_(channels_ / groups),
        group_outputs_(out_channels / groups),
        taps_(w.taps()),
        in_plane_(w.in_plane()),
        out_plane_(w.out_plane()),
        table_(std::move(taps)) {
    // A 1×1 kernel with unit stride and no padding reads the input itself: no im2col copy.
    direct_ = taps_ == 1 && in_plane_ == out_plane_;
    for (std::int64_t p = 0; direct_ && p < out_plane_; ++p) direct_ = table_[static_cast<std::size_t>(p)] == p;
  }

  std::int64_t depth() const { return group_channels_ * taps_; }  ///< K: terms per output

  /// weight_packs: the weights' tensor's binary32 copies when they are a constant, else null.
  void run(const Arithmetic& a, const double* x, const double* weights, OperandPacks* weight_packs, const double* bias,
           double* y) const {
    const long K = depth(), P = out_plane_;
    std::vector<double>& col = column_scratch();
    if (!direct_) col.resize(static_cast<std::size_t>(K * P));
    for (std::int64_t n = 0; n < batch_; ++n)
      for (std::int64_t g = 0; g < groups_; ++g) {
        const double* xg = x + (n * channels_ + g * group_channels_) * in_plane_;
        if (!direct_) unroll(xg, col.data());
        GemmArgs args;
        args.M = group_outputs_;
        args.N = P;
        args.K = K;
        args.W = weights + g * group_outputs_ * K;
        args.ldw = K;
        args.w_packs = weight_packs;
        args.X = direct_ ? xg : col.data();
        args.ldx = P;
        args.bias = bias ? bias + g * group_outputs_ : nullptr;
        args.Y = y + (n * groups_ + g) * group_outputs_ * P;
        args.ldy = P;
        a.gemm(args);
      }
  }

  /// The bound rule: the dot-product rule (bounds::matmul_bound) on the same im2col mapping, the
  /// input's enclosure and error bounds unrolled like its values (padding: exact zeros).
  double bound(const bounds::ArithmeticModel& model, double lambda, const bounds::Enclosure& x, const bounds::Enclosure& w,
               const bounds::Enclosure* bias, Tensor& det, Tensor& prob) const {
    const long K = depth(), P = out_plane_;
    Tensor lo({K, P}), hi({K, P}), err({K, P}), err_prob({K, P});
    // Point values (lo = hi) and equal deterministic/probabilistic bounds are common (every pass
    // but the a-priori one, resp. the reference's and the certificate's): unroll them once and
    // let the column enclosure share them, which also lets matmul_bound skip its third sum.
    const bool point = x.lo == x.hi, same_err = x.err == x.err_prob;
    const bounds::Enclosure col{&lo, point ? &lo : &hi, &err, same_err ? &err : &err_prob};
    double fail = 0;
    for (std::int64_t n = 0; n < batch_; ++n)
      for (std::int64_t g = 0; g < groups_; ++g) {
        const long x_offset = (n * channels_ + g * group_channels_) * in_plane_;
        bounds::MatmulBound mb;
        mb.M = group_outputs_;
        mb.K = K;
        mb.N = P;
        mb.A = {&w, g * group_outputs_ * K, K, 1};
        if (direct_) {
          mb.B = {&x, x_offset, P, 1};
        } else {
          unroll(x.lo->data.data() + x_offset, lo.data.data());
          if (!point) unroll(x.hi->data.data() + x_offset, hi.data.data());
          unroll(x.err->data.data() + x_offset, err.data.data());
          if (!same_err) unroll(x.err_prob->data.data() + x_offset, err_prob.data.data());
          mb.B = {&col, 0, P, 1};
        }
        if (bias) {
          mb.bias = bias;
          mb.bias_offset = g * group_outputs_;
          mb.bias_stride_m = 1;
        }
        mb.out_offset = (n * groups_ + g) * group_outputs_ * P;
        mb.ldo = P;
        fail = std::fmax(fail, bounds::matmul_bound(model, lambda, mb, det, prob));
      }
    return fail;
  }

 private:
  /// col[(c·taps + t)·P + p] = the input element tap t of output p reads in channel c, or 0.
  void unroll(const double* xg, double* col) const {
    const std::int64_t P = out_plane_;
    for (std::int64_t c = 0; c < group_channels_; ++c) {
      const double* xc = xg + c * in_plane_;
      for (std::int64_t t = 0; t < taps_; ++t) {
        const std::int32_t* source = table_.data() + t * P;
        double* dst = col + (c * taps_ + t) * P;
        for (std::int64_t p = 0; p < P; ++p) dst[p] = source[p] == kPadding ? 0.0 : xc[source[p]];
      }
    }
  }

  std::int64_t batch_, channels_, groups_, group_channels_, group_outputs_, taps_, in_plane_, out_plane_;
  std::vector<std::int32_t> table_;
  bool direct_ = false;
};

/// The kernel's spatial shape: W's trailing dimensions, which kernel_shape must repeat if given.
std::vector<std::int64_t> kernel_of(const OpContext& ctx) {
  const Shape& x = ctx.input_shapes.at(0);
  const Shape& wt = ctx.input_shapes.at(1);
  if (x.size() < 3 || wt.size() != x.size())
    ctx.fail(fmt::format("X {} and W {} must be [N, C, spatial...] of one rank", shape_string(x), shape_string(wt)));
  const std::vector<std::int64_t> kernel(wt.begin() + 2, wt.end());
  if (ctx.node.has_attr("kernel_shape") && ctx.node.attr_ints("kernel_shape", {}) != kernel)
    ctx.fail(fmt::format("kernel_shape does not match W {}", shape_string(wt)));
  return kernel;
}

/// The group attribute; `fits` says whether X and W agree with it (shape inference checked them).
template <class Fits>
std::int64_t groups_of(const OpContext& ctx, Fits fits) {
  const std::int64_t groups = ctx.node.attr_int("group", 1);
  if (groups < 1 || !fits(groups, ctx.input_shapes.at(0), ctx.input_shapes.at(1)))
    ctx.fail(fmt::format("X {} and W {} do not match group = {}", shape_string(ctx.input_shapes[0]),
                         shape_string(ctx.input_shapes[1]), groups));
  return groups;
}

/// Conv: W [M, C/group, kernel...] is already the M×K weight matrix.
class Conv : public OpKernel {
 public:
  explicit Conv(const OpContext& ctx) : window_(read_conv_window(ctx, kernel_of(ctx))), conv_(make(ctx, window_)) {}

  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const double* bias = in.size() > 2 && in[2] ? in[2]->data.data() : nullptr;
    conv_.run(a, in[0]->data.data(), in[1]->data.data(), in[1]->packs.get(), bias, out[0]->data.data());
  }

  void bound(const bounds::BoundRequest& r) const override {
    const bounds::Enclosure* bias = r.inputs.size() > 2 && r.inputs[2].present() ? &r.inputs[2] : nullptr;
    const double fail = conv_.bound(r.model, r.lambda, r.inputs[0], r.inputs[1], bias, *r.det[0], *r.prob[0]);
    if (r.failure_probability) *r.failure_probability = fail;
  }

 private:
  static GroupedConvolution make(const OpContext& ctx, const Window& w) {
    // X [N, C, ...], W [M, C/group, ...]: M splits into the groups too.
    const std::int64_t groups = groups_of(ctx, [](std::int64_t g, const Shape& x, const Shape& wt) {
      return x[1] == wt[1] * g && wt[0] % g == 0;
    });
    return GroupedConvolution(ctx, groups, ctx.input_shapes[1][0], w, forward_taps(ctx, w));
  }
  Window window_;
  GroupedConvolution conv_;
};

/// ConvTranspose: W [C, M/group, kernel...]. The equivalent Conv's weight for output channel
/// m = g·Mg + j and term (c, t) of group g is W[g·Cg + c, j, taps−1−t]: transposed (input and
/// output channels swap) and flipped (reversing the row-major tap index flips every axis).
class ConvTranspose : public OpKernel {
 public:
  explicit ConvTranspose(const OpContext& ctx)
      : window_(read_conv_transpose_window(ctx, kernel_of(ctx))),
        // X [N, C, ...], W [C, M/group, ...]: C splits into the groups.
        groups_(groups_of(ctx, [](std::int64_t g, const Shape& x, const Shape& wt) { return x[1] == wt[0] && wt[0] % g == 0; })),
        group_channels_(ctx.input_shapes[0][1] / groups_),
        group_outputs_(ctx.input_shapes[1][1]),
        conv_(ctx, groups_, group_outputs_ * groups_, window_, transposed_taps(ctx, window_)) {}

  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    // The rearranged weights: a copy per call (weights are small next to the activations),
    // converted by the chains each time.
    const std::vector<double> matrix = rearranged(in[1]->data);
    const double* bias = in.size() > 2 && in[2] ? in[2]->data.data() : nullptr;
    conv_.run(a, in[0]->data.data(), matrix.data(), nullptr, bias, out[0]->data.data());
  }

  void bound(const bounds::BoundRequest& r) const override {
    // The equivalent Conv's weight matrix, for its enclosure and error bounds alike.
    const bounds::Enclosure& w = r.inputs[1];
    Tensor lo(w.lo->shape), hi(w.hi->shape), err(w.err->shape), err_prob(w.err_prob->shape);
    lo.data = rearranged(w.lo->data);
    hi.data = rearranged(w.hi->data);
    err.data = rearranged(w.err->data);
    err_prob.data = rearranged(w.err_prob->data);
    const bounds::Enclosure matrix{&lo, &hi, &err, &err_prob};
    const bounds::Enclosure* bias = r.inputs.size() > 2 && r.inputs[2].present() ? &r.inputs[2] : nullptr;
    const double fail = conv_.bound(r.model, r.lambda, r.inputs[0], matrix, bias, *r.det[0], *r.prob[0]);
    if (r.failure_probability) *r.failure_probability = fail;
  }

 private:
  /// W [C, M/group, taps] as the M×K matrix of the equivalent Conv (see the class comment).
  std::vector<double> rearranged(const std::vector<double>& w) const {
    std::vector<double> matrix(w.size());
    const std::int64_t taps = window_.taps(), K = group_channels_ * taps;
    for (std::int64_t g = 0; g < groups_; ++g)
      for (std::int64_t j = 0; j < group_outputs_; ++j)
        for (std::int64_t c = 0; c < group_channels_; ++c)
          for (std::int64_t t = 0; t < taps; ++t)
            matrix[static_cast<std::size_t>((g * group_outputs_ + j) * K + c * taps + t)] =
                w[static_cast<std::size_t>(((g * group_channels_ + c) * group_outputs_ + j) * taps + taps - 1 - t)];
    return matrix;
  }

  Window window_;
  std::int64_t groups_, group_channels_, group_outputs_;
  GroupedConvolution conv_;
};

}  // namespace

void register_conv_ops(std::vector<OpRegistration>& r) {
  r.push_back({"Conv", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<Conv>(ctx); }});
  r.push_back({"ConvTranspose", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<ConvTranspose>(ctx); }});
}

}  // namespace fpaudit::ops
