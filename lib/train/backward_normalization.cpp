// Backward passes of the normalisations. LayerNormalization and training-form BatchNorm share
// one computation on a group of n values (a row; a channel over the batch): the statistics as
// the LayerNormalization kernel evaluates them (mean, deviations, variance and 1/√(v+ε) in the
// accumulation format), x̂ = RN(d·r) in storage, and, with g = RN(dy·γ),
//   dx = RN(r·RN(RN(g − m₁) − RN(x̂·m₂))),  m₁ = RN(Σg / n),  m₂ = RN(Σ g·x̂ / n),
// every sum one checked call, every other operation checked as one rounding.
#include <cmath>
#include <string>

#include "bounds/transfer.h"
#include "core/ops/normalization.h"
#include "core/reference_arithmetic.h"
#include "train/backward_ops.h"

namespace fpaudit::train {

namespace {

/// x̂ of a group of values (contiguous copies), returning r rounded into storage.
double normalize_group(const Arithmetic& a, std::span<const double> x, double epsilon, std::span<double> xhat) {
  constexpr Target acc = Target::Accumulator;
  const long n = static_cast<long>(x.size());
  const double mean = a.div(a.sum(x.data(), 1, n), static_cast<double>(n), acc);
  std::vector<double> d(x.size());
  for (std::size_t j = 0; j < x.size(); ++j) d[j] = a.sub(x[j], mean, acc);
  const double variance = a.div(a.dot(d.data(), 1, d.data(), 1, n), static_cast<double>(n), acc);
  const double r = a.round(a.unary(UnaryFn::Rsqrt, a.add(variance, epsilon, acc), acc));
  for (std::size_t j = 0; j < x.size(); ++j) xhat[j] = a.mul(d[j], r);
  return r;
}

/// dx of a normalised group from g = dy·γ (already rounded), x̂ and r.
void group_backward(const BackwardArithmetic& b, std::span<const double> g, std::span<const double> xhat, double r, std::span<double> dx) {
  const Arithmetic& a = b.a;
  const double n = static_cast<double>(g.size());
  const double s1 = checked_sum(b, g), s2 = checked_dot(b, g, xhat);
  const double m1 = checked_round(b, a.div(s1, n), s1 / n), m2 = checked_round(b, a.div(s2, n), s2 / n);
  for (std::size_t j = 0; j < g.size(); ++j) {
    const double q = checked_round(b, a.sub(g[j], m1), g[j] - m1);
    const double p = checked_round(b, a.mul(xhat[j], m2), xhat[j] * m2);
    const double t = checked_round(b, a.sub(q, p), q - p);
    dx[j] = checked_round(b, a.mul(r, t), r * t);
  }
}

/// LayerNormalization over rows of n elements: dγ = Σ_rows dy·x̂, dβ = Σ_rows dy (one checked
/// sum per column), dx per row by group_backward.
class LayerNormBackward : public LayerBackward, private ops::LayerNormGeometry {
 public:
  explicit LayerNormBackward(const OpContext& ctx) : LayerNormGeometry(ctx) {
    for (std::int64_t j = 0; j < length_; ++j)
      if (scale_at_[static_cast<std::size_t>(j)] != j || (has_bias_ && bias_at_[static_cast<std::size_t>(j)] != j))
        ctx.fail("train-step differentiates LayerNormalization with one scale and bias per normalised element only");
  }
  std::vector<std::size_t> parameters() const override { return has_bias_ ? std::vector<std::size_t>{1, 2} : std::vector<std::size_t>{1}; }
  void run(const BackwardArithmetic& b, std::span<const Tensor* const> in, const Tensor&, const Tensor& dy,
           std::span<Tensor* const> grads) const override {
    const Arithmetic& a = b.a;
    const std::vector<double>&x = in[0]->data, &gamma = in[1]->data;
    const std::size_t L = static_cast<std::size_t>(length_), R = static_cast<std::size_t>(outer_);
    std::vector<double> xhat(R * L), r(R), g(L);
    for (std::size_t o = 0; o < R; ++o)
      r[o] = normalize_group(a, std::span<const double>(x).subspan(o * L, L), epsilon_, std::span<double>(xhat).subspan(o * L, L));
    std::vector<double> u(R), v(R);
    for (std::size_t k = 1; k < 3 && k < grads.size(); ++k) {
      if (!grads[k]) continue;
      for (std::size_t j = 0; j < L; ++j) {
        for (std::size_t o = 0; o < R; ++o) u[o] = dy.data[o * L + j], v[o] = xhat[o * L + j];
        grads[k]->data[j] = k == 1 ? checked_dot(b, u, v) : checked_sum(b, u);
      }
    }
    if (!grads[0]) return;
    for (std::size_t o = 0; o < R; ++o) {
      for (std::size_t j = 0; j < L; ++j) {
        const double d = dy.data[o * L + j];
        g[j] = checked_round(b, a.mul(d, gamma[j]), d * gamma[j]);
      }
      group_backward(b, g, std::span<const double>(xhat).subspan(o * L, L), r[o], std::span<double>(grads[0]->data).subspan(o * L, L));
    }
  }
};

/// BatchNormalization in inference form as the kernel evaluates it: y = x·s + t with
/// s = round(γ/√(v+ε)), t = round(β − μ·s). dx = dy·s; dγ = Σ dy·x̂ with x̂ = (x − μ)·r,
/// r = round(1/√(v+ε)), each step rounded into storage; dβ = Σ dy. The chain's s and x̂ differ
/// from the reference's on the same values: factor_error measures by how much (Theorem 4).
class BatchNormEvalBackward : public LayerBackward, private ops::BatchNormGeometry {
 public:
  explicit BatchNormEvalBackward(const OpContext& ctx) : BatchNormGeometry(ctx) {}
  std::vector<std::size_t> parameters() const override { return {1, 2}; }
  /// dx: max |s|; dγ: the largest ‖x̂_c‖; dβ: √(N·positions).
  double backward_norm(std::size_t i, std::span<const Tensor* const> in, const Tensor&) const override {
    if (i == 2) return sqrt_up(static_cast<double>(outer_ * inner_));
    const Factors f = factors(exact(), in);
    double most = 0;
    for (std::int64_t c = 0; c < channels_; ++c)
      most = std::fmax(most, i == 0 ? std::fabs(f.scale[static_cast<std::size_t>(c)]) : norm_up(f.xhat[static_cast<std::size_t>(c)]));
    return most;
  }
  double factor_error(std::size_t i, const Arithmetic& a, std::span<const Tensor* const> in, const Tensor&) const override {
    if (i == 2) return 0;
    const Factors mine = factors(a, in), ref = factors(exact(), in);
    double most = 0;
    std::vector<double> d;
    for (std::size_t c = 0; c < mine.scale.size(); ++c) {
      if (i == 0) {
        most = std::fmax(most, bounds::up(std::fabs(mine.scale[c] - ref.scale[c])));
        continue;
      }
      d.resize(mine.xhat[c].size());
      for (std::size_t k = 0; k < d.size(); ++k) d[k] = bounds::up(std::fabs(mine.xhat[c][k] - ref.xhat[c][k]));
      most = std::fmax(most, norm_up(d));
    }
    return most;
  }
  void run(const BackwardArithmetic& b, std::span<const Tensor* const> in, const Tensor&, const Tensor& dy,
           std::span<Tensor* const> grads) const override {
    const Arithmetic& a = b.a;
    const Factors f = factors(a, in);
    std::vector<double> dys(static_cast<std::size_t>(outer_ * inner_));
    for (std::int64_t c = 0; c < channels_; ++c) {
      const double scale = f.scale[static_cast<std::size_t>(c)];
      for (std::int64_t n = 0; n < outer_; ++n)
        for (std::int64_t i = 0; i < inner_; ++i) {
          const std::size_t at = static_cast<std::size_t>((n * channels_ + c) * inner_ + i), k = static_cast<std::size_t>(n * inner_ + i);
          dys[k] = dy.data[at];
          if (grads[0]) grads[0]->data[at] = checked_round(b, a.mul(dy.data[at], scale), dy.data[at] * scale);
        }
      if (grads[1]) grads[1]->data[static_cast<std::size_t>(c)] = checked_dot(b, dys, f.xhat[static_cast<std::size_t>(c)]);
      if (grads[2]) grads[2]->data[static_cast<std::size_t>(c)] = checked_sum(b, dys);
    }
  }

