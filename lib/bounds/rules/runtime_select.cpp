// Bound rules of the exact operators on runtime data (kernels: lib/kernels/ops/elementwise_exact.cpp,
// logic.cpp, reduce_select.cpp):
//   Abs, Neg                    lipschitz_bound (the input bound passes through)
//   Sign, Ceil, Floor, Round    step_bound (how far the step function moves over the input error)
//   ThresholdedRelu             threshold_bound
//   comparisons, Not/And/Or/Xor comparison_bound, logic_bound (0, or 1 where a flip is possible)
//   Where                       where_bound
//   ReduceMax/Min, GlobalMaxPool extremum_bound (the largest input bound, NaN as +Inf)
//   ArgMax, ArgMin              arg_extremum_bound (the spread of the candidate indices)
// These kernels are exact; the rules say what running them on the bounds would not (a flipped
// comparison or step, a moved index). Tile, Expand, DepthToSpace and SpaceToDepth (pure data
// movement) have no rule: the engine runs their kernel on the bounds. The rounding operators on
// runtime data are in runtime_rounded.cpp.
#include <cmath>

#include "core/ops/step_functions.h"
#include "bounds/elementwise.h"
#include "bounds/linear.h"
#include "bounds/model.h"
#include "bounds/reductions.h"
#include "bounds/rules.h"
#include "core/ops/broadcast.h"
#include "core/ops/reduction_layout.h"

