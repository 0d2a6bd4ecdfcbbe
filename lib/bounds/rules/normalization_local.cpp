// Bound rules of LRN and LpNormalization (kernels: lib/kernels/ops/normalization.cpp; theory:
// theory/normalization.md §5 and §6). Both divide or scale an element by a quantity computed
// from a window of squares or magnitudes; the rules bound that quantity's error first, then
// carry it through the scaling as the quotient rule does.
#include <cmath>

#include "bounds/rules.h"
#include "bounds/sums.h"
#include "core/ops/normalization.h"

namespace fpaudit::bounds::rules {

namespace {

constexpr double kInf = __builtin_inf();

class LrnRule : public BoundRule, private ops::LrnGeometry {
 public:
  explicit LrnRule(const OpContext& ctx) : LrnGeometry(ctx) {}
  void bound(const BoundRequest& r) const override {
    const Enclosure& x = r.inputs[0];
    double fail = 0;
    for (std::int64_t n = 0; n < outer_; ++n)
      for (std::int64_t c = 0; c < channels_; ++c)
        for (std::int64_t i = 0; i < inner_; ++i) {
          const long at = static_cast<long>((n * channels_ + c) * inner_ + i);
          const long w = static_cast<long>((n * channels_ + first_[c]) * inner_ + i);
          for (const bool prob : {false, true}) {
            const Tensor& err = prob ? *x.err_prob : *x.err;
            double f = 0;
            const double b = element(r, x, err, at, w, count_[c], prob, f);
            (prob ? r.prob[0] : r.det[0])->data[at] = prob ? std::fmin(b, r.det[0]->data[at]) : b;
            fail = std::fmax(fail, f);
          }
        }
    if (r.failure_probability) *r.failure_probability = fail;
  }

 private:
  double element(const BoundRequest& r, const Enclosure& x, const Tensor& err, long at, long w, std::int64_t count,
                 bool prob, double& failure) const {
    const ArithmeticModel& m = r.model;
    // t̄ = bias + c̄·s̄ ≥ bias and t̂ ≥ round_A(bias) need a positive bias; alpha, beta ≥ 0.
    const double t_min = down(bias_ - m.acc.error(std::fabs(bias_)));
    if (!(t_min > 0) || !(alpha_ >= 0) || !(beta_ >= 0)) return kInf;
    // s = Σ x² over the window: |ŝ - s̄| ≤ sum error + Σ(2|x_c|E + E²).
    double S = 0, prop = 0;
    for (std::int64_t k = 0; k < count; ++k) {
      const long j = w + static_cast<long>(k * inner_);
      const double mag = x.magnitude(j), e = err.data[j];
      S += mag * mag;
      prop += (2 * mag + e) * e;
    }
    // count products each (theory/bounds-arithmetic.md §1(a)).
    S = safe_sum(S, count + 2, count);
    prop = safe_sum(prop, count + 4, count);
    const SumError se = sum_error(m, static_cast<long>(count), S, r.lambda);
    failure = prob ? se.failure : 0;
    const double ds = up((prob ? se.prob : se.det) + prop);
    // t̂ = round_A(ĉ·ŝ + bias), ĉ = RN64(alpha/size) within 2^-53 of c̄.
    const double t_mag = up(up(scale_ * se.magnitude) + std::fabs(bias_));
    const double dt = up(up(up(scale_ * ds) + up(scale_ * 0x1p-52 * up(S + prop))) + m.acc.error(t_mag));
    // p = t^-β is decreasing: P = t_min^-β bounds p̄ and t̂^-β; |t̂^-β - t̄^-β| ≤ β t_min^(-β-1)·Δt.
    const double P = up_libm(std::pow(t_min, -beta_));
    const double P64 = up(up(P * (1 + m.libm_rel)) + m.libm_abs);
    const double dp = up(up(up(up(beta_ * up(P / t_min)) * dt) + up(up(P * m.libm_rel) + m.libm_abs)) + m.acc.error(P64));
    const double p_hat = up(P64 + m.acc.error(P64));
    // ŷ = round_S(x_c·p̂): |ŷ - x̄p̄| ≤ |x_c|Δp + E·P + rounding.
    const double mag = x.magnitude(at), e = err.data[at];
    return nan_to_inf(up(up(up(mag * dp) + up(e * P)) + m.storage.error(up(mag * p_hat))) * safety(4));
  }
};

class LpNormRule : public BoundRule, private ops::LpNormGeometry {
 public:
  explicit LpNormRule(const OpContext& ctx) : LpNormGeometry(ctx) {}
  void bound(const BoundRequest& r) const override {
    double fail = 0;
    for (std::int64_t o = 0; o < outer_; ++o)
      for (std::int64_t i = 0; i < inner_; ++i)
        for (const bool prob : {false, true}) fail = std::fmax(fail, slice(r, o * length_ * inner_ + i, prob));
    if (r.failure_probability) *r.failure_probability = fail;
  }

