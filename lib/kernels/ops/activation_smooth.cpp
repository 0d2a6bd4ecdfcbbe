// Smooth activations on runtime data: Elu, Selu, Celu, Softplus and Mish. Each is evaluated in
// binary64 (libm's expm1, exp and log1p, then at most two binary64 multiplications or
// divisions) and rounded once into storage, as Gelu's tanh form is:
//   Elu       x ≥ 0: x;         x < 0: RN64(alpha·expm1(x))
//   Selu      x > 0: RN64(γx);  x ≤ 0: RN64(γ·RN64(alpha·expm1(x)))
//   Celu      x ≥ 0: x;         x < 0: RN64(alpha·expm1(RN64(x/alpha)))
//   Softplus  x ≤ 30: log1p(exp(x));  x > 30: RN64(x + log1p(exp(-x)))
//   Mish      RN64(x·tanh(softplus(x)))  (rel 2^-46 and abs 2^-989: Mish's own constants, as
//             the product with x scales the underflow term of exp, |x| ≤ 746 where exp(x) ≠ 0)
// ASSUMPTION (theory/elementwise.md §10): libm's expm1, exp and log1p are within 2^-49·|f| +
// 2^-1000 of the true value (the margin bounds::up_libm assumes for every libm function).
// With the binary64 steps above, the value rounded from is then within rel·|f| + abs of f(x),
// rel = 2^-47, abs = 2^-999 (smooth_rule's constants, lib/bounds/rules/runtime_rounded.cpp).
#include <cmath>

#include "kernels/ops/ops.h"

namespace fpaudit::ops {

namespace {

class SmoothActivation : public OpKernel {
 public:
  using Eval = double (*)(const double* p, double x);
  SmoothActivation(Eval eval, double p0, double p1) : eval_(eval), p_{p0, p1} {}
  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const std::vector<double>& x = in[0]->data;
    std::vector<double>& y = out[0]->data;
    for (std::size_t i = 0; i < x.size(); ++i) y[i] = a.round(eval_(p_, x[i]));
  }

 private:
  Eval eval_;
  double p_[2];
};

// ---- Elu (p = alpha), Selu (p = alpha, gamma), Celu (p = alpha) --------------------------

double elu(const double* p, double x) { return x >= 0 || std::isnan(x) ? x : p[0] * std::expm1(x); }

double selu(const double* p, double x) { return x > 0 || std::isnan(x) ? p[1] * x : p[1] * (p[0] * std::expm1(x)); }

/// alpha > 0 (ONNX requires it).
double celu(const double* p, double x) { return x >= 0 || std::isnan(x) ? x : p[0] * std::expm1(x / p[0]); }

// ---- Softplus ------------------------------------------------------------------------------

double softplus(const double*, double x) { return x > 30 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }

// ---- Mish ----------------------------------------------------------------------------------

double mish(const double*, double x) { return x * std::tanh(softplus(nullptr, x)); }

}  // namespace

void register_smooth_activation_ops(std::vector<OpRegistration>& r) {
  r.push_back({"Elu", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> {
                 return std::make_unique<SmoothActivation>(elu, ctx.node.attr_float("alpha", 1.0), 0.0);
               }});
  r.push_back({"Selu", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> {
                 return std::make_unique<SmoothActivation>(selu, ctx.node.attr_float("alpha", 1.67326319217681884765625),
                                                           ctx.node.attr_float("gamma", 1.05070102214813232421875));
               }});
  r.push_back({"Celu", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> {
                 const double alpha = ctx.node.attr_float("alpha", 1.0);
                 if (!(alpha > 0)) ctx.fail("alpha must be positive");
                 return std::make_unique<SmoothActivation>(celu, alpha, 0.0);
               }});
  r.push_back({"Softplus", [](const OpContext&) -> std::unique_ptr<OpKernel> {
                 return std::make_unique<SmoothActivation>(softplus, 0.0, 0.0);
               }});
  r.push_back({"Mish", [](const OpContext&) -> std::unique_ptr<OpKernel> { return std::make_unique<SmoothActivation>(mish, 0.0, 0.0); }});
}

}  // namespace fpaudit::ops