 private:
  struct Factors {
    std::vector<double> scale;              ///< per channel
    std::vector<std::vector<double>> xhat;  ///< per channel, batch-major then position
  };
  static const Arithmetic& exact() {
    static const ExactArithmetic e;
    return e;
  }
  Factors factors(const Arithmetic& a, std::span<const Tensor* const> in) const {
    const double* x = in[0]->data.data();
    const double *gamma = in[1]->data.data(), *mean = in[3]->data.data(), *var = in[4]->data.data();
    Factors f;
    for (std::int64_t c = 0; c < channels_; ++c) {
      f.scale.push_back(a.round(gamma[c] / std::sqrt(var[c] + epsilon_)));
      const double r = a.round(1 / std::sqrt(var[c] + epsilon_));
      std::vector<double>& xh = f.xhat.emplace_back();
      for (std::int64_t n = 0; n < outer_; ++n)
        for (std::int64_t i = 0; i < inner_; ++i) xh.push_back(a.mul(a.sub(x[(n * channels_ + c) * inner_ + i], mean[c]), r));
    }
    return f;
  }
};

/// BatchNormalization in training form: each channel normalised by the statistics of the batch
/// (its N·positions values, the running statistics unused), y = RN(x̂·γ + β). Its backward pass
/// is group_backward per channel, the gradient flowing through the batch's mean and variance.
class BatchNormTrainBackward : public LayerBackward, private ops::BatchNormGeometry {
 public:
  explicit BatchNormTrainBackward(const OpContext& ctx) : BatchNormGeometry(ctx) {}
  std::vector<std::size_t> parameters() const override { return {1, 2}; }
  bool differentiable(std::size_t i) const override { return i == 0; }
  bool forward(const Arithmetic& a, std::span<const Tensor* const> in, Tensor& out) const override {
    const std::vector<double>&gamma = in[1]->data, &beta = in[2]->data;
    std::vector<double> x, xhat;
    for (std::int64_t c = 0; c < channels_; ++c) {
      channel(in[0]->data, c, x);
      xhat.resize(x.size());
      normalize_group(a, x, epsilon_, xhat);
      for (std::size_t k = 0; k < xhat.size(); ++k) xhat[k] = a.fma(xhat[k], gamma[static_cast<std::size_t>(c)], beta[static_cast<std::size_t>(c)]);
      scatter(xhat, c, out.data);
    }
    return true;
  }
  void run(const BackwardArithmetic& b, std::span<const Tensor* const> in, const Tensor&, const Tensor& dy,
           std::span<Tensor* const> grads) const override {
    const Arithmetic& a = b.a;
    std::vector<double> x, xhat, g, dx;
    for (std::int64_t c = 0; c < channels_; ++c) {
      channel(in[0]->data, c, x);
      channel(dy.data, c, g);
      xhat.resize(x.size());
      const double r = normalize_group(a, x, epsilon_, xhat);
      const std::size_t cc = static_cast<std::size_t>(c);
      if (grads.size() > 1 && grads[1]) grads[1]->data[cc] = checked_dot(b, g, xhat);
      if (grads.size() > 2 && grads[2]) grads[2]->data[cc] = checked_sum(b, g);
      if (!grads[0]) continue;
      const double gamma = in[1]->data[cc];
      for (double& v : g) v = checked_round(b, a.mul(v, gamma), v * gamma);
      dx.resize(g.size());
      group_backward(b, g, xhat, r, dx);
      scatter(dx, c, grads[0]->data);
    }
  }

