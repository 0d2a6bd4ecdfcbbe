// Smooth activations on runtime data: Elu, Selu, Celu and Softplus. Each is evaluated in
// binary64 (libm's expm1, exp and log1p, then at most two binary64 multiplications or
// divisions) and rounded once into storage, as Gelu's tanh form is:
//   Elu       x ≥ 0: x;         x < 0: RN64(alpha·expm1(x))
//   Selu      x > 0: RN64(γx);  x ≤ 0: RN64(γ·RN64(alpha·expm1(x)))
//   Celu      x ≥ 0: x;         x < 0: RN64(alpha·expm1(RN64(x/alpha)))
//   Softplus  x ≤ 30: log1p(exp(x));  x > 30: RN64(x + log1p(exp(-x)))
// ASSUMPTION (theory/elementwise.md §10): libm's expm1, exp and log1p are within 2^-49·|f| +
// 2^-1000 of the true value (the margin bounds::up_libm assumes for every libm function).
// With the binary64 steps above, the value rounded from is then within rel·|f| + abs of f(x),
// rel = 2^-47, abs = 2^-999 (smooth_rule's constants).
#include <cmath>

#include "bounds/elementwise.h"
#include "bounds/model.h"
#include "kernels/ops/ops.h"

namespace fpaudit::ops {

namespace {

/// Relative and absolute error of the binary64 value each kernel rounds from.
constexpr double kRel = 0x1p-47, kAbs = 0x1p-999;

/// What a smooth activation's bound needs over [lo - err, hi + err]: F ≥ |f| over the chain's
/// enclosure [lo, hi], and L ≥ |f'| over the wider interval (its Lipschitz constant there).
struct Smooth {
  double F = 0, L = 0;
};

/// |y_c - f(x̄)| ≤ |round_S(v) - v| + |v - f(x_c)| + |f(x_c) - f(x̄)|
///             ≤ err_S(F(1 + rel) + abs) + rel·F + abs + L·err.
double smooth_rule(const bounds::ArithmeticModel& m, Smooth s, double err) {
  using bounds::up;
  const double v = up(up(s.F * (1 + kRel)) + kAbs);
  const double total = up(up(m.storage.error(v) + up(kRel * s.F) + kAbs) + up(s.L * err));
  return bounds::nan_to_inf(total * bounds::safety(8));
}

class SmoothActivation : public OpKernel {
 public:
  using Eval = double (*)(const double* p, double x);
  using Shape_ = Smooth (*)(const double* p, double lo, double hi, double err);
  SmoothActivation(Eval eval, Shape_ shape, double p0, double p1) : eval_(eval), shape_(shape), p_{p0, p1} {}
  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const std::vector<double>& x = in[0]->data;
    std::vector<double>& y = out[0]->data;
    for (std::size_t i = 0; i < x.size(); ++i) y[i] = a.round(eval_(p_, x[i]));
  }
  void bound(const bounds::BoundRequest& r) const override {
    const bounds::Enclosure& x = r.inputs[0];
    for (long i = 0; i < r.det[0]->size(); ++i) {
      const double lo = x.lo->data[i], hi = x.hi->data[i];
      if (std::isnan(lo) || std::isnan(hi)) {
        r.det[0]->data[i] = r.prob[0]->data[i] = INFINITY;
        continue;
      }
      const double e = x.err->data[i], ep = x.err_prob->data[i];
      r.det[0]->data[i] = smooth_rule(r.model, shape_(p_, lo, hi, e), e);
      r.prob[0]->data[i] = std::fmin(r.det[0]->data[i], smooth_rule(r.model, shape_(p_, lo, hi, ep), ep));
    }
    if (r.failure_probability) *r.failure_probability = 0;
  }

 private:
  Eval eval_;
  Shape_ shape_;
  double p_[2];
};

double magnitude(double lo, double hi) { return std::fmax(std::fabs(lo), std::fabs(hi)); }

// ---- Elu (p = alpha), Selu (p = alpha, gamma), Celu (p = alpha) --------------------------
// |expm1(x)| ≤ |x| for x < 0, and the derivative of alpha·expm1(x) is alpha·e^x ≤ |alpha| there.

double elu(const double* p, double x) { return x >= 0 || std::isnan(x) ? x : p[0] * std::expm1(x); }
Smooth elu_shape(const double* p, double lo, double hi, double) {
  const double k = std::fmax(1.0, std::fabs(p[0]));
  return {bounds::up(k * magnitude(lo, hi)), k};
}

double selu(const double* p, double x) { return x > 0 || std::isnan(x) ? p[1] * x : p[1] * (p[0] * std::expm1(x)); }
Smooth selu_shape(const double* p, double lo, double hi, double) {
  const double k = bounds::up(std::fabs(p[1]) * std::fmax(1.0, std::fabs(p[0])));
  return {bounds::up(k * magnitude(lo, hi)), k};
}

/// alpha > 0 (ONNX requires it): alpha·expm1(x/alpha) has |·| ≤ |x| and derivative e^(x/alpha) ≤ 1
/// for x < 0. The rounding of x/alpha moves expm1's argument t by at most 2^-53|t|, which moves
/// expm1(t) by at most e^t|t|·2^-53 ≤ 2^-53|expm1(t)|: inside kRel.
double celu(const double* p, double x) { return x >= 0 || std::isnan(x) ? x : p[0] * std::expm1(x / p[0]); }
Smooth celu_shape(const double*, double lo, double hi, double) { return {magnitude(lo, hi), 1.0}; }

// ---- Softplus ------------------------------------------------------------------------------
// log(1 + e^x) is increasing, at most max(x, 0) + log 2, with derivative sigmoid(x) ≤ 1. An
// error δ in exp's value moves log1p(w) by at most w·δ/(1 + w) ≤ δ·log1p(w): inside kRel.

double softplus(const double*, double x) { return x > 30 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }
Smooth softplus_shape(const double*, double, double hi, double) {
  return {bounds::up(std::fmax(hi, 0.0) + 0.6931471805599454), 1.0};  // log 2, rounded up
}

}  // namespace

void register_smooth_activation_ops(std::vector<OpRegistration>& r) {
  r.push_back({"Elu", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> {
                 return std::make_unique<SmoothActivation>(elu, elu_shape, ctx.node.attr_float("alpha", 1.0), 0.0);
               }});
  r.push_back({"Selu", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> {
                 return std::make_unique<SmoothActivation>(selu, selu_shape, ctx.node.attr_float("alpha", 1.67326319217681884765625),
                                                           ctx.node.attr_float("gamma", 1.05070102214813232421875));
               }});
  r.push_back({"Celu", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> {
                 const double alpha = ctx.node.attr_float("alpha", 1.0);
                 if (!(alpha > 0)) ctx.fail("alpha must be positive");
                 return std::make_unique<SmoothActivation>(celu, celu_shape, alpha, 0.0);
               }});
  r.push_back({"Softplus", [](const OpContext&) -> std::unique_ptr<OpKernel> {
                 return std::make_unique<SmoothActivation>(softplus, softplus_shape, 0.0, 0.0);
               }});
}

}  // namespace fpaudit::ops
