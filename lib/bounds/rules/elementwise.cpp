// Bound rules of the elementwise operators: a rule of one or two operand elements
// (bounds/elementwise.h) mapped over the tensor, through the broadcasting the kernels use
// (lib/core/ops/broadcast.h). The exact selections without a rule here (Relu, Identity,
// Dropout, Cast between floating types) are bounded by running their kernel on the bounds.
#include <algorithm>
#include <cmath>
#include <functional>

#include "bounds/elementwise.h"
#include "bounds/rules.h"
#include "core/ops/broadcast.h"
#include "core/ops/elementwise.h"

namespace fpaudit::bounds::rules {

namespace {

/// One operand element to the bound of its output.
class UnaryRule : public BoundRule {
 public:
  using Rule = std::function<double(const ArithmeticModel&, Operand)>;
  explicit UnaryRule(Rule rule) : rule_(std::move(rule)) {}
  void bound(const BoundRequest& r) const override {
    const Enclosure& x = r.inputs[0];
    Tensor& det = *r.det[0];
    Tensor& prob = *r.prob[0];
    // One tensor for both input bounds: the probabilistic rule would repeat the deterministic one.
    const bool same_err = x.err == x.err_prob;
    for (long i = 0; i < det.size(); ++i) {
      det.data[i] = rule_(r.model, operand_at(x, i, false));
      prob.data[i] = same_err ? det.data[i] : std::fmin(det.data[i], rule_(r.model, operand_at(x, i, true)));
    }
    if (r.failure_probability) *r.failure_probability = 0;
  }

 private:
  Rule rule_;
};

/// Two operand elements (numpy broadcasting) to the bound of their output, a row of the
/// output's last dimension per call of the rule (binary_bound_row).
class BinaryRule : public BoundRule {
 public:
  BinaryRule(const OpContext& ctx, BinaryRuleOp op) : op_(op), bc_(ctx.input_shapes, ctx.output_shapes.at(0)) {}
  void bound(const BoundRequest& r) const override {
    Tensor& det = *r.det[0];
    Tensor& prob = *r.prob[0];
    const Enclosure& x = r.inputs[0];
    const Enclosure& z = r.inputs[1];
    // One tensor for both bounds of each input: the probabilistic rule would repeat the other.
    const bool same_err = x.err == x.err_prob && z.err == z.err_prob;
    bc_.for_each_row([&](std::int64_t o, std::int64_t n, const std::int64_t* off, const std::int64_t* step) {
      const auto row = [&](const Enclosure& e, int i, bool probabilistic) {
        const Tensor* err = probabilistic ? e.err_prob : e.err;
        return OperandRow{e.lo->data.data() + off[i], e.hi->data.data() + off[i], err->data.data() + off[i], step[i]};
      };
      double* d = det.data.data() + o;
      double* p = prob.data.data() + o;
      binary_bound_row(op_, r.model, row(x, 0, false), row(z, 1, false), n, d);
      if (same_err) {
        std::copy(d, d + n, p);
        return;
      }
      binary_bound_row(op_, r.model, row(x, 0, true), row(z, 1, true), n, p);
      for (std::int64_t j = 0; j < n; ++j) p[j] = std::fmin(d[j], p[j]);
    });
    if (r.failure_probability) *r.failure_probability = 0;
  }

 private:
  BinaryRuleOp op_;
  ops::Broadcast bc_;
};

/// Min and Max of any number of inputs: |max_i a_i - max_i b_i| ≤ max_i |a_i - b_i|, and the
/// same for min, so the largest input bound passes (running the kernel on the bounds would give
/// min of the bounds for Min: not a bound).
class SelectionRule : public BoundRule {
 public:
  explicit SelectionRule(const OpContext& ctx) : bc_(ctx.input_shapes, ctx.output_shapes.at(0)) {}
  void bound(const BoundRequest& r) const override {
    Tensor& det = *r.det[0];
    Tensor& prob = *r.prob[0];
    bc_.for_each([&](std::int64_t o, const std::int64_t* off) {
      double d = 0, p = 0;
      for (std::size_t i = 0; i < r.inputs.size(); ++i) {
        d = std::fmax(d, r.inputs[i].err->data[off[i]]);
        p = std::fmax(p, r.inputs[i].err_prob->data[off[i]]);
      }
      det.data[o] = d;
      prob.data[o] = p;
    });
    if (r.failure_probability) *r.failure_probability = 0;
  }

