// ReduceL1, ReduceSumSquare, ReduceL2 and ReduceLogSumExp over runtime data. Each output sums its terms in the
// accumulation format by the chain's schedule, as ReduceSum does:
//   ReduceL1         y = round_S(Σ |x|)        (Arithmetic::sum of the exact |x|)
//   ReduceSumSquare  y = round_S(Σ x·x)        (Arithmetic::dot of the terms with themselves)
//   ReduceL2         y = round_S(√(Σ x·x))     (that dot product, then one rounding of its root)
//   ReduceLogSumExp  y = round_S(log(Σ ê))     ê = round_A(exp(x)) (no max subtracted: ONNX's
//                                               formula, which overflows where exp(x) does)
// Their bounds reuse the reduction and dot-product rules (lib/bounds/reductions.h, linear.h)
// and, for the root, the elementwise rule of Sqrt (lib/bounds/elementwise.h).
#include <cmath>

#include "bounds/elementwise.h"
#include "bounds/linear.h"
#include "bounds/reductions.h"
#include "kernels/ops/ops.h"
#include "kernels/ops/reduction_layout.h"

namespace fpaudit::ops {

namespace {

enum class Norm { L1, SumSquare, L2, LogSumExp };

class NormReduce : public OpKernel {
 public:
  NormReduce(const OpContext& ctx, Norm kind) : kind_(kind), r_(ctx.input_shapes.at(0), axes(ctx)) {}
  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const std::vector<double>& x = in[0]->data;
    const auto n = static_cast<long>(r_.terms.size());
    std::vector<double> g(r_.terms.size());
    for (std::size_t o = 0; o < r_.bases.size(); ++o) {
      for (std::size_t j = 0; j < g.size(); ++j) {
        const double v = x[static_cast<std::size_t>(r_.bases[o] + r_.terms[j])];
        g[j] = kind_ == Norm::L1 ? std::fabs(v) : kind_ == Norm::LogSumExp ? a.unary(UnaryFn::Exp, v, Target::Accumulator) : v;
      }
      double& y = out[0]->data[o];
      if (kind_ == Norm::L1) y = a.round(a.sum(g.data(), 1, n), Target::Storage);
      else if (kind_ == Norm::LogSumExp) y = a.unary(UnaryFn::Log, a.sum(g.data(), 1, n));
      else if (kind_ == Norm::SumSquare) y = a.round(a.dot(g.data(), 1, g.data(), 1, n), Target::Storage);
      else y = a.unary(UnaryFn::Sqrt, a.dot(g.data(), 1, g.data(), 1, n));
    }
  }
  std::vector<std::size_t> preparation_inputs() const override { return prep_; }
  void bound(const bounds::BoundRequest& req) const override {
    const double fail = kind_ == Norm::L1 ? l1_bound(req) : kind_ == Norm::LogSumExp ? log_sum_exp_bound(req) : squares_bound(req);
    if (req.failure_probability) *req.failure_probability = fail;
  }

 private:
  std::vector<bool> axes(const OpContext& ctx) {
    bool noop = false;
    std::vector<bool> reduced = reduced_axes(ctx, prep_, noop);
    if (noop) ctx.fail("noop_with_empty_axes with no axes is not supported for this reduction");
    return reduced;
  }

  /// |x| is exact and 1-Lipschitz: ReduceSum's rule over the enclosure of |x|, whose error
  /// bounds are x's own.
  double l1_bound(const bounds::BoundRequest& req) const {
    const bounds::Enclosure& x = req.inputs[0];
    Tensor lo = *x.lo, hi = *x.hi;
    for (std::size_t i = 0; i < lo.data.size(); ++i) {
      const double l = x.lo->data[i], h = x.hi->data[i];
      lo.data[i] = l >= 0 ? l : (h <= 0 ? -h : 0.0);
      hi.data[i] = std::fmax(std::fabs(l), std::fabs(h));
    }
    const bounds::Enclosure abs{&lo, &hi, x.err, x.err_prob};
    const auto n = static_cast<long>(r_.terms.size());
    double fail = 0;
    for (std::size_t o = 0; o < r_.bases.size(); ++o) {
      const bounds::ElementBound b = bounds::reduction_bound(req.model, req.lambda, abs, static_cast<long>(r_.bases[o]), r_.terms.data(), n, {});
      req.det[0]->data[o] = b.det;
      req.prob[0]->data[o] = b.prob;
      fail = std::fmax(fail, b.failure);
    }
    return fail;
  }

