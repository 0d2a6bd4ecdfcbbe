// Bound rules of the rounding operators on runtime data (kernels: lib/kernels/ops/reduce_norms.cpp,
// reduce_prod.cpp, activation_smooth.cpp):
//   ReduceL1, ReduceSumSquare, ReduceL2, ReduceLogSumExp   l1_bound, squares_bound, log_sum_exp_bound
//   ReduceProd                  product_bound
//   Elu, Selu, Celu, Softplus, Mish   smooth_rule
// The reduction geometry is lib/core/ops/reduction_layout.h; the exact operators' rules are in
// runtime_select.cpp.
#include <cmath>

#include "bounds/elementwise.h"
#include "bounds/linear.h"
#include "bounds/model.h"
#include "bounds/reductions.h"
#include "bounds/rules.h"
#include "core/ops/broadcast.h"
#include "core/ops/reduction_layout.h"

namespace fpaudit::bounds::rules {

namespace {

// ---- ReduceL1, ReduceSumSquare, ReduceL2, ReduceLogSumExp ----------------------------------

enum class Norm { L1, SumSquare, L2, LogSumExp, LogSum };

class NormReduceRule : public BoundRule, private ops::RoundedReduction {
 public:
  NormReduceRule(const OpContext& ctx, Norm kind) : RoundedReduction(ctx), kind_(kind) {}
  void bound(const BoundRequest& req) const override {
    const double fail = kind_ == Norm::L1 ? l1_bound(req) : kind_ == Norm::LogSumExp || kind_ == Norm::LogSum ? log_sum_exp_bound(req) : squares_bound(req);
    if (req.failure_probability) *req.failure_probability = fail;
  }

 private:
  /// |x| is exact and 1-Lipschitz: ReduceSum's rule over the enclosure of |x|, whose error
  /// bounds are x's own.
  double l1_bound(const BoundRequest& req) const {
    const Enclosure& x = req.inputs[0];
    Tensor lo = *x.lo, hi = *x.hi;
    for (std::size_t i = 0; i < lo.data.size(); ++i) {
      const double l = x.lo->data[i], h = x.hi->data[i];
      lo.data[i] = l >= 0 ? l : (h <= 0 ? -h : 0.0);
      hi.data[i] = std::fmax(std::fabs(l), std::fabs(h));
    }
    const Enclosure abs{&lo, &hi, x.err, x.err_prob};
    const auto n = static_cast<long>(r_.terms.size());
    double fail = 0;
    for (std::size_t o = 0; o < r_.bases.size(); ++o) {
      const ElementBound b = reduction_bound(req.model, req.lambda, abs, static_cast<long>(r_.bases[o]), r_.terms.data(), n, {});
      req.det[0]->data[o] = b.det;
      req.prob[0]->data[o] = b.prob;
      fail = std::fmax(fail, b.failure);
    }
    return fail;
  }

  /// The terms ê = round_A(exp(x)) get Exp's rule (into the accumulator) and an enclosure
  /// [exp(lo), exp(hi)] widened by that rounding; ReduceSum's rule over them bounds |ŝ - s̄|, and
  /// with no input error, ŝ's distance from the enclosure's sums; Log's rule finishes.
  /// ReduceLogSum is the same with the terms x themselves in place of ê.
  double log_sum_exp_bound(const BoundRequest& req) const {
    const Enclosure& x = req.inputs[0];
    Tensor lo = *x.lo, hi = *x.hi, err = *x.err, err_prob = *x.err_prob, zero(x.lo->shape);
    for (std::size_t i = 0; i < lo.data.size() && kind_ == Norm::LogSumExp; ++i) {
      const Operand d{x.lo->data[i], x.hi->data[i], x.err->data[i]};
      const Operand p{x.lo->data[i], x.hi->data[i], x.err_prob->data[i]};
      err.data[i] = unary_fn_bound(req.model, UnaryFn::Exp, d, Target::Accumulator);
      err_prob.data[i] = std::fmin(err.data[i], unary_fn_bound(req.model, UnaryFn::Exp, p, Target::Accumulator));
      // Rounding into the accumulator moves ê by at most Exp's local rule (zero input error).
      const double local = unary_fn_bound(req.model, UnaryFn::Exp, {d.lo, d.hi, 0.0}, Target::Accumulator);
      lo.data[i] = std::fmax(0.0, down(down_libm(std::exp(d.lo)) - local));
      hi.data[i] = up(up_libm(std::exp(d.hi)) + local);
    }
    const Enclosure e{&lo, &hi, &err, &err_prob}, e_exact{&lo, &hi, &zero, &zero};
    const auto n = static_cast<long>(r_.terms.size());
    double fail = 0;
    for (std::size_t o = 0; o < r_.bases.size(); ++o) {
      const auto base = static_cast<long>(r_.bases[o]);
      const ElementBound b = reduction_bound(req.model, req.lambda, e, base, r_.terms.data(), n, {});
      const ElementBound local = reduction_bound(req.model, req.lambda, e_exact, base, r_.terms.data(), n, {});
      double s_lo = 0, s_hi = 0;
      for (std::int64_t t : r_.terms) {
        s_lo = down(s_lo + lo.data[static_cast<std::size_t>(base + t)]);
        s_hi = up(s_hi + hi.data[static_cast<std::size_t>(base + t)]);
      }
      s_lo = down(s_lo - local.det);
      if (kind_ == Norm::LogSumExp) s_lo = std::fmax(0.0, s_lo);  // a sum of exponentials (ReduceLogSum's may be negative)
      s_hi = up(s_hi + local.det);
      req.det[0]->data[o] = unary_fn_bound(req.model, UnaryFn::Log, {s_lo, s_hi, b.det});
      req.prob[0]->data[o] = std::fmin(req.det[0]->data[o], unary_fn_bound(req.model, UnaryFn::Log, {s_lo, s_hi, b.prob}));
      fail = std::fmax(fail, b.failure);
    }
    return fail;
  }

