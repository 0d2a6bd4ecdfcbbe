// Elementwise operators of one input that round nothing: Abs and Neg (1-Lipschitz, the input
// bound passes through), ThresholdedRelu (a selection with a jump) and the step functions Sign, Ceil, Floor and Round (each output is an
// integer of the input's own format, so every chain computes it exactly). A step function is
// discontinuous: near a jump a tiny input error moves the output by a whole step, so its bound
// rule (step_bound) measures how far the function can move over everything the input error
// allows, rather than passing the input bound through.
#include <cmath>

#include "bounds/transfer.h"
#include "kernels/ops/ops.h"

namespace fpaudit::ops {

namespace {

/// y[i] = f(x[i]), exact in every arithmetic, with a bound rule of one operand element:
/// rule(lo, hi, err) bounds |f(x_c) - f(x̄)| for lo ≤ x_c ≤ hi, |x_c - x̄| ≤ err.
class ExactUnary : public OpKernel {
 public:
  using Fn = double (*)(double);
  using Rule = double (*)(Fn, double lo, double hi, double err);
  ExactUnary(Fn f, Rule rule) : f_(f), rule_(rule) {}
  void run(const Arithmetic&, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const std::vector<double>& x = in[0]->data;
    std::vector<double>& y = out[0]->data;
    for (std::size_t i = 0; i < x.size(); ++i) y[i] = f_(x[i]);
  }
  bool exact() const override { return true; }
  void bound(const bounds::BoundRequest& r) const override {
    const bounds::Enclosure& x = r.inputs[0];
    for (long i = 0; i < r.det[0]->size(); ++i) {
      r.det[0]->data[i] = rule_(f_, x.lo->data[i], x.hi->data[i], x.err->data[i]);
      r.prob[0]->data[i] = rule_(f_, x.lo->data[i], x.hi->data[i], x.err_prob->data[i]);
    }
    if (r.failure_probability) *r.failure_probability = 0;
  }

 private:
  Fn f_;
  Rule rule_;
};

/// |f(x_c) - f(x̄)| ≤ |x_c - x̄| ≤ err for 1-Lipschitz f (Abs, Neg).
double lipschitz_bound(ExactUnary::Fn, double, double, double err) { return bounds::nan_to_inf(err); }

/// f nondecreasing (Sign, Ceil, Floor, Round). With err = 0 the chain's operand is the exact
/// one and so is its image. Otherwise both x_c and x̄ lie in [lo - err, hi + err], where f
/// moves by at most f(hi + err) - f(lo - err): 0 when no jump lies in that interval, one step
/// or more when one does (a flipped step: the bound says so instead of passing err through).
double step_bound(ExactUnary::Fn f, double lo, double hi, double err) {
  if (err == 0) return 0;
  const double top = f(bounds::up(hi + err)), bottom = f(bounds::down(lo - err));
  const double jump = top - bottom;  // integers: exact below 2^53, rounded up beyond
  return jump == 0 ? 0 : bounds::nan_to_inf(bounds::up(jump));
}

double neg(double x) { return -x; }
double abs_value(double x) { return std::fabs(x); }
double sign(double x) { return x > 0 ? 1.0 : x < 0 ? -1.0 : x; }  // keeps ±0 and NaN
double ceil_value(double x) { return std::ceil(x); }
double floor_value(double x) { return std::floor(x); }
/// Round half to even, as ONNX's Round, independent of the floating-point environment. For
/// |x| < 2^52, x - floor(x) is exact; beyond, x is an integer already.
double round_half_even(double x) {
  if (!std::isfinite(x)) return x;
  const double f = std::floor(x);
  const double frac = x - f;
  double r = f;
  if (frac > 0.5 || (frac == 0.5 && std::fmod(f, 2.0) != 0)) r = f + 1;
  return r == 0 ? std::copysign(0.0, x) : r;
}

/// ThresholdedRelu: y = x > alpha ? x : 0, alpha the binary64 attribute. A selection with a
/// jump at alpha: away from it the input bound passes (or the output is 0 on both sides); where
/// [lo - err, hi + err] straddles alpha, one side may be x and the other 0, so the bound is the
/// largest |x| the interval allows.
class ThresholdedRelu : public OpKernel {
 public:
  explicit ThresholdedRelu(double alpha) : alpha_(alpha) {}
  void run(const Arithmetic&, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const std::vector<double>& x = in[0]->data;
    std::vector<double>& y = out[0]->data;
    for (std::size_t i = 0; i < x.size(); ++i) y[i] = x[i] > alpha_ ? x[i] : 0.0;  // NaN: 0, as ONNX
  }
  bool exact() const override { return true; }
  void bound(const bounds::BoundRequest& r) const override {
    const bounds::Enclosure& x = r.inputs[0];
    for (long i = 0; i < r.det[0]->size(); ++i) {
      r.det[0]->data[i] = threshold_bound(x.lo->data[i], x.hi->data[i], x.err->data[i]);
      r.prob[0]->data[i] = threshold_bound(x.lo->data[i], x.hi->data[i], x.err_prob->data[i]);
    }
    if (r.failure_probability) *r.failure_probability = 0;
  }

 private:
  double threshold_bound(double lo, double hi, double err) const {
    if (err == 0) return 0;
    const double below = bounds::down(lo - err), above = bounds::up(hi + err);
    if (below > alpha_) return bounds::nan_to_inf(err);  // x on both sides
    if (above <= alpha_) return 0;                        // 0 on both sides
    return bounds::nan_to_inf(std::fmax(std::fabs(below), std::fabs(above)));
  }
  double alpha_;
};

OpFactory exact_unary(ExactUnary::Fn f, ExactUnary::Rule rule) {
  return [f, rule](const OpContext&) -> std::unique_ptr<OpKernel> { return std::make_unique<ExactUnary>(f, rule); };
}

}  // namespace

void register_exact_unary_ops(std::vector<OpRegistration>& r) {
  r.push_back({"Abs", exact_unary(abs_value, lipschitz_bound)});
  r.push_back({"Neg", exact_unary(neg, lipschitz_bound)});
  r.push_back({"Sign", exact_unary(sign, step_bound)});
  r.push_back({"Ceil", exact_unary(ceil_value, step_bound)});
  r.push_back({"Floor", exact_unary(floor_value, step_bound)});
  r.push_back({"Round", exact_unary(round_half_even, step_bound)});
  r.push_back({"ThresholdedRelu", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> {
                 return std::make_unique<ThresholdedRelu>(ctx.node.attr_float("alpha", 1.0));
               }});
}

}  // namespace fpaudit::ops
