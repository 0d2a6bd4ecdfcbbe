// BatchNormalization (inference) and LayerNormalization, as docs/chain-semantics.md defines them:
//   BatchNormalization  per channel, scale = γ/√(σ²+ε) and shift = β − μ·scale worked out in
//                       binary64 and rounded into storage; y = x·scale + shift, one rounding
//   LayerNormalization  mean, deviations, variance and 1/√(v+ε) in the accumulation format
//                       (the chain's stand-in for stash_type); y = (d·r)·γ + β, one rounding
#include <cmath>

#include "bounds/normalization.h"
#include "kernels/ops/broadcast.h"
#include "kernels/ops/ops.h"

namespace fpaudit::ops {

namespace {

/// Fails when an optional output the kernel does not compute is read by anything.
void refuse_outputs_from(const OpContext& ctx, std::size_t first, std::string_view why) {
  for (std::size_t i = first; i < ctx.node.outputs.size(); ++i)
    if (!ctx.node.outputs[i].empty())
      ctx.fail(fmt::format("output {} ('{}') is used, but {}", i + 1, ctx.node.outputs[i], why));
}

class BatchNormalization : public OpKernel {
 public:
  explicit BatchNormalization(const OpContext& ctx) {
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

  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const double* x = in[0]->data.data();
    const double *gamma = in[1]->data.data(), *beta = in[2]->data.data();
    const double *mean = in[3]->data.data(), *var = in[4]->data.data();
    double* y = out[0]->data.data();
    for (std::int64_t c = 0; c < channels_; ++c) {
      // Folded into one multiply-add per element, as inference runtimes do; the folding itself
      // is binary64 arithmetic (its error is far below any chain's) rounded once into storage.
      const double scale = a.round(gamma[c] / std::sqrt(var[c] + epsilon_));
      const double shift = a.round(std::fma(-mean[c], scale, beta[c]));
      for (std::int64_t n = 0; n < outer_; ++n) {
        const std::int64_t base = (n * channels_ + c) * inner_;
        for (std::int64_t i = 0; i < inner_; ++i) y[base + i] = a.fma(x[base + i], scale, shift);
      }
    }
  }

  void bound(const bounds::BoundRequest& r) const override {
    for (std::int64_t c = 0; c < channels_; ++c) {
      auto constant = [&](std::size_t i) { return bounds::operand_at(r.inputs[i], static_cast<long>(c), false); };
      const bounds::BatchNormFold fold = bounds::batchnorm_fold(r.model, constant(1), constant(2), constant(3), constant(4), epsilon_);
      // With one tensor for both input bounds, the probabilistic bound is the deterministic one.
      const bool same_err = r.inputs[0].err == r.inputs[0].err_prob;
      for (std::int64_t n = 0; n < outer_; ++n) {
        const std::int64_t base = (n * channels_ + c) * inner_;
        for (std::int64_t i = 0; i < inner_; ++i) {
          const long at = static_cast<long>(base + i);
          const double det = bounds::batchnorm_bound(r.model, fold, bounds::operand_at(r.inputs[0], at, false));
          r.det[0]->data[at] = det;
          r.prob[0]->data[at] = same_err ? det : bounds::min_num(det, bounds::batchnorm_bound(r.model, fold, bounds::operand_at(r.inputs[0], at, true)));
        }
      }
    }
    if (r.failure_probability) *r.failure_probability = 0;
  }

 private:
  double epsilon_ = 1e-5;
  std::int64_t outer_ = 1, channels_ = 1, inner_ = 1;
};

class LayerNormalization : public OpKernel {
 public:
  explicit LayerNormalization(const OpContext& ctx) {
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

  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    constexpr Target acc = Target::Accumulator;
    const double* x = in[0]->data.data();
    const double* gamma = in[1]->data.data();
    const double* beta = has_bias_ ? in[2]->data.data() : nullptr;
    double* y = out[0]->data.data();
    const auto n = static_cast<double>(length_);
    std::vector<double> d(static_cast<std::size_t>(length_));
    for (std::int64_t o = 0; o < outer_; ++o) {
      const double* xo = x + o * length_;
      double* yo = y + o * length_;
      const double mean = a.div(a.sum(xo, 1, length_), n, acc);
      for (std::int64_t j = 0; j < length_; ++j) d[j] = a.sub(xo[j], mean, acc);
      const double variance = a.div(a.dot(d.data(), 1, d.data(), 1, length_), n, acc);
      const double r = a.unary(UnaryFn::Rsqrt, a.add(variance, epsilon_, acc), acc);
      for (std::int64_t j = 0; j < length_; ++j) {
        const double p = a.mul(d[j], r, acc);
        const double g = gamma[scale_at_[j]];
        yo[j] = beta ? a.fma(p, g, beta[bias_at_[j]]) : a.mul(p, g);
      }
    }
  }

  void bound(const bounds::BoundRequest& r) const override {
    double fail = 0;
    for (std::int64_t o = 0; o < outer_; ++o) {
      bounds::LayerNormRow row;
      row.n = length_;
      row.x = &r.inputs[0];
      row.x_base = o * length_;
      row.gamma = &r.inputs[1];
      row.gamma_at = scale_at_.data();
      row.beta = has_bias_ ? &r.inputs[2] : nullptr;
      row.beta_at = bias_at_.data();
      row.epsilon = epsilon_;
      fail = std::fmax(fail, bounds::layernorm_bound(r.model, r.lambda, row, *r.det[0], *r.prob[0]));
    }
    if (r.failure_probability) *r.failure_probability = fail;
  }

 private:
  double epsilon_ = 1e-5;
  std::int64_t outer_ = 1, length_ = 1;
  bool has_bias_ = false;
  std::vector<std::int64_t> scale_at_, bias_at_;
};

}  // namespace

void register_normalization_ops(std::vector<OpRegistration>& r) {
  r.push_back({"BatchNormalization", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<BatchNormalization>(ctx); }});
  r.push_back({"LayerNormalization", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<LayerNormalization>(ctx); }});
}

}  // namespace fpaudit::ops