  /// Σ x·x is a dot product of the terms with themselves: the dot-product rule on the gathered
  /// terms (its input terms |x|E + E|x| + E² bound |x_c² - x̄²| = |x_c - x̄|·|x_c + x̄|). For L2,
  /// that bounds |ŝ - s̄| for the chain's sum ŝ; ŝ lies within the same rule's bound (with no
  /// input error) of Σ x_c², so the root's rule gets an enclosure of ŝ and its error.
  double squares_bound(const BoundRequest& req) const {
    const Enclosure& x = req.inputs[0];
    const std::size_t n = r_.terms.size(), outs = r_.bases.size();
    Shape gathered_shape{static_cast<std::int64_t>(outs * n)};
    Tensor lo(gathered_shape), hi(gathered_shape), err(gathered_shape), err_prob(gathered_shape), zero(gathered_shape);
    for (std::size_t o = 0; o < outs; ++o)
      for (std::size_t j = 0; j < n; ++j) {
        const auto i = static_cast<std::size_t>(r_.bases[o] + r_.terms[j]);
        lo.data[o * n + j] = x.lo->data[i];
        hi.data[o * n + j] = x.hi->data[i];
        err.data[o * n + j] = x.err->data[i];
        err_prob.data[o * n + j] = x.err_prob->data[i];
      }
    const Enclosure g{&lo, &hi, &err, &err_prob};
    const Enclosure g_exact{&lo, &hi, &zero, &zero};
    auto dot_bounds = [&](const Enclosure& e, Tensor& det, Tensor& prob) {
      double fail = 0;
      for (std::size_t o = 0; o < outs; ++o) {
        MatmulBound m;
        m.M = 1;
        m.K = static_cast<long>(n);
        m.N = 1;
        m.A = {&e, static_cast<long>(o * n), 0, 1};
        m.B = {&e, static_cast<long>(o * n), 1, 0};
        m.out_offset = static_cast<long>(o);
        m.ldo = 0;
        fail = std::fmax(fail, matmul_bound(req.model, req.lambda, m, det, prob));
      }
      return fail;
    };
    if (kind_ == Norm::SumSquare) return dot_bounds(g, *req.det[0], *req.prob[0]);
    const Shape out_shape = req.det[0]->shape;
    Tensor det(out_shape), prob(out_shape), local(out_shape), local_prob(out_shape);
    const double fail = dot_bounds(g, det, prob);
    dot_bounds(g_exact, local, local_prob);
    for (std::size_t o = 0; o < outs; ++o) {
      // Σ min x² and Σ max x² over the enclosure, rounded outward.
      double smin = 0, smax = 0;
      for (std::size_t j = 0; j < n; ++j) {
        const double l = lo.data[o * n + j], h = hi.data[o * n + j];
        const double mn = l > 0 ? l : (h < 0 ? -h : 0.0), mx = std::fmax(std::fabs(l), std::fabs(h));
        smin = down(smin + down(mn * mn));
        smax = up(smax + up(mx * mx));
      }
      const double s_lo = std::fmax(0.0, down(smin - local.data[o]));
      const double s_hi = up(smax + local.data[o]);
      req.det[0]->data[o] = unary_fn_bound(req.model, UnaryFn::Sqrt, {s_lo, s_hi, det.data[o]});
      req.prob[0]->data[o] = std::fmin(req.det[0]->data[o], unary_fn_bound(req.model, UnaryFn::Sqrt, {s_lo, s_hi, prob.data[o]}));
    }
    return fail;
  }

