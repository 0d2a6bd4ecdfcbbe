// Elementwise operators of two or more inputs with numpy broadcasting: one rounding per output
// element (Add, Sub, Mul, Div, Pow, PRelu) or an exact selection (Min, Max).
#include <cmath>
#include <functional>

#include "bounds/elementwise.h"
#include "kernels/ops/broadcast.h"
#include "kernels/ops/ops.h"

namespace fpaudit::ops {

namespace {

/// y = f(x0, x1, ...) over the broadcast shape, folding left to right for n-ary Min/Max.
/// Rounded operators carry a bound rule of two operands (lib/bounds/elementwise.h); the exact
/// selections Min and Max are 1-Lipschitz in the max-norm: the largest input bound passes.
class Nary : public OpKernel {
 public:
  using Fn = std::function<double(const Arithmetic&, double, double)>;
  using Rule = std::function<double(const bounds::ArithmeticModel&, bounds::Operand, bounds::Operand)>;
  Nary(const OpContext& ctx, Fn f, bool exact, Rule rule = {})
      : f_(std::move(f)), exact_(exact), rule_(std::move(rule)), bc_(ctx.input_shapes, ctx.output_shapes.at(0)) {}
  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    std::vector<double>& y = out[0]->data;
    bc_.for_each([&](std::int64_t o, const std::int64_t* off) {
      double v = in[0]->data[off[0]];
      for (std::size_t i = 1; i < in.size(); ++i) v = f_(a, v, in[i]->data[off[i]]);
      y[o] = v;
    });
  }
  bool exact() const override { return exact_; }
  void bound(const bounds::BoundRequest& r) const override {
    Tensor& det = *r.det[0];
    Tensor& prob = *r.prob[0];
    if (!rule_) {
      // |max_i a_i - max_i b_i| ≤ max_i |a_i - b_i|, and the same for min (running the kernel
      // on the bounds would give min of the bounds for Min: not a bound).
      bc_.for_each([&](std::int64_t o, const std::int64_t* off) {
        double d = 0, p = 0;
        for (std::size_t i = 0; i < r.inputs.size(); ++i) {
          d = std::fmax(d, r.inputs[i].err->data[off[i]]);
          p = std::fmax(p, r.inputs[i].err_prob->data[off[i]]);
        }
        det.data[o] = d;
        prob.data[o] = p;
      });
    } else {
      const bounds::Enclosure& x = r.inputs[0];
      const bounds::Enclosure& z = r.inputs[1];
      // One tensor for both bounds of each input: the probabilistic rule would repeat the other.
      const bool same_err = x.err == x.err_prob && z.err == z.err_prob;
      bc_.for_each([&](std::int64_t o, const std::int64_t* off) {
        det.data[o] = rule_(r.model, bounds::operand_at(x, off[0], false), bounds::operand_at(z, off[1], false));
        prob.data[o] = same_err ? det.data[o]
                                : std::fmin(det.data[o], rule_(r.model, bounds::operand_at(x, off[0], true), bounds::operand_at(z, off[1], true)));
      });
    }
    if (r.failure_probability) *r.failure_probability = 0;
  }

 private:
  Fn f_;
  bool exact_;
  Rule rule_;
  Broadcast bc_;
};

/// Min/Max propagate NaN (std::fmin would drop it).
double nan_min(double a, double b) { return std::isnan(a) || std::isnan(b) ? NAN : (b < a ? b : a); }
double nan_max(double a, double b) { return std::isnan(a) || std::isnan(b) ? NAN : (b > a ? b : a); }

template <class F, class R>
OpFactory rounded(F f, R rule) {
  return [f, rule](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<Nary>(ctx, f, false, rule); };
}

}  // namespace

void register_binary_ops(std::vector<OpRegistration>& r) {
  using bounds::ArithmeticModel;
  using bounds::Operand;
  r.push_back({"Add", rounded([](const Arithmetic& a, double x, double y) { return a.add(x, y); },
                              [](const ArithmeticModel& m, Operand x, Operand y) { return bounds::add_bound(m, x, y, false); })});
  r.push_back({"Sub", rounded([](const Arithmetic& a, double x, double y) { return a.sub(x, y); },
                              [](const ArithmeticModel& m, Operand x, Operand y) { return bounds::add_bound(m, x, y, true); })});
  r.push_back({"Mul", rounded([](const Arithmetic& a, double x, double y) { return a.mul(x, y); }, bounds::mul_bound)});
  r.push_back({"Div", rounded([](const Arithmetic& a, double x, double y) { return a.div(x, y); }, bounds::div_bound)});
  r.push_back({"Pow", rounded([](const Arithmetic& a, double x, double y) { return a.pow(x, y); }, bounds::pow_bound)});
  r.push_back({"PRelu", rounded([](const Arithmetic& a, double x, double slope) {
                 return std::isnan(x) || x >= 0 ? x : a.mul(slope, x);
               }, bounds::prelu_bound)});
  r.push_back({"Min", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> {
                 return std::make_unique<Nary>(ctx, [](const Arithmetic&, double x, double y) { return nan_min(x, y); }, true);
               }});
  r.push_back({"Max", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> {
                 return std::make_unique<Nary>(ctx, [](const Arithmetic&, double x, double y) { return nan_max(x, y); }, true);
               }});
}

}  // namespace fpaudit::ops
