// Elementwise operators of one input. Each output element is the chain's rounding of the exact
// function value (Arithmetic::unary), or an exact selection (ReLU, Clip, Identity...).
#include <cmath>
#include <functional>

#include "bounds/elementwise.h"
#include "kernels/ops/ops.h"

namespace fpaudit::ops {

namespace {

/// y[i] = f(a, x[i]) for every element. The bound rule (lib/bounds/elementwise.h) maps one
/// operand element to the bound of its output; without one, an exact kernel's default applies
/// (1-Lipschitz selections: the input bound passes through).
class Unary : public OpKernel {
 public:
  using Fn = std::function<double(const Arithmetic&, double)>;
  using Rule = std::function<double(const bounds::ArithmeticModel&, bounds::Operand)>;
  Unary(Fn f, bool exact, Rule rule = {}) : f_(std::move(f)), exact_(exact), rule_(std::move(rule)) {}
  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const std::vector<double>& x = in[0]->data;
    std::vector<double>& y = out[0]->data;
    for (std::size_t i = 0; i < x.size(); ++i) y[i] = f_(a, x[i]);
  }
  bool exact() const override { return exact_; }
  void bound(const bounds::BoundRequest& r) const override {
    if (!rule_) return OpKernel::bound(r);
    const bounds::Enclosure& x = r.inputs[0];
    Tensor& det = *r.det[0];
    Tensor& prob = *r.prob[0];
    // One tensor for both input bounds: the probabilistic rule would repeat the deterministic one.
    const bool same_err = x.err == x.err_prob;
    for (long i = 0; i < det.size(); ++i) {
      det.data[i] = rule_(r.model, bounds::operand_at(x, i, false));
      prob.data[i] = same_err ? det.data[i] : std::fmin(det.data[i], rule_(r.model, bounds::operand_at(x, i, true)));
    }
    if (r.failure_probability) *r.failure_probability = 0;
  }

 private:
  Fn f_;
  bool exact_;
  Rule rule_;
};

/// Preserves NaN; max(x, 0) with +0 for x ≤ 0.
double relu(double x) { return std::isnan(x) ? x : (x > 0 ? x : 0.0); }
double clamp(double x, double lo, double hi) { return std::isnan(x) ? x : std::fmin(std::fmax(x, lo), hi); }

std::unique_ptr<OpKernel> unary_fn(UnaryFn fn) {
  return std::make_unique<Unary>([fn](const Arithmetic& a, double x) { return a.unary(fn, x); }, false,
                                 [fn](const bounds::ArithmeticModel& m, bounds::Operand x) { return bounds::unary_fn_bound(m, fn, x); });
}

std::unique_ptr<OpKernel> make_clip(const OpContext& ctx) {
  // Bounds: attributes min/max before opset 11, optional constant inputs since.
  double lo = -INFINITY, hi = INFINITY;
  if (ctx.graph.opset < 11) {
    lo = ctx.node.attr_float("min", -INFINITY);
    hi = ctx.node.attr_float("max", INFINITY);
  } else {
    auto bound = [&](std::size_t i, double fallback) {
      if (!ctx.has_input(i)) return fallback;
      const Constant* c = ctx.const_inputs[i];
      if (c == nullptr || c->values.size() != 1) ctx.fail(fmt::format("input {} must be a constant scalar", i));
      return c->values[0];
    };
    lo = bound(1, -INFINITY);
    hi = bound(2, INFINITY);
  }
  // The bounds are tensors of the model's type: each chain clips at its own rounding of them.
  // Exact (a selection), but clamping an error bound is not a bound: clip_bound passes the
  // operand's error through (1-Lipschitz) plus the rounding of lo and hi.
  return std::make_unique<Unary>([lo, hi](const Arithmetic& a, double x) { return clamp(x, a.round(lo), a.round(hi)); }, true,
                                 [lo, hi](const bounds::ArithmeticModel& m, bounds::Operand x) { return bounds::clip_bound(m, x, lo, hi); });
}

std::unique_ptr<OpKernel> make_hard_sigmoid(double alpha, double beta) {
  return std::make_unique<Unary>(
      [alpha, beta](const Arithmetic& a, double x) { return clamp(a.fma(alpha, x, beta), 0.0, 1.0); }, false,
      [alpha, beta](const bounds::ArithmeticModel& m, bounds::Operand x) { return bounds::hard_sigmoid_bound(m, x, alpha, beta); });
}

std::unique_ptr<OpKernel> make_cast(const OpContext& ctx) {
  // Runtime values are floating point; a Cast between floating types keeps the chain's own
  // storage format (the chain decides the precision), so it is the identity here. Casts to
  // integers of runtime data cannot be audited.
  const auto to = ctx.node.attr_int("to", 0);
  const bool to_float = to == 1 || to == 10 || to == 11 || to == 16;  // float, float16, double, bfloat16
  if (!to_float) ctx.fail("casting runtime data to a non-floating type is not supported");
  // Runtime integers (ArgMax's indices) and bools become values of the chain's storage: one
  // rounding (exact for 0/1 and small indices; fp8 holds integers only up to 16 exactly).
  const ValueInfo* from = ctx.graph.value(ctx.node.inputs.at(0));
  if (from != nullptr && !is_float(from->dtype))
    return std::make_unique<Unary>([](const Arithmetic& a, double x) { return a.round(x); }, false,
                                   [](const bounds::ArithmeticModel& m, bounds::Operand x) {
                                     return bounds::nan_to_inf(bounds::up(x.err + m.storage.error(x.magnitude())));
                                   });
  return std::make_unique<Unary>([](const Arithmetic&, double x) { return x; }, true);
}

}  // namespace

