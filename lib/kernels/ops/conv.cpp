// Conv and ConvTranspose. Every output element is one dot product over k = (input channel of its
// group, kernel tap) in row-major order, evaluated by the chain's GEMM (Arithmetic::gemm) with
// the bias as the GEMM's row bias, on the grouped im2col mapping of lib/core/ops/conv.h.
#include "core/ops/conv.h"
#include "kernels/ops/ops.h"

namespace fpaudit::ops {

namespace {

/// One thread's im2col matrix, kept between calls: it is large (K·P values) and rebuilt for
/// every layer and chain, so allocating it each time would cost more than filling it.
std::vector<double>& column_scratch() {
  thread_local std::vector<double> scratch;
  return scratch;
}

/// weight_packs: the weights' tensor's binary32 copies when they are a constant, else null.
void run_grouped(const GroupedConvolution& cv, const Arithmetic& a, const double* x, const double* weights,
                 OperandPacks* weight_packs, const double* bias, double* y) {
  const long K = cv.depth(), P = cv.out_plane_;
  std::vector<double>& col = column_scratch();
  if (!cv.direct_) col.resize(static_cast<std::size_t>(K * P));
  for (std::int64_t n = 0; n < cv.batch_; ++n)
    for (std::int64_t g = 0; g < cv.groups_; ++g) {
      const double* xg = x + (n * cv.channels_ + g * cv.group_channels_) * cv.in_plane_;
      if (!cv.direct_) cv.unroll(xg, col.data());
      GemmArgs args;
      args.M = cv.group_outputs_;
      args.N = P;
      args.K = K;
      args.W = weights + g * cv.group_outputs_ * K;
      args.ldw = K;
      args.w_packs = weight_packs;
      args.X = cv.direct_ ? xg : col.data();
      args.ldx = P;
      args.bias = bias ? bias + g * cv.group_outputs_ : nullptr;
      args.Y = y + (n * cv.groups_ + g) * cv.group_outputs_ * P;
      args.ldy = P;
      a.gemm(args);
    }
}

class Conv : public OpKernel, private ConvGeometry {
 public:
  explicit Conv(const OpContext& ctx) : ConvGeometry(ctx) {}

  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const double* bias = in.size() > 2 && in[2] ? in[2]->data.data() : nullptr;
    run_grouped(conv_, a, in[0]->data.data(), in[1]->data.data(), in[1]->packs.get(), bias, out[0]->data.data());
  }
};

class ConvTranspose : public OpKernel, private ConvTransposeGeometry {
 public:
  explicit ConvTranspose(const OpContext& ctx) : ConvTransposeGeometry(ctx) {}

  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    // The rearranged weights: a copy per call (weights are small next to the activations),
    // converted by the chains each time.
    const std::vector<double> matrix = rearranged(in[1]->data);
    const double* bias = in.size() > 2 && in[2] ? in[2]->data.data() : nullptr;
    run_grouped(conv_, a, in[0]->data.data(), matrix.data(), nullptr, bias, out[0]->data.data());
  }
};

}  // namespace

void register_conv_ops(std::vector<OpRegistration>& r) {
  r.push_back({"Conv", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<Conv>(ctx); }});
  r.push_back({"ConvTranspose", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<ConvTranspose>(ctx); }});
}

}  // namespace fpaudit::ops