namespace fpaudit::bounds::rules {

namespace {

// ---- Abs, Neg, Sign, Ceil, Floor, Round, ThresholdedRelu -----------------------------------

using Fn = double (*)(double);

/// A rule of one operand element: rule(lo, hi, err) bounds |f(x_c) - f(x̄)| for lo ≤ x_c ≤ hi,
/// |x_c - x̄| ≤ err.
class ExactUnaryRule : public BoundRule {
 public:
  using Rule = double (*)(Fn, double lo, double hi, double err);
  ExactUnaryRule(Fn f, Rule rule) : f_(f), rule_(rule) {}
  void bound(const BoundRequest& r) const override {
    const Enclosure& x = r.inputs[0];
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
double lipschitz_bound(Fn, double, double, double err) { return nan_to_inf(err); }

/// f nondecreasing (Sign, Ceil, Floor, Round). With err = 0 the chain's operand is the exact
/// one and so is its image. Otherwise both x_c and x̄ lie in [lo - err, hi + err], where f
/// moves by at most f(hi + err) - f(lo - err): 0 when no jump lies in that interval, one step
/// or more when one does (a flipped step: the bound says so instead of passing err through).
double step_bound(Fn f, double lo, double hi, double err) {
  if (err == 0) return 0;
  const double top = f(up(hi + err)), bottom = f(down(lo - err));
  const double jump = top - bottom;  // integers: exact below 2^53, rounded up beyond
  return jump == 0 ? 0 : nan_to_inf(up(jump));
}

// The step functions as the kernels compute them (core/ops/step_functions.h): the rule evaluates
// them at the ends of the widened interval.
using step::ceil_value;
using step::floor_value;
using step::round_half_even;
using step::sign;

BoundRuleFactory exact_unary(Fn f, ExactUnaryRule::Rule rule) {
  return [f, rule](const OpContext&) -> std::unique_ptr<BoundRule> { return std::make_unique<ExactUnaryRule>(f, rule); };
}

/// ThresholdedRelu: y = x > alpha ? x : 0. A selection with a jump at alpha: away from it the
/// input bound passes (or the output is 0 on both sides); where [lo - err, hi + err] straddles
/// alpha, one side may be x and the other 0, so the bound is the largest |x| the interval allows.
class ThresholdedReluRule : public BoundRule {
 public:
  explicit ThresholdedReluRule(const OpContext& ctx) : alpha_(ctx.node.attr_float("alpha", 1.0)) {}
  void bound(const BoundRequest& r) const override {
    const Enclosure& x = r.inputs[0];
    for (long i = 0; i < r.det[0]->size(); ++i) {
      r.det[0]->data[i] = threshold_bound(x.lo->data[i], x.hi->data[i], x.err->data[i]);
      r.prob[0]->data[i] = threshold_bound(x.lo->data[i], x.hi->data[i], x.err_prob->data[i]);
    }
    if (r.failure_probability) *r.failure_probability = 0;
  }

 private:
  double threshold_bound(double lo, double hi, double err) const {
    if (err == 0) return 0;
    const double below = down(lo - err), above = up(hi + err);
    if (below > alpha_) return nan_to_inf(err);  // x on both sides
    if (above <= alpha_) return 0;                // 0 on both sides
    return nan_to_inf(std::fmax(std::fabs(below), std::fabs(above)));
  }
  double alpha_;
};

// ---- comparisons, logic, Where -------------------------------------------------------------

/// A rule of the operand elements over the broadcast shape.
class BroadcastingRule : public BoundRule {
 public:
  using Rule = double (*)(const Operand* v);
  BroadcastingRule(const OpContext& ctx, Rule rule, std::size_t arity)
      : rule_(rule), arity_(arity), bc_(ctx.input_shapes, ctx.output_shapes.at(0)) {}
  void bound(const BoundRequest& r) const override {
    Operand v[3];
    for (const bool prob : {false, true}) {
      Tensor& b = prob ? *r.prob[0] : *r.det[0];
      bc_.for_each([&](std::int64_t o, const std::int64_t* off) {
        for (std::size_t i = 0; i < arity_; ++i) v[i] = operand_at(r.inputs[i], off[i], prob);
        b.data[o] = rule_(v);
      });
    }
    if (r.failure_probability) *r.failure_probability = 0;
  }

 private:
  Rule rule_;
  std::size_t arity_;
  ops::Broadcast bc_;
};

BoundRuleFactory broadcasting(BroadcastingRule::Rule rule, std::size_t arity) {
  return [=](const OpContext& ctx) -> std::unique_ptr<BoundRule> { return std::make_unique<BroadcastingRule>(ctx, rule, arity); };
}

using step::Cmp;
using step::holds;

/// 0 where a op b cannot be flipped, 1 where it can. With no input error the chain compares
/// the exact operands. Otherwise a_c - b_c and ā - b̄ both lie in
/// D = [a.lo - b.hi - e, a.hi - b.lo + e], e = a.err + b.err (computed with outward
/// rounding); the comparison is certain when "d op 0" has one truth value over all of D.
template <Cmp C>
double comparison_bound(const Operand* v) {
  const Operand& a = v[0];
  const Operand& b = v[1];
  if (a.err == 0 && b.err == 0) return 0;
  const double e = up(a.err + b.err);
  const double lo = down(down(a.lo - b.hi) - e);
  const double hi = up(up(a.hi - b.lo) + e);
  if (!(lo <= hi)) return 1;  // NaN or infinite operands: no certainty
  return holds<C>(lo, 0.0) == holds<C>(hi, 0.0) && (C != Cmp::Equal || lo > 0 || hi < 0) ? 0.0 : 1.0;
}

/// Two 0/1 values closer than 1 are equal: an input with err < 1 is the exact one. The output
/// is then exact, and otherwise it may differ by 1.
template <std::size_t N>
double logic_bound(const Operand* v) {
  for (std::size_t i = 0; i < N; ++i)
    if (!(v[i].err < 1)) return 1;
  return 0;
}

/// The condition certain (err < 1) and known (lo = hi): the selected branch's bound; certain
/// but unknown (an a-priori enclosure): either branch's. Possibly flipped: the chain may take
/// x_c where the exact network takes ȳ, and |x_c - ȳ| ≤ |x_c - y_c| + |y_c - ȳ|, with
/// |x_c - y_c| ≤ max(x.hi - y.lo, y.hi - x.lo); the same with x and y exchanged.
double where_bound(const Operand* v) {
  const Operand &c = v[0], &x = v[1], &y = v[2];
  const double either = std::fmax(x.err, y.err);
  if (c.err < 1) {
    if (c.lo == c.hi) return nan_to_inf(c.lo != 0 ? x.err : y.err);
    return nan_to_inf(either);
  }
  const double apart = std::fmax(up(x.hi - y.lo), up(y.hi - x.lo));
  return nan_to_inf(up(either + apart));
}

// ---- ReduceMax, ReduceMin, GlobalMaxPool, ArgMax, ArgMin -----------------------------------

/// NaN-propagating max over the terms' input bounds; a NaN bound becomes +Inf.
double largest_bound(const Tensor& err, std::int64_t base, const std::vector<std::int64_t>& terms) {
  double m = 0;
  for (std::int64_t t : terms) {
    const double e = err.data[base + t];
    if (!(e <= m)) m = std::isnan(e) ? INFINITY : e;
  }
  return m;
}

/// |max_i a_i - max_i b_i| ≤ max_i |a_i - b_i|, and the same for min.
class ExtremumRule : public BoundRule, private ops::ExtremumReduction {
 public:
  ExtremumRule(const OpContext& ctx, bool global) : ExtremumReduction(ctx, global) {}
  void bound(const BoundRequest& req) const override { extremum_bound(req); }

 private:
  void extremum_bound(const BoundRequest& req) const {
    for (std::size_t o = 0; o < r_.bases.size(); ++o) {
      req.det[0]->data[o] = largest_bound(*req.inputs[0].err, r_.bases[o], r_.terms);
      req.prob[0]->data[o] = largest_bound(*req.inputs[0].err_prob, r_.bases[o], r_.terms);
    }
    if (req.failure_probability) *req.failure_probability = 0;
  }
};

class ArgExtremumRule : public BoundRule, private ops::ArgReduction {
 public:
  ArgExtremumRule(const OpContext& ctx, bool max) : ArgReduction(ctx), max_(max) {}
  void bound(const BoundRequest& req) const override { arg_extremum_bound(req); }

 private:
  /// Every value lies in [lo - err, hi + err] (the chain's and the exact one). For ArgMax the
  /// chain's index j has x_c[j] ≥ max_k lo_k, and the exact index ≥ max_k (lo_k - err_k) =: L:
  /// both are candidates j with hi_j + err_j ≥ L, and they differ by at most the spread of the
  /// candidates (0 when there is one). ArgMin mirrors it. No input error: the same index.
  void arg_extremum_bound(const BoundRequest& req) const {
    const Enclosure& x = req.inputs[0];
    for (const bool prob : {false, true}) {
      const Tensor& err = prob ? *x.err_prob : *x.err;
      Tensor& b = prob ? *req.prob[0] : *req.det[0];
      for (std::size_t o = 0; o < r_.bases.size(); ++o) {
        bool exact = true, finite = true;
        double level = max_ ? -INFINITY : INFINITY;  // L for ArgMax, U for ArgMin
        for (std::int64_t t : r_.terms) {
          const std::int64_t i = r_.bases[o] + t;
          const double e = err.data[i];
          exact = exact && e == 0;
          const double far = max_ ? down(x.lo->data[i] - e) : up(x.hi->data[i] + e);
          finite = finite && std::isfinite(far) && std::isfinite(e);
          level = max_ ? std::fmax(level, far) : std::fmin(level, far);
        }
        if (exact) {
          b.data[o] = 0;
          continue;
        }
        if (!finite) {
          b.data[o] = INFINITY;
          continue;
        }
        long first = -1, last = -1;
        for (std::size_t j = 0; j < r_.terms.size(); ++j) {
          const std::int64_t i = r_.bases[o] + r_.terms[j];
          const double e = err.data[i];
          const bool candidate = max_ ? up(x.hi->data[i] + e) >= level : down(x.lo->data[i] - e) <= level;
          if (!candidate) continue;
          if (first < 0) first = static_cast<long>(j);
          last = static_cast<long>(j);
        }
        b.data[o] = static_cast<double>(last - first);
      }
    }
    if (req.failure_probability) *req.failure_probability = 0;
  }
  bool max_;
};

}  // namespace

void register_runtime_select_rules(std::vector<BoundRuleRegistration>& r) {
  r.push_back({"Abs", exact_unary(std::fabs, lipschitz_bound)});
  r.push_back({"Neg", exact_unary([](double x) { return -x; }, lipschitz_bound)});
  r.push_back({"Sign", exact_unary(sign, step_bound)});
  r.push_back({"Ceil", exact_unary(ceil_value, step_bound)});
  r.push_back({"Floor", exact_unary(floor_value, step_bound)});
  r.push_back({"Round", exact_unary(round_half_even, step_bound)});
  r.push_back({"ThresholdedRelu", prepared<ThresholdedReluRule>()});
  r.push_back({"Equal", broadcasting(comparison_bound<Cmp::Equal>, 2)});
  r.push_back({"Greater", broadcasting(comparison_bound<Cmp::Greater>, 2)});
  r.push_back({"GreaterOrEqual", broadcasting(comparison_bound<Cmp::GreaterOrEqual>, 2)});
  r.push_back({"Less", broadcasting(comparison_bound<Cmp::Less>, 2)});
  r.push_back({"LessOrEqual", broadcasting(comparison_bound<Cmp::LessOrEqual>, 2)});
  r.push_back({"Not", broadcasting(logic_bound<1>, 1)});
  r.push_back({"And", broadcasting(logic_bound<2>, 2)});
  r.push_back({"Or", broadcasting(logic_bound<2>, 2)});
  r.push_back({"Xor", broadcasting(logic_bound<2>, 2)});
  r.push_back({"Where", broadcasting(where_bound, 3)});
  r.push_back({"ReduceMax", [](const OpContext& ctx) -> std::unique_ptr<BoundRule> { return std::make_unique<ExtremumRule>(ctx, false); }});
  r.push_back({"ReduceMin", [](const OpContext& ctx) -> std::unique_ptr<BoundRule> { return std::make_unique<ExtremumRule>(ctx, false); }});
  r.push_back({"GlobalMaxPool", [](const OpContext& ctx) -> std::unique_ptr<BoundRule> { return std::make_unique<ExtremumRule>(ctx, true); }});
  r.push_back({"ArgMax", [](const OpContext& ctx) -> std::unique_ptr<BoundRule> { return std::make_unique<ArgExtremumRule>(ctx, true); }});
  r.push_back({"ArgMin", [](const OpContext& ctx) -> std::unique_ptr<BoundRule> { return std::make_unique<ArgExtremumRule>(ctx, false); }});
}

}  // namespace fpaudit::bounds::rules