  Norm kind_;
};

// ---- ReduceProd ----------------------------------------------------------------------------

class ReduceProdRule : public BoundRule, private ops::RoundedReduction {
 public:
  explicit ReduceProdRule(const OpContext& ctx) : RoundedReduction(ctx) {}
  void bound(const BoundRequest& req) const override {
    const Enclosure& x = req.inputs[0];
    for (std::size_t o = 0; o < r_.bases.size(); ++o) {
      req.det[0]->data[o] = product_bound(req.model, x, *x.err, r_.bases[o]);
      req.prob[0]->data[o] = std::fmin(req.det[0]->data[o], product_bound(req.model, x, *x.err_prob, r_.bases[o]));
    }
    if (req.failure_probability) *req.failure_probability = 0;
  }

 private:
  /// |y - Π x̄| ≤ rounding + propagation, with m_k ≥ |x_c,k| (the enclosure) and E_k ≥ |x_c,k - x̄_k|:
  ///   rounding: B_j ≥ |p_j - Π_{k≤j} x_c,k| by B_1 = 0, B_j = B_{j-1}·m_j + err_A(P_{j-1}·m_j)
  ///             (|round_A(z) - z| for |z| ≤ P_{j-1}·m_j), P_j ≥ |p_j| by P_1 = m_1,
  ///             P_j = P_{j-1}·m_j + err_A(P_{j-1}·m_j); then err_S(P_n) for the storage rounding;
  ///   propagation: |Π x_c - Π x̄| ≤ Π (m_k + E_k) - Π m_k (expand the product of x̄_k = x_c,k + δ_k).
  /// Every binary64 operation of the bound itself is rounded outward (up, down).
  double product_bound(const ArithmeticModel& m, const Enclosure& x, const Tensor& err, std::int64_t base) const {
    const std::size_t n = r_.terms.size();
    if (n == 0) return 0;
    double B = 0, P = 0, with_err = 1, without = 1;
    for (std::size_t j = 0; j < n; ++j) {
      const auto i = static_cast<long>(base + r_.terms[j]);
      const double mj = x.magnitude(i), ej = err.data[static_cast<std::size_t>(i)];
      with_err = up(with_err * up(mj + ej));
      without = down(without * mj);
      if (j == 0) {
        P = mj;
        continue;
      }
      const double z = up(P * mj);
      const double step = m.acc.error(z);
      B = up(up(B * mj) + step);
      P = up(z + step);
    }
    const double propagation = up(with_err - std::fmax(without, 0.0));
    return nan_to_inf(up(up(B + m.storage.error(P)) + propagation));
  }
};

// ---- Elu, Selu, Celu, Softplus -------------------------------------------------------------
// The kernels evaluate in binary64 and round once into storage (lib/kernels/ops/activation_smooth.cpp).
// ASSUMPTION (theory/elementwise.md §10): libm's expm1, exp and log1p are within 2^-49·|f| +
// 2^-1000 of the true value (the margin up_libm assumes for every libm function). With the
// kernels' binary64 steps, the value rounded from is then within rel·|f| + abs of f(x).

/// Relative and absolute error of the binary64 value each kernel rounds from.
constexpr double kRel = 0x1p-47, kAbs = 0x1p-999;

/// What a smooth activation's bound needs over [lo - err, hi + err]: F ≥ |f| over the chain's
/// enclosure [lo, hi], and L ≥ |f'| over the wider interval (its Lipschitz constant there).
struct Smooth {
  double F = 0, L = 0;
  double rel = kRel, abs = kAbs;  ///< the error of the binary64 value rounded from
};

/// |y_c - f(x̄)| ≤ |round_S(v) - v| + |v - f(x_c)| + |f(x_c) - f(x̄)|
///             ≤ err_S(F(1 + rel) + abs) + rel·F + abs + L·err.
double smooth_rule(const ArithmeticModel& m, Smooth s, double err) {
  const double v = up(up(s.F * (1 + s.rel)) + s.abs);
  const double total = up(up(m.storage.error(v) + up(s.rel * s.F) + s.abs) + up(s.L * err));
  return nan_to_inf(total * safety(8));
}

class SmoothActivationRule : public BoundRule {
 public:
  using Shape_ = Smooth (*)(const double* p, double lo, double hi, double err);
  SmoothActivationRule(Shape_ shape, double p0, double p1) : shape_(shape), p_{p0, p1} {}
  void bound(const BoundRequest& r) const override {
    const Enclosure& x = r.inputs[0];
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
  Shape_ shape_;
  double p_[2];
};

double magnitude(double lo, double hi) { return std::fmax(std::fabs(lo), std::fabs(hi)); }

// Elu (p = alpha), Selu (p = alpha, gamma), Celu (p = alpha):
// |expm1(x)| ≤ |x| for x < 0, and the derivative of alpha·expm1(x) is alpha·e^x ≤ |alpha| there.

Smooth elu_shape(const double* p, double lo, double hi, double) {
  const double k = std::fmax(1.0, std::fabs(p[0]));
  return {up(k * magnitude(lo, hi)), k};
}

Smooth selu_shape(const double* p, double lo, double hi, double) {
  const double k = up(std::fabs(p[1]) * std::fmax(1.0, std::fabs(p[0])));
  return {up(k * magnitude(lo, hi)), k};
}

/// alpha > 0 (ONNX requires it): alpha·expm1(x/alpha) has |·| ≤ |x| and derivative e^(x/alpha) ≤ 1
/// for x < 0. The rounding of x/alpha moves expm1's argument t by at most 2^-53|t|, which moves
/// expm1(t) by at most e^t|t|·2^-53 ≤ 2^-53|expm1(t)|: inside kRel.
Smooth celu_shape(const double*, double lo, double hi, double) { return {magnitude(lo, hi), 1.0}; }

// Softplus: log(1 + e^x) is increasing, at most max(x, 0) + log 2, with derivative sigmoid(x) ≤ 1.
// An error δ in exp's value moves log1p(w) by at most w·δ/(1 + w) ≤ δ·log1p(w): inside kRel.
Smooth softplus_shape(const double*, double, double hi, double) {
  return {up(std::fmax(hi, 0.0) + 0.6931471805599454), 1.0};  // log 2, rounded up
}

// Mish: x·tanh(softplus(x)) has |·| ≤ |x| and |mish'| ≤ 1.45 (theory/elementwise.md §12): L = 1.5.
// Its binary64 value: softplus within 2^-48 (two libm calls, above), tanh's argument error
// passes with factor 2s/sinh(2s) ≤ 1 relative, tanh within 2^-49, the product within 2^-53:
// below 2^-46 relative; the absolute terms, scaled by |x| ≤ 746 where exp(x) ≠ 0, below 2^-989.
Smooth mish_shape(const double*, double lo, double hi, double) { return {magnitude(lo, hi), 1.5, 0x1p-46, 0x1p-989}; }

}  // namespace

void register_runtime_rounded_rules(std::vector<BoundRuleRegistration>& r) {
  auto norm = [](Norm kind) {
    return [kind](const OpContext& ctx) -> std::unique_ptr<BoundRule> { return std::make_unique<NormReduceRule>(ctx, kind); };
  };
  r.push_back({"ReduceL1", norm(Norm::L1)});
  r.push_back({"ReduceSumSquare", norm(Norm::SumSquare)});
  r.push_back({"ReduceL2", norm(Norm::L2)});
  r.push_back({"ReduceLogSumExp", norm(Norm::LogSumExp)});
  r.push_back({"ReduceLogSum", norm(Norm::LogSum)});
  r.push_back({"ReduceProd", prepared<ReduceProdRule>()});
  r.push_back({"Elu", [](const OpContext& ctx) -> std::unique_ptr<BoundRule> {
                 return std::make_unique<SmoothActivationRule>(elu_shape, ctx.node.attr_float("alpha", 1.0), 0.0);
               }});
  r.push_back({"Selu", [](const OpContext& ctx) -> std::unique_ptr<BoundRule> {
                 return std::make_unique<SmoothActivationRule>(selu_shape, ctx.node.attr_float("alpha", 1.67326319217681884765625),
                                                               ctx.node.attr_float("gamma", 1.05070102214813232421875));
               }});
  r.push_back({"Celu", [](const OpContext& ctx) -> std::unique_ptr<BoundRule> {
                 return std::make_unique<SmoothActivationRule>(celu_shape, ctx.node.attr_float("alpha", 1.0), 0.0);
               }});
  r.push_back({"Softplus", [](const OpContext&) -> std::unique_ptr<BoundRule> {
                 return std::make_unique<SmoothActivationRule>(softplus_shape, 0.0, 0.0);
               }});
  r.push_back({"Mish", [](const OpContext&) -> std::unique_ptr<BoundRule> {
                 return std::make_unique<SmoothActivationRule>(mish_shape, 0.0, 0.0);
               }});
}

}  // namespace fpaudit::bounds::rules