 private:
  /// |x_c/N̂ - x̄/N̄| ≤ (E_j + |N̂ - N̄|·|x̄_j|/N̄)/N̂ ≤ (E_j + ΔN)/N_min, as |x̄_j| ≤ ‖x̄‖_p (p = 1, 2).
  double slice(const BoundRequest& r, long base, bool prob) const {
    const ArithmeticModel& m = r.model;
    const Enclosure& x = r.inputs[0];
    const Tensor& err = prob ? *x.err_prob : *x.err;
    double S = 0, low = 0, E1 = 0, E2 = 0;
    for (std::int64_t j = 0; j < length_; ++j) {
      const long at = base + static_cast<long>(j * inner_);
      const double mag = x.magnitude(at), e = err.data[at];
      const double lo = x.lo->data[at], hi = x.hi->data[at];
      const double mig = lo > 0 ? lo : hi < 0 ? -hi : 0.0;  // the least |x_c| in [lo, hi]
      S += p_ == 1 ? mag : mag * mag;
      low += p_ == 1 ? mig : mig * mig;
      E1 += e;
      E2 += e * e;
    }
    const long n = static_cast<long>(length_);
    // For p = 2, S and low have n products each, E2 has n for every p (theory/bounds-arithmetic.md §1(a)).
    const long squares = p_ == 1 ? 0 : n;
    S = safe_sum(S, n + 2, squares);
    low = safe_sum_down(low, n + 2, squares);
    E1 *= safety(n + 2);
    E2 = safe_sum(E2, n + 2, n);
    const SumError se = sum_error(m, n, S, r.lambda);
    const double es = prob ? se.prob : se.det;
    double n_min = 0, dn = kInf;
    if (p_ == 1) {
      n_min = down(low - es);
      dn = up(es + E1);
    } else if (low > 0) {
      // N̂ = round_A(√ŝ): |√ŝ - √s_c| ≤ |ŝ - s_c|/√s_c, s_c ≥ low; ‖x_c‖ - ‖x̄‖ ≤ ‖E‖₂.
      const double root = down(std::sqrt(low));
      const double dsqrt = up(up(es / root) + m.acc.error(up(std::sqrt(up(se.magnitude)))));
      n_min = down(root - dsqrt);
      dn = up(dsqrt + up(std::sqrt(E2)));
    }
    for (std::int64_t j = 0; j < length_; ++j) {
      const long at = base + static_cast<long>(j * inner_);
      double b = kInf;
      if (n_min > 0) {
        const double y_mag = up(x.magnitude(at) / n_min);
        b = nan_to_inf(up(up(up(err.data[at] + dn) / n_min) + m.storage.error(y_mag)) * safety(4));
      }
      Tensor& out = prob ? *r.prob[0] : *r.det[0];
      out.data[at] = prob ? std::fmin(b, r.det[0]->data[at]) : b;
    }
    return prob ? se.failure : 0.0;
  }
};

}  // namespace

void register_local_normalization_rules(std::vector<BoundRuleRegistration>& r) {
  r.push_back({"LRN", prepared<LrnRule>()});
  r.push_back({"LpNormalization", prepared<LpNormRule>()});
}

}  // namespace fpaudit::bounds::rules