  /// The terms ê = round_A(exp(x)) get Exp's rule (into the accumulator) and an enclosure
  /// [exp(lo), exp(hi)] widened by that rounding; ReduceSum's rule over them bounds |ŝ - s̄|, and
  /// with no input error, ŝ's distance from the enclosure's sums; Log's rule finishes.
  double log_sum_exp_bound(const bounds::BoundRequest& req) const {
    const bounds::Enclosure& x = req.inputs[0];
    Tensor lo = *x.lo, hi = *x.hi, err = *x.err, err_prob = *x.err_prob, zero(x.lo->shape);
    for (std::size_t i = 0; i < lo.data.size(); ++i) {
      const bounds::Operand d{x.lo->data[i], x.hi->data[i], x.err->data[i]};
      const bounds::Operand p{x.lo->data[i], x.hi->data[i], x.err_prob->data[i]};
      err.data[i] = bounds::unary_fn_bound(req.model, UnaryFn::Exp, d, Target::Accumulator);
      err_prob.data[i] = std::fmin(err.data[i], bounds::unary_fn_bound(req.model, UnaryFn::Exp, p, Target::Accumulator));
      // Rounding into the accumulator moves ê by at most Exp's local rule (zero input error).
      const double local = bounds::unary_fn_bound(req.model, UnaryFn::Exp, {d.lo, d.hi, 0.0}, Target::Accumulator);
      lo.data[i] = std::fmax(0.0, bounds::down(bounds::down_libm(std::exp(d.lo)) - local));
      hi.data[i] = bounds::up(bounds::up_libm(std::exp(d.hi)) + local);
    }
    const bounds::Enclosure e{&lo, &hi, &err, &err_prob}, e_exact{&lo, &hi, &zero, &zero};
    const auto n = static_cast<long>(r_.terms.size());
    double fail = 0;
    for (std::size_t o = 0; o < r_.bases.size(); ++o) {
      const auto base = static_cast<long>(r_.bases[o]);
      const bounds::ElementBound b = bounds::reduction_bound(req.model, req.lambda, e, base, r_.terms.data(), n, {});
      const bounds::ElementBound local = bounds::reduction_bound(req.model, req.lambda, e_exact, base, r_.terms.data(), n, {});
      double s_lo = 0, s_hi = 0;
      for (std::int64_t t : r_.terms) {
        s_lo = bounds::down(s_lo + lo.data[static_cast<std::size_t>(base + t)]);
        s_hi = bounds::up(s_hi + hi.data[static_cast<std::size_t>(base + t)]);
      }
      s_lo = std::fmax(0.0, bounds::down(s_lo - local.det));
      s_hi = bounds::up(s_hi + local.det);
      req.det[0]->data[o] = bounds::unary_fn_bound(req.model, UnaryFn::Log, {s_lo, s_hi, b.det});
      req.prob[0]->data[o] = std::fmin(req.det[0]->data[o], bounds::unary_fn_bound(req.model, UnaryFn::Log, {s_lo, s_hi, b.prob}));
      fail = std::fmax(fail, b.failure);
    }
    return fail;
  }

  /// Σ x·x is a dot product of the terms with themselves: the dot-product rule on the gathered
  /// terms (its input terms |x|E + E|x| + E² bound |x_c² - x̄²| = |x_c - x̄|·|x_c + x̄|). For L2,
  /// that bounds |ŝ - s̄| for the chain's sum ŝ; ŝ lies within the same rule's bound (with no
  /// input error) of Σ x_c², so the root's rule gets an enclosure of ŝ and its error.
  double squares_bound(const bounds::BoundRequest& req) const {
    const bounds::Enclosure& x = req.inputs[0];
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
    const bounds::Enclosure g{&lo, &hi, &err, &err_prob};
    const bounds::Enclosure g_exact{&lo, &hi, &zero, &zero};
    auto dot_bounds = [&](const bounds::Enclosure& e, Tensor& det, Tensor& prob) {
      double fail = 0;
      for (std::size_t o = 0; o < outs; ++o) {
        bounds::MatmulBound m;
        m.M = 1;
        m.K = static_cast<long>(n);
        m.N = 1;
        m.A = {&e, static_cast<long>(o * n), 0, 1};
        m.B = {&e, static_cast<long>(o * n), 1, 0};
        m.out_offset = static_cast<long>(o);
        m.ldo = 0;
        fail = std::fmax(fail, bounds::matmul_bound(req.model, req.lambda, m, det, prob));
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
        smin = bounds::down(smin + bounds::down(mn * mn));
        smax = bounds::up(smax + bounds::up(mx * mx));
      }
      const double s_lo = std::fmax(0.0, bounds::down(smin - local.data[o]));
      const double s_hi = bounds::up(smax + local.data[o]);
      req.det[0]->data[o] = bounds::unary_fn_bound(req.model, UnaryFn::Sqrt, {s_lo, s_hi, det.data[o]});
      req.prob[0]->data[o] = std::fmin(req.det[0]->data[o], bounds::unary_fn_bound(req.model, UnaryFn::Sqrt, {s_lo, s_hi, prob.data[o]}));
    }
    return fail;
  }

  Norm kind_;
  std::vector<std::size_t> prep_;
  Reduction r_;
};

}  // namespace

void register_norm_reduce_ops(std::vector<OpRegistration>& r) {
  r.push_back({"ReduceL1", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<NormReduce>(ctx, Norm::L1); }});
  r.push_back({"ReduceSumSquare", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<NormReduce>(ctx, Norm::SumSquare); }});
  r.push_back({"ReduceL2", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<NormReduce>(ctx, Norm::L2); }});
  r.push_back({"ReduceLogSumExp", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> {
                 return std::make_unique<NormReduce>(ctx, Norm::LogSumExp);
               }});
}

}  // namespace fpaudit::ops
