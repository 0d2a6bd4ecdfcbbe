// Backward steps of LayerNormalization (the native operator), HardSigmoid
// (theory/margin-bound-nonlinear.md §3 and §2) and BatchNormalization (inference: its own
// per-channel scale, theory/margin-bound.md).
//
// LayerNormalization over a row of n values: y = γ∘n̂ + β, n̂ = (x − μ)/σ, σ = √(mean((x − μ)²) + ε).
// Its Jacobian at ξ is J_ji = γ_j/σ·(δ_ij − 1/n − n̂_i n̂_j/n), so with h = γ∘g
//     (gJ)_i = (h_i − mean(h) − n̂_i·mean(h∘n̂))/σ .
// By the integral form (Lemma 0 there) the secant's gJ̄ lies in any convex enclosure of gJ(ξ)
// over the box; the step evaluates the formula in interval arithmetic with μ, σ and n̂ enclosed
// over the box and g over its midpoint–radius interval. σ is only ever the interval of the
// row's σ over the box: finite and positive (ε > 0), so the step never divides by an error bound.
#include <cmath>

#include "bounds/interval.h"
#include "bounds/transfer.h"
#include "shadow/margin/backward.h"

namespace fpaudit::margin {

namespace {

/// BatchNormalization (inference): y = scale·(x − mean)/√(var + ε) + B, so gx = a_c·gy per
/// channel with a_c = scale_c/√(var_c + ε), a real number enclosed by outward rounding.
class BatchNormBackward : public BackwardStep {
 public:
  explicit BatchNormBackward(const OpContext& ctx) {
    const double eps = ctx.node.attr_float("epsilon", 1e-5);
    const Constant* scale = ctx.const_inputs[1];
    const Constant* var = ctx.const_inputs[4];
    const Shape& x = ctx.input_shapes[0];
    batch_ = x[0];
    channels_ = x[1];
    plane_ = 1;
    for (std::size_t i = 2; i < x.size(); ++i) plane_ *= x[i];
    for (long c = 0; c < channels_; ++c) {
      const bounds::Interval v = bounds::Interval::point(var->values[static_cast<std::size_t>(c)]) + bounds::Interval::point(eps);
      if (!(v.lo > 0)) throw std::invalid_argument("variance + epsilon not positive");
      // √ is correctly rounded, the division too: one step outward each.
      const double s_lo = bounds::down(std::sqrt(v.lo)), s_hi = bounds::up(std::sqrt(v.hi));
      const double g = scale->values[static_cast<std::size_t>(c)];
      const double q1 = g / s_lo, q2 = g / s_hi;
      lo_.push_back(bounds::down(bounds::min_num(q1, q2)));
      hi_.push_back(bounds::up(bounds::max_num(q1, q2)));
    }
  }
  bool reads_boxes() const override { return false; }
  void apply(std::span<const TrajectoryBox>, const Cotangent& out, std::span<Cotangent* const> in) const override {
    if (!in[0]) return;
    for (long b = 0; b < batch_; ++b)
      for (long c = 0; c < channels_; ++c) {
        const long base = (b * channels_ + c) * plane_;
        add_scaled(out, base, lo_[static_cast<std::size_t>(c)], hi_[static_cast<std::size_t>(c)], *in[0], base, plane_);
      }
  }

  bool carries_terms() const override { return true; }
  bool carry_rounds() const override { return true; }
  /// y − ȳ = a_c·(x̂ − x̄) + (ŷ − BN(x̂)): v weighted by a_c², a by |a_c|, plus the layer's own
  /// error with exact input (`local`).
  void carry_terms(const CarryIn& c, const std::vector<double>& v, const std::vector<double>& a, std::vector<double>& v_out,
                   std::vector<double>& a_out) const override {
    v_out.resize(v.size());
    a_out.resize(v.size());
    for (long b = 0; b < batch_; ++b)
      for (long ch = 0; ch < channels_; ++ch) {
        const double m = bounds::max_num(std::fabs(lo_[static_cast<std::size_t>(ch)]), std::fabs(hi_[static_cast<std::size_t>(ch)]));
        const double m2 = bounds::up(m * m);
        for (long i = (b * channels_ + ch) * plane_, end = i + plane_; i < end; ++i) {
          const std::size_t k = static_cast<std::size_t>(i);
          v_out[k] = bounds::nan_to_inf(bounds::up(m2 * v[k]));
          a_out[k] = bounds::nan_to_inf(bounds::up(bounds::up(m * a[k]) + c.local[k]));
        }
      }
  }

