// Elementwise operators of one input that round nothing: Abs and Neg (1-Lipschitz, the input
// bound passes through), ThresholdedRelu (a selection with a jump) and the step functions Sign, Ceil, Floor and Round (each output is an
// integer of the input's own format, so every chain computes it exactly). A step function is
// discontinuous: near a jump a tiny input error moves the output by a whole step, so its bound
// rule (step_bound) measures how far the function can move over everything the input error
// allows, rather than passing the input bound through. The bound rules live in
// lib/bounds/rules/runtime_select.cpp.
#include <cmath>

#include "core/ops/step_functions.h"
#include "kernels/ops/ops.h"

namespace fpaudit::ops {

namespace {

/// y[i] = f(x[i]), exact in every arithmetic.
class ExactUnary : public OpKernel {
 public:
  using Fn = double (*)(double);
  explicit ExactUnary(Fn f) : f_(f) {}
  void run(const Arithmetic&, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const std::vector<double>& x = in[0]->data;
    std::vector<double>& y = out[0]->data;
    for (std::size_t i = 0; i < x.size(); ++i) y[i] = f_(x[i]);
  }
  bool exact() const override { return true; }

 private:
  Fn f_;
};

double neg(double x) { return -x; }
double abs_value(double x) { return std::fabs(x); }
using step::ceil_value;  // core/ops/step_functions.h: the bound rules evaluate the same functions
using step::floor_value;
using step::round_half_even;
using step::sign;

/// ThresholdedRelu: y = x > alpha ? x : 0, alpha the binary64 attribute (a selection with a
/// jump at alpha: its rule is threshold_bound).
class ThresholdedRelu : public OpKernel {
 public:
  explicit ThresholdedRelu(double alpha) : alpha_(alpha) {}
  void run(const Arithmetic&, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const std::vector<double>& x = in[0]->data;
    std::vector<double>& y = out[0]->data;
    for (std::size_t i = 0; i < x.size(); ++i) y[i] = x[i] > alpha_ ? x[i] : 0.0;  // NaN: 0, as ONNX
  }
  bool exact() const override { return true; }

 private:
  double alpha_;
};

OpFactory exact_unary(ExactUnary::Fn f) {
  return [f](const OpContext&) -> std::unique_ptr<OpKernel> { return std::make_unique<ExactUnary>(f); };
}

}  // namespace

void register_exact_unary_ops(std::vector<OpRegistration>& r) {
  r.push_back({"Abs", exact_unary(abs_value)});
  r.push_back({"Neg", exact_unary(neg)});
  r.push_back({"Sign", exact_unary(sign)});
  r.push_back({"Ceil", exact_unary(ceil_value)});
  r.push_back({"Floor", exact_unary(floor_value)});
  r.push_back({"Round", exact_unary(round_half_even)});
  r.push_back({"ThresholdedRelu", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> {
                 return std::make_unique<ThresholdedRelu>(ctx.node.attr_float("alpha", 1.0));
               }});
}

}  // namespace fpaudit::ops