void register_unary_ops(std::vector<OpRegistration>& r) {
  auto exact = [](auto f) {
    return [f](const OpContext&) -> std::unique_ptr<OpKernel> {
      return std::make_unique<Unary>([f](const Arithmetic&, double x) { return f(x); }, true);
    };
  };
  auto fn = [](UnaryFn f) { return [f](const OpContext&) { return unary_fn(f); }; };
  r.push_back({"Relu", exact(relu)});
  r.push_back({"Identity", exact([](double x) { return x; })});
  r.push_back({"Dropout", exact([](double x) { return x; })});  // inference: identity (mask output unsupported)
  r.push_back({"Cast", make_cast});
  r.push_back({"Clip", make_clip});
  r.push_back({"Exp", fn(UnaryFn::Exp)});
  r.push_back({"Log", fn(UnaryFn::Log)});
  r.push_back({"Tanh", fn(UnaryFn::Tanh)});
  r.push_back({"Sigmoid", fn(UnaryFn::Sigmoid)});
  r.push_back({"Erf", fn(UnaryFn::Erf)});
  r.push_back({"Sqrt", fn(UnaryFn::Sqrt)});
  r.push_back({"Reciprocal", fn(UnaryFn::Reciprocal)});
  r.push_back({"LeakyRelu", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> {
                 const double alpha = ctx.node.attr_float("alpha", 0.01);
                 return std::make_unique<Unary>(
                     [alpha](const Arithmetic& a, double x) { return std::isnan(x) || x >= 0 ? x : a.mul(alpha, x); }, false,
                     [alpha](const bounds::ArithmeticModel& m, bounds::Operand x) { return bounds::leaky_relu_bound(m, x, alpha); });
               }});
  r.push_back({"HardSigmoid", [](const OpContext& ctx) {
                 return make_hard_sigmoid(ctx.node.attr_float("alpha", 0.2), ctx.node.attr_float("beta", 0.5));
               }});
  r.push_back({"HardSwish", [](const OpContext&) -> std::unique_ptr<OpKernel> {
                 // x · HardSigmoid(x) with alpha = 1/6 (its binary64 value), beta = 1/2.
                 return std::make_unique<Unary>(
                     [](const Arithmetic& a, double x) { return a.mul(x, clamp(a.fma(1.0 / 6.0, x, 0.5), 0.0, 1.0)); }, false,
                     [](const bounds::ArithmeticModel& m, bounds::Operand x) { return bounds::hard_swish_bound(m, x); });
               }});
  r.push_back({"Gelu", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> {
                 const std::string approx = ctx.node.attr_string("approximate", "none");
                 if (approx == "none") return unary_fn(UnaryFn::Gelu);
                 if (approx != "tanh") ctx.fail("approximate must be 'none' or 'tanh'");
                 // The tanh form, evaluated in binary64 and rounded once.
                 return std::make_unique<Unary>([](const Arithmetic& a, double x) {
                   const double k = 0.79788456080286535588;  // sqrt(2/pi)
                   return a.round(0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x))));
                 }, false, [](const bounds::ArithmeticModel& m, bounds::Operand x) { return bounds::gelu_tanh_bound(m, x); });
               }});
}

}  // namespace fpaudit::ops