 private:
  long batch_ = 0, channels_ = 0, plane_ = 1;
  std::vector<double> lo_, hi_;
};


using bounds::Interval;

/// in[i] += an enclosed real interval [lo, hi], as midpoint and radius with its roundings.
void add_interval(Interval v, Cotangent& in, long i) {
  const std::size_t k = static_cast<std::size_t>(i);
  const double m = 0.5 * v.lo + 0.5 * v.hi;
  const double r = bounds::up(bounds::max_num(m - v.lo, v.hi - m));
  const double mid = in.mid[k] + m;
  in.mid[k] = mid;
  in.rad[k] = bounds::nan_to_inf(bounds::up(bounds::up(in.rad[k] + r) + std::fabs(mid) * 0x1p-52));
  in.reached = true;
}

Interval square(Interval d) {
  const double a = d.mignitude(), b = d.magnitude();
  return {bounds::down(a * a), bounds::up(b * b)};
}

Interval divide(Interval a, Interval b) {  // b > 0
  const double q[4] = {a.lo / b.lo, a.lo / b.hi, a.hi / b.lo, a.hi / b.hi};
  double lo = q[0], hi = q[0];
  for (double v : q) lo = bounds::min_num(lo, v), hi = bounds::max_num(hi, v);
  return {bounds::down(lo), bounds::up(hi)};
}

Interval scaled(Interval a, double s) { return a * Interval::point(s); }

class LayerNormBackward : public BackwardStep {
 public:
  LayerNormBackward(long rows, long n, std::vector<double> gamma, double eps) : rows_(rows), n_(n), gamma_(std::move(gamma)), eps_(eps) {}
  void apply(std::span<const TrajectoryBox> boxes, const Cotangent& out, std::span<Cotangent* const> in) const override {
    if (!in[0]) return;
    const TrajectoryBox& b = boxes[0];
    const double inv_n = 1.0 / static_cast<double>(n_);
    thread_local std::vector<Interval> nh, h;
    nh.resize(static_cast<std::size_t>(n_));
    h.resize(nh.size());
    for (long row = 0; row < rows_; ++row) {
      const long base = row * n_;
      Interval sum = Interval::point(0);
      for (long i = 0; i < n_; ++i) sum = sum + Interval{b.lo[base + i], b.hi[base + i]};
      // ×1/n, one more ulp outward for the rounding of 1/n itself.
      const Interval mu = scaled(sum, inv_n);
      const Interval mu_w = Interval{bounds::down(mu.lo - std::fabs(mu.lo) * 0x1p-52), bounds::up(mu.hi + std::fabs(mu.hi) * 0x1p-52)};
      Interval var = Interval::point(0);
      for (long i = 0; i < n_; ++i) var = var + square(Interval{b.lo[base + i], b.hi[base + i]} - mu_w);
      var = scaled(var, inv_n);
      var = {bounds::down(var.lo - std::fabs(var.lo) * 0x1p-52), bounds::up(var.hi + std::fabs(var.hi) * 0x1p-52)};
      var = var + Interval::point(eps_);
      if (!(var.lo > 0) || !std::isfinite(var.hi)) {
        for (long i = 0; i < n_; ++i) add_interval({-INFINITY, INFINITY}, *in[0], base + i);
        continue;
      }
      const Interval sigma{bounds::down(std::sqrt(var.lo)), bounds::up(std::sqrt(var.hi))};
      Interval mean_h = Interval::point(0), mean_hn = Interval::point(0);
      for (long i = 0; i < n_; ++i) {
        const std::size_t k = static_cast<std::size_t>(i);
        nh[k] = divide(Interval{b.lo[base + i], b.hi[base + i]} - mu_w, sigma);
        const Interval g = Interval::around(out.mid[static_cast<std::size_t>(base + i)], out.rad[static_cast<std::size_t>(base + i)]);
        h[k] = g * Interval::point(gamma_[gamma_.size() == 1 ? 0 : k]);
        mean_h = mean_h + h[k];
        mean_hn = mean_hn + h[k] * nh[k];
      }
      auto over_n = [&](Interval s) {
        const Interval q = scaled(s, inv_n);
        return Interval{bounds::down(q.lo - std::fabs(q.lo) * 0x1p-52), bounds::up(q.hi + std::fabs(q.hi) * 0x1p-52)};
      };
      mean_h = over_n(mean_h);
      mean_hn = over_n(mean_hn);
      for (long i = 0; i < n_; ++i) {
        const std::size_t k = static_cast<std::size_t>(i);
        add_interval(divide(h[k] - mean_h - nh[k] * mean_hn, sigma), *in[0], base + i);
      }
    }
  }

