// BatchNormalization (inference) and LayerNormalization, as docs/chain-semantics.md defines them:
//   BatchNormalization  per channel, scale = γ/√(σ²+ε) and shift = β − μ·scale worked out in
//                       binary64 and rounded into storage; y = x·scale + shift, one rounding
//   LayerNormalization  mean, deviations, variance and 1/√(v+ε) in the accumulation format
//                       (the chain's stand-in for stash_type); y = (d·r)·γ + β, one rounding
//   InstanceNormalization, GroupNormalization   LayerNormalization's row per channel or group
//   LRN                 s = Σ x² over the channel window (a dot product in A by the schedule),
//                       t = round_A(s·alpha/size + bias) (alpha/size in binary64, one fma),
//                       p = round_A(t^-beta) (Arithmetic::pow), y = round_S(x·p)
//   LpNormalization     n = Σ|x| (p = 1) or round_A(√Σx²) (p = 2), sums in A by the schedule;
//                       y = round_S(x / n)
#include <cmath>

#include "core/ops/normalization.h"
#include "kernels/ops/batch.h"
#include "kernels/ops/ops.h"

namespace fpaudit::ops {

namespace {

class BatchNormalization : public OpKernel, private BatchNormGeometry {
 public:
  explicit BatchNormalization(const OpContext& ctx) : BatchNormGeometry(ctx) {}

  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    run_batch(a, 1, in, out);
  }

  /// Each channel's scale and shift once for the batch where every sample reads the same
  /// statistics (constants: the same tensor in every sample), then every sample's elements.
  void run_batch(const Arithmetic& a, long samples, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    for (std::size_t i = 1; i < 5; ++i)
      if (!shared_input(in, samples, i)) return OpKernel::run_batch(a, samples, in, out);
    const double *gamma = in[1]->data.data(), *beta = in[2]->data.data();
    const double *mean = in[3]->data.data(), *var = in[4]->data.data();
    thread_local std::vector<double> scale, shift;
    scale.resize(static_cast<std::size_t>(channels_));
    shift.resize(static_cast<std::size_t>(channels_));
    for (std::int64_t c = 0; c < channels_; ++c) {
      // Folded into one multiply-add per element, as inference runtimes do; the folding itself
      // is binary64 arithmetic (its error is far below any chain's) rounded once into storage.
      scale[c] = a.round(gamma[c] / std::sqrt(var[c] + epsilon_));
      shift[c] = a.round(std::fma(-mean[c], scale[c], beta[c]));
    }
    const std::vector<const double*> xs = input_data(in, samples, 0);
    const std::vector<double*> ys = output_data(out, samples, 0);
    for (long b = 0; b < samples; ++b) {
      const double* x = xs[static_cast<std::size_t>(b)];
      double* y = ys[static_cast<std::size_t>(b)];
      for (std::int64_t n = 0; n < outer_; ++n)
        for (std::int64_t c = 0; c < channels_; ++c) {
          const std::int64_t base = (n * channels_ + c) * inner_;
          a.fma_scaled(x + base, scale[c], shift[c], y + base, inner_);
        }
    }
  }
  bool elementwise_in_place() const override { return true; }  // fma_scaled: x and y may be one array
};

/// One row of n elements normalised as LayerNormalization does; position j reads γ[gamma_at[j]]
/// and (when beta is given) β[beta_at[j]]; d is scratch of n elements.
void normalize_row(const Arithmetic& a, const double* x, double* y, std::int64_t n, double epsilon, const double* gamma,
                   const std::int64_t* gamma_at, const double* beta, const std::int64_t* beta_at, std::vector<double>& d) {
  constexpr Target acc = Target::Accumulator;
  const auto count = static_cast<double>(n);
  const double mean = a.div(a.sum(x, 1, n), count, acc);
  for (std::int64_t j = 0; j < n; ++j) d[j] = a.sub(x[j], mean, acc);
  const double variance = a.div(a.dot(d.data(), 1, d.data(), 1, n), count, acc);
  const double r = a.unary(UnaryFn::Rsqrt, a.add(variance, epsilon, acc), acc);
  for (std::int64_t j = 0; j < n; ++j) {
    const double p = a.mul(d[j], r, acc);
    const double g = gamma[gamma_at[j]];
    y[j] = beta ? a.fma(p, g, beta[beta_at[j]]) : a.mul(p, g);
  }
}

class LayerNormalization : public OpKernel, private LayerNormGeometry {
 public:
  explicit LayerNormalization(const OpContext& ctx) : LayerNormGeometry(ctx) {}

  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const double* x = in[0]->data.data();
    const double* gamma = in[1]->data.data();
    const double* beta = has_bias_ ? in[2]->data.data() : nullptr;
    double* y = out[0]->data.data();
    std::vector<double> d(static_cast<std::size_t>(length_));
    for (std::int64_t o = 0; o < outer_; ++o)
      normalize_row(a, x + o * length_, y + o * length_, length_, epsilon_, gamma, scale_at_.data(), beta, bias_at_.data(), d);
  }
};