 private:
  /// Channel c's values, batch-major then position.
  void channel(const std::vector<double>& t, std::int64_t c, std::vector<double>& out) const {
    out.clear();
    for (std::int64_t n = 0; n < outer_; ++n)
      for (std::int64_t i = 0; i < inner_; ++i) out.push_back(t[static_cast<std::size_t>((n * channels_ + c) * inner_ + i)]);
  }
  void scatter(const std::vector<double>& v, std::int64_t c, std::vector<double>& t) const {
    std::size_t k = 0;
    for (std::int64_t n = 0; n < outer_; ++n)
      for (std::int64_t i = 0; i < inner_; ++i) t[static_cast<std::size_t>((n * channels_ + c) * inner_ + i)] = v[k++];
  }
};

}  // namespace

std::unique_ptr<LayerBackward> make_normalization_backward(const OpContext& ctx, BatchNormMode mode) {
  const std::string& op = ctx.node.op_type;
  if (op == "LayerNormalization") return std::make_unique<LayerNormBackward>(ctx);
  if (op != "BatchNormalization") return nullptr;
  if (mode == BatchNormMode::Model) mode = ctx.node.attr_int("training_mode", 0) != 0 ? BatchNormMode::Train : BatchNormMode::Eval;
  if (mode == BatchNormMode::Train) return std::make_unique<BatchNormTrainBackward>(ctx);
  return std::make_unique<BatchNormEvalBackward>(ctx);
}

}  // namespace fpaudit::train