 private:
  long rows_, n_;
  std::vector<double> gamma_;
  double eps_;
};

/// clip(α·x + β, 0, 1): slope α where the box lies inside the linear piece, 0 where it lies
/// outside, and any value between 0 and α where it reaches a kink.
class HardSigmoidBackward : public BackwardStep {
 public:
  HardSigmoidBackward(double alpha, double beta) : alpha_(alpha), beta_(beta) {}
  void apply(std::span<const TrajectoryBox> boxes, const Cotangent& out, std::span<Cotangent* const> in) const override {
    if (!in[0]) return;
    const TrajectoryBox& b = boxes[0];
    const double s_lo = bounds::min_num(0.0, alpha_), s_hi = bounds::max_num(0.0, alpha_);
    for (long i = 0; i < static_cast<long>(out.mid.size()); ++i) {
      // The pre-clip values over the box, outward: α·lo + β and α·hi + β (either order).
      const double a = alpha_ * b.lo[i] + beta_, c = alpha_ * b.hi[i] + beta_;
      const double lo = bounds::down(bounds::down(bounds::min_num(a, c))), hi = bounds::up(bounds::up(bounds::max_num(a, c)));
      if (lo > 0 && hi < 1) {
        add_scaled(out, i, alpha_, alpha_, *in[0], i, 1);
      } else if (hi < 0 || lo > 1) {
        continue;  // constant on the whole box: slope 0
      } else {
        add_scaled(out, i, s_lo, s_hi, *in[0], i, 1);
      }
    }
  }

 private:
  double alpha_, beta_;
};

}  // namespace

std::unique_ptr<BackwardStep> make_layer_norm_backward(const OpContext& ctx) {
  if (ctx.const_inputs.size() < 2 || ctx.const_inputs[0] || !ctx.const_inputs[1]) return nullptr;
  if (ctx.output_shapes.size() != 1) return nullptr;
  const Shape& x = ctx.input_shapes[0];
  const int rank = static_cast<int>(x.size());
  const int axis = ops::normalize_axis(ctx, ctx.node.attr_int("axis", -1), rank);
  long n = 1, rows = 1;
  for (int d = 0; d < rank; ++d) (d < axis ? rows : n) *= x[static_cast<std::size_t>(d)];
  const std::vector<double>& gamma = ctx.const_inputs[1]->values;
  if (gamma.size() != 1 && gamma.size() != static_cast<std::size_t>(n)) return nullptr;
  const double eps = ctx.node.attr_float("epsilon", 1e-5);
  if (!(eps > 0)) return nullptr;
  return std::make_unique<LayerNormBackward>(rows, n, gamma, eps);
}

std::unique_ptr<BackwardStep> make_hard_sigmoid_backward(const OpContext& ctx) {
  if (ctx.const_inputs.empty() || ctx.const_inputs[0]) return nullptr;
  return std::make_unique<HardSigmoidBackward>(ctx.node.attr_float("alpha", 0.2), ctx.node.attr_float("beta", 0.5));
}

std::unique_ptr<BackwardStep> make_batch_norm_backward(const OpContext& ctx) {
  for (std::size_t i : {1, 2, 3, 4})
    if (i >= ctx.const_inputs.size() || !ctx.const_inputs[i]) return nullptr;
  if (ctx.const_inputs.at(0) || ctx.input_shapes[0].size() < 2) return nullptr;
  return std::make_unique<BatchNormBackward>(ctx);
}

}  // namespace fpaudit::margin
