// BatchNormalization (inference) and LayerNormalization, as docs/chain-semantics.md defines them:
//   BatchNormalization  per channel, scale = γ/√(σ²+ε) and shift = β − μ·scale worked out in
//                       binary64 and rounded into storage; y = x·scale + shift, one rounding
//   LayerNormalization  mean, deviations, variance and 1/√(v+ε) in the accumulation format
//                       (the chain's stand-in for stash_type); y = (d·r)·γ + β, one rounding
#include <cmath>

#include "core/ops/normalization.h"
#include "kernels/ops/ops.h"

namespace fpaudit::ops {

namespace {

class BatchNormalization : public OpKernel, private BatchNormGeometry {
 public:
  explicit BatchNormalization(const OpContext& ctx) : BatchNormGeometry(ctx) {}

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
};

class LayerNormalization : public OpKernel, private LayerNormGeometry {
 public:
  explicit LayerNormalization(const OpContext& ctx) : LayerNormGeometry(ctx) {}

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
};

}  // namespace

void register_normalization_ops(std::vector<OpRegistration>& r) {
  r.push_back({"BatchNormalization", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<BatchNormalization>(ctx); }});
  r.push_back({"LayerNormalization", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<LayerNormalization>(ctx); }});
}

}  // namespace fpaudit::ops