/// InstanceNormalization and GroupNormalization: LayerNormalization's rows over each group of
/// channels (the whole of one channel for InstanceNormalization), with the scale and bias of the
/// row's channel or group (GroupNormGeometry). ONNX defines both as this computation with the
/// statistics in the input type (stash_type of opset 21 in float32 by default): here the chain's
/// accumulation format, as for LayerNormalization.
class GroupNormalization : public OpKernel, private GroupNormGeometry {
 public:
  GroupNormalization(const OpContext& ctx, bool instance) : GroupNormGeometry(ctx, instance) {}

  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const double* x = in[0]->data.data();
    const double *gamma = in[1]->data.data(), *beta = in[2]->data.data();
    double* y = out[0]->data.data();
    std::vector<double> d(static_cast<std::size_t>(length_));
    std::vector<std::int64_t> at;
    for (std::int64_t o = 0; o < rows_; ++o) {
      scale_positions(o, at);
      normalize_row(a, x + o * length_, y + o * length_, length_, epsilon_, gamma, at.data(), beta, at.data(), d);
    }
  }
};

class Lrn : public OpKernel, private LrnGeometry {
 public:
  explicit Lrn(const OpContext& ctx) : LrnGeometry(ctx) {}
  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    constexpr Target acc = Target::Accumulator;
    const double* x = in[0]->data.data();
    double* y = out[0]->data.data();
    for (std::int64_t n = 0; n < outer_; ++n)
      for (std::int64_t c = 0; c < channels_; ++c)
        for (std::int64_t i = 0; i < inner_; ++i) {
          const std::int64_t at = (n * channels_ + c) * inner_ + i;
          const double* w = x + (n * channels_ + first_[c]) * inner_ + i;
          const double s = a.dot(w, inner_, w, inner_, count_[c]);
          const double t = a.fma(scale_, s, bias_, acc);
          y[at] = a.mul(x[at], a.pow(t, -beta_, acc));
        }
  }
};

class LpNormalization : public OpKernel, private LpNormGeometry {
 public:
  explicit LpNormalization(const OpContext& ctx) : LpNormGeometry(ctx) {}
  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const double* x = in[0]->data.data();
    double* y = out[0]->data.data();
    std::vector<double> m(static_cast<std::size_t>(length_));
    for (std::int64_t o = 0; o < outer_; ++o)
      for (std::int64_t i = 0; i < inner_; ++i) {
        const double* row = x + o * length_ * inner_ + i;
        double norm = 0;
        if (p_ == 1) {
          for (std::int64_t j = 0; j < length_; ++j) m[static_cast<std::size_t>(j)] = std::fabs(row[j * inner_]);
          norm = a.sum(m.data(), 1, length_);
        } else {
          norm = a.unary(UnaryFn::Sqrt, a.dot(row, inner_, row, inner_, length_), Target::Accumulator);
        }
        for (std::int64_t j = 0; j < length_; ++j) y[o * length_ * inner_ + i + j * inner_] = a.div(row[j * inner_], norm);
      }
  }
};

}  // namespace

void register_normalization_ops(std::vector<OpRegistration>& r) {
  r.push_back({"BatchNormalization", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<BatchNormalization>(ctx); }});
  r.push_back({"LayerNormalization", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<LayerNormalization>(ctx); }});
  r.push_back({"InstanceNormalization", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<GroupNormalization>(ctx, true); }});
  r.push_back({"GroupNormalization", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<GroupNormalization>(ctx, false); }});
  r.push_back({"LRN", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<Lrn>(ctx); }});
  r.push_back({"LpNormalization", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<LpNormalization>(ctx); }});
}

}  // namespace fpaudit::ops