 private:
  ops::Broadcast bc_;
};

BoundRuleFactory unary(UnaryRule::Rule rule) {
  return [rule](const OpContext&) -> std::unique_ptr<BoundRule> { return std::make_unique<UnaryRule>(rule); };
}

BoundRuleFactory unary_fn(UnaryFn f) {
  return unary([f](const ArithmeticModel& m, Operand x) { return unary_fn_bound(m, f, x); });
}

BoundRuleFactory binary(BinaryRuleOp op) {
  return [op](const OpContext& ctx) -> std::unique_ptr<BoundRule> { return std::make_unique<BinaryRule>(ctx, op); };
}

}  // namespace

void register_elementwise_rules(std::vector<BoundRuleRegistration>& r) {
  r.push_back({"Exp", unary_fn(UnaryFn::Exp)});
  r.push_back({"Log", unary_fn(UnaryFn::Log)});
  r.push_back({"Tanh", unary_fn(UnaryFn::Tanh)});
  r.push_back({"Sigmoid", unary_fn(UnaryFn::Sigmoid)});
  r.push_back({"Erf", unary_fn(UnaryFn::Erf)});
  r.push_back({"Sqrt", unary_fn(UnaryFn::Sqrt)});
  r.push_back({"Reciprocal", unary_fn(UnaryFn::Reciprocal)});
  // Exact (a selection), but clamping an error bound is not a bound: clip_bound passes the
  // operand's error through (1-Lipschitz) plus the rounding of lo and hi.
  // Cast of a runtime integer (ArgMax's index) or bool to float: one rounding into storage. A
  // Cast between floating types is the identity here (no rule: the engine runs the kernel).
  r.push_back({"Cast", [](const OpContext& ctx) -> std::unique_ptr<BoundRule> {
                 const ValueInfo* from = ctx.graph.value(ctx.node.inputs.at(0));
                 if (from == nullptr || is_float(from->dtype)) return nullptr;
                 return std::make_unique<UnaryRule>([](const ArithmeticModel& m, Operand x) {
                   return nan_to_inf(up(x.err + m.storage.error(x.magnitude())));
                 });
               }});
  r.push_back({"Clip", [](const OpContext& ctx) -> std::unique_ptr<BoundRule> {
                 const ops::ClipLimits c = ops::clip_limits(ctx);
                 return std::make_unique<UnaryRule>([c](const ArithmeticModel& m, Operand x) { return clip_bound(m, x, c.lo, c.hi); });
               }});
  r.push_back({"LeakyRelu", [](const OpContext& ctx) -> std::unique_ptr<BoundRule> {
                 const double alpha = ops::leaky_relu_alpha(ctx);
                 return std::make_unique<UnaryRule>([alpha](const ArithmeticModel& m, Operand x) { return leaky_relu_bound(m, x, alpha); });
               }});
  r.push_back({"HardSigmoid", [](const OpContext& ctx) -> std::unique_ptr<BoundRule> {
                 const ops::HardSigmoidParams p = ops::hard_sigmoid_params(ctx);
                 return std::make_unique<UnaryRule>(
                     [p](const ArithmeticModel& m, Operand x) { return hard_sigmoid_bound(m, x, p.alpha, p.beta); });
               }});
  r.push_back({"HardSwish", unary([](const ArithmeticModel& m, Operand x) { return hard_swish_bound(m, x); })});
  r.push_back({"Gelu", [](const OpContext& ctx) -> std::unique_ptr<BoundRule> {
                 if (!ops::gelu_tanh(ctx)) return unary_fn(UnaryFn::Gelu)(ctx);
                 return std::make_unique<UnaryRule>([](const ArithmeticModel& m, Operand x) { return gelu_tanh_bound(m, x); });
               }});

  r.push_back({"Add", binary(BinaryRuleOp::Add)});
  r.push_back({"Sub", binary(BinaryRuleOp::Sub)});
  r.push_back({"Mul", binary(BinaryRuleOp::Mul)});
  r.push_back({"Div", binary(BinaryRuleOp::Div)});
  r.push_back({"Pow", binary(BinaryRuleOp::Pow)});
  r.push_back({"PRelu", binary(BinaryRuleOp::PRelu)});
  r.push_back({"Min", prepared<SelectionRule>()});
  r.push_back({"Max", prepared<SelectionRule>()});
}

}  // namespace fpaudit::bounds::rules
