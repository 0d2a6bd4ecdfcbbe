// Conv and ConvTranspose. Every output element is one dot product over k = (input channel of its
// group, kernel tap) in row-major order, evaluated by the chain's GEMM (Arithmetic::gemm) with
// the bias as the GEMM's row bias, on the grouped im2col mapping of lib/core/ops/conv.h.
#include <algorithm>

#include "core/ops/conv.h"
#include "kernels/ops/batch.h"
#include "common/aligned_vector.h"
#include "kernels/ops/ops.h"

namespace fpaudit::ops {

namespace {

/// One thread's im2col matrix, kept between calls: it is large (K·P values) and rebuilt for
/// every layer and chain, so allocating it each time would cost more than filling it.
std::vector<double>& column_scratch() {
  thread_local std::vector<double> scratch;
  return scratch;
}
/// The same in binary32, for an arithmetic that reads its GEMM operands so (GemmArgs::X32): the
/// im2col matrix written once at the width the kernel reads, not written in binary64 and copied.
CacheAlignedVector<float>& column_scratch32() {
  thread_local CacheAlignedVector<float> scratch;
  return scratch;
}

/// weight_packs: the weights' tensor's binary32 copies when they are a constant, else null.
void run_grouped(const GroupedConvolution& cv, const Arithmetic& a, const double* x, const double* weights,
                 OperandPacks* weight_packs, const double* bias, double* y) {
  const long K = cv.depth(), P = cv.out_plane_;
  const bool binary32 = a.gemm_batch_layouts() && !cv.direct_;
  std::vector<double>& col = column_scratch();
  CacheAlignedVector<float>& col32 = column_scratch32();
  if (binary32) scratch_of(col32, static_cast<std::size_t>(K * P));
  else if (!cv.direct_) scratch_of(col, static_cast<std::size_t>(K * P));
  for (std::int64_t n = 0; n < cv.batch_; ++n)
    for (std::int64_t g = 0; g < cv.groups_; ++g) {
      const double* xg = x + (n * cv.channels_ + g * cv.group_channels_) * cv.in_plane_;
      if (binary32) cv.unroll(xg, col32.data());
      else if (!cv.direct_) cv.unroll(xg, col.data());
      GemmArgs args;
      args.M = cv.group_outputs_;
      args.N = P;
      args.K = K;
      args.W = weights + g * cv.group_outputs_ * K;
      args.ldw = K;
      args.w_packs = weight_packs;
      args.X = binary32 ? nullptr : cv.direct_ ? xg : col.data();
      args.X32 = binary32 ? col32.data() : nullptr;
      args.ldx = P;
      args.bias = bias ? bias + g * cv.group_outputs_ : nullptr;
      args.Y = y + (n * cv.groups_ + g) * cv.group_outputs_ * P;
      args.ldy = P;
      a.gemm(args);
    }
}

/// The same for a batch: x[b], y[b] are sample b's tensors, which share the weights and bias.
/// Image j of the batch (sample j / N, image j % N of its [N, C, ...]) takes columns
/// [j·P, (j+1)·P) of one K × (images·P) im2col matrix, so each group is one GEMM over the batch
/// (over as many images as keep the matrix within kMaxScratchValues, at least one: a large
/// model's first layers would otherwise hold several times the batch's activations); every
/// output element is the same dot product over the same K terms, summed in the same order, as
/// run_grouped gives it.
void run_grouped_batch(const GroupedConvolution& cv, const Arithmetic& a, const std::vector<const double*>& x,
                       const double* weights, OperandPacks* weight_packs, const double* bias, const std::vector<double*>& y) {
  const long K = cv.depth(), P = cv.out_plane_, Mg = cv.group_outputs_;
  const long images = static_cast<long>(x.size()) * cv.batch_;
  const long per_gemm = samples_per_gemm(images, K * P);  // the im2col columns within the cap
  const bool binary32 = a.gemm_batch_layouts();
  std::vector<double>& col = column_scratch();
  CacheAlignedVector<float>& col32 = column_scratch32();
  thread_local std::vector<double> product;
  thread_local std::vector<double*> blocks;  // with gemm_batch_layouts: each image's output
  if (binary32) {
    scratch_of(col32, static_cast<std::size_t>(K * per_gemm * P));
    blocks.resize(static_cast<std::size_t>(per_gemm));
  } else {
    scratch_of(col, static_cast<std::size_t>(K * per_gemm * P));
    scratch_of(product, static_cast<std::size_t>(Mg * per_gemm * P));
  }
  for (std::int64_t g = 0; g < cv.groups_; ++g)
    for (long first = 0; first < images; first += per_gemm) {
      const long count = std::min(per_gemm, images - first), cols = count * P;
      for (long j = 0; j < count; ++j) {
        const long b = (first + j) / cv.batch_, n = (first + j) % cv.batch_;
        const double* xg = x[static_cast<std::size_t>(b)] + (n * cv.channels_ + g * cv.group_channels_) * cv.in_plane_;
        if (binary32 && !cv.direct_) cv.unroll(xg, col32.data() + j * P, cols);
        else if (!cv.direct_) cv.unroll(xg, col.data() + j * P, cols);
        else if (binary32)
          for (long k = 0; k < K; ++k)
            std::transform(xg + k * P, xg + (k + 1) * P, col32.data() + k * cols + j * P, [](double v) { return static_cast<float>(v); });
        else
          for (long k = 0; k < K; ++k) std::copy(xg + k * P, xg + (k + 1) * P, col.data() + k * cols + j * P);
      }
      GemmArgs args;
      args.M = Mg;
      args.N = cols;
      args.K = K;
      args.W = weights + g * Mg * K;
      args.ldw = K;
      args.w_packs = weight_packs;
      args.X = binary32 ? nullptr : col.data();
      args.X32 = binary32 ? col32.data() : nullptr;
      args.ldx = cols;
      args.bias = bias ? bias + g * Mg : nullptr;
      auto output = [&](long j) {
        const long b = (first + j) / cv.batch_, n = (first + j) % cv.batch_;
        return y[static_cast<std::size_t>(b)] + (n * cv.groups_ + g) * Mg * P;
      };
      if (binary32) {  // straight into each image's output
        for (long j = 0; j < count; ++j) blocks[static_cast<std::size_t>(j)] = output(j);
        args.Y_blocks = blocks.data();
        args.y_block = P;
        args.ldy = P;
        a.gemm(args);
        continue;
      }
      args.Y = product.data();
      args.ldy = cols;
      a.gemm(args);
      for (long j = 0; j < count; ++j)
        for (long m = 0; m < Mg; ++m) std::copy_n(product.data() + m * cols + j * P, P, output(j) + m * P);
    }
}

class Conv : public OpKernel, private ConvGeometry {
 public:
  explicit Conv(const OpContext& ctx) : ConvGeometry(ctx) {}

  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const double* bias = in.size() > 2 && in[2] ? in[2]->data.data() : nullptr;
    run_grouped(conv_, a, in[0]->data.data(), in[1]->data.data(), in[1]->packs.get(), bias, out[0]->data.data());
  }
  void run_batch(const Arithmetic& a, long samples, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    if (!shared_input(in, samples, 1) || !shared_input(in, samples, 2)) return OpKernel::run_batch(a, samples, in, out);
    const Tensor* c = input_of(in, samples, 0, 2);
    const double* bias = c ? c->data.data() : nullptr;
    run_grouped_batch(conv_, a, input_data(in, samples, 0), in[1]->data.data(), in[1]->packs.get(), bias, output_data(out, samples, 0));
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
  void run_batch(const Arithmetic& a, long samples, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    if (!shared_input(in, samples, 1) || !shared_input(in, samples, 2)) return OpKernel::run_batch(a, samples, in, out);
    const std::vector<double> matrix = rearranged(in[1]->data);
    const Tensor* c = input_of(in, samples, 0, 2);
    const double* bias = c ? c->data.data() : nullptr;
    run_grouped_batch(conv_, a, input_data(in, samples, 0), matrix.data(), nullptr, bias, output_data(out, samples, 0));
  }
};

}  // namespace

void register_conv_ops(std::vector<OpRegistration>& r) {
  r.push_back({"Conv", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<Conv>(ctx); }});
  r.push_back({"ConvTranspose", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<ConvTranspose>(ctx); }});
}

}  // namespace fpaudit::ops
