// Bound rules of CumSum and Hardmax (kernels: lib/kernels/ops/scan_select.cpp; theory:
// theory/reductions.md §CumSum, theory/elementwise.md §11 for Hardmax).
//   CumSum    each output is a ReduceSum of its terms: reduction_bound per output.
//   Sum, Mean the operands of each output gathered into one enclosure: reduction_bound (ReduceSum's
//             rule; Mean divides by n as ReduceMean).
//   Pad       copies pass their input's bound; the fill c, rounded into storage, is off by at most
//             u_S|c| + η_S (as Resize's extrapolation value).
//   Hardmax   0/1 outputs that move when the largest element may change: as ArgMax's rule, the
//             candidates j with hi_j + E_j ≥ L = max_k (lo_k - E_k) may be the chain's or the
//             exact maximum; with one candidate (or no input error) both pick the same element
//             and the row is exact, otherwise each candidate's output may differ by 1 and the
//             others are 0 on both sides.
//   ScatterND none: the bound of the element copied; max/min: the largest bound of the elements
//             combined (1-Lipschitz in each); add/mul: one rounding into storage per step,
//             bounded step by step from the running magnitude (theory/elementwise.md §12).
//   TopK      the k-th largest (smallest) value is 1-Lipschitz in the largest input error of its
//             slice (order statistics: |x_(k) - y_(k)| ≤ max_i |x_i - y_i|); the k-th index, as
//             ArgMax's, moves within the candidates for rank k (theory/elementwise.md §12).
#include <cmath>

#include "bounds/reductions.h"
#include "bounds/rules.h"
#include "core/ops/broadcast.h"
#include "core/ops/cumsum.h"
#include "core/ops/pad.h"
#include "graph/selection.h"
#include "core/ops/softmax.h"
#include "core/ops/scatter_nd.h"
#include "core/ops/topk.h"

namespace fpaudit::bounds::rules {

namespace {

class CumSumRule : public BoundRule, private ops::CumSumGeometry {
 public:
  explicit CumSumRule(const OpContext& ctx) : CumSumGeometry(ctx) {}
  void bound(const BoundRequest& r) const override {
    double fail = 0;
    for (long o = 0; o < outer_; ++o)
      for (long i = 0; i < inner_; ++i)
        for (long j = 0; j < length_; ++j) {
          const std::vector<std::int64_t>& t = terms_[static_cast<std::size_t>(j)];
          const long at = base(o, i) + j * inner_;
          if (t.empty()) {
            r.det[0]->data[at] = r.prob[0]->data[at] = 0;  // an exact 0
            continue;
          }
          const ElementBound b = reduction_bound(r.model, r.lambda, r.inputs[0], base(o, i), t.data(), static_cast<long>(t.size()), {});
          r.det[0]->data[at] = b.det;
          r.prob[0]->data[at] = b.prob;
          fail = std::fmax(fail, b.failure);
        }
    if (r.failure_probability) *r.failure_probability = fail;
  }
};

class VariadicSumRule : public BoundRule {
 public:
  VariadicSumRule(const OpContext& ctx, bool mean) : mean_(mean), bc_(ctx.input_shapes, ctx.output_shapes.at(0)) {}
  void bound(const BoundRequest& r) const override {
    const std::size_t n = r.inputs.size();
    const Shape one{static_cast<std::int64_t>(n)};
    Tensor lo(one), hi(one), err(one), err_prob(one);
    const Enclosure terms{&lo, &hi, &err, &err_prob};
    std::vector<std::int64_t> offsets(n);
    for (std::size_t i = 0; i < n; ++i) offsets[i] = static_cast<std::int64_t>(i);
    double fail = 0;
    bc_.for_each([&](std::int64_t o, const std::int64_t* off) {
      for (std::size_t i = 0; i < n; ++i) {
        lo.data[i] = r.inputs[i].lo->data[off[i]];
        hi.data[i] = r.inputs[i].hi->data[off[i]];
        err.data[i] = r.inputs[i].err->data[off[i]];
        err_prob.data[i] = r.inputs[i].err_prob->data[off[i]];
      }
      const ElementBound b = reduction_bound(r.model, r.lambda, terms, 0, offsets.data(), static_cast<long>(n),
                                             {mean_, static_cast<double>(n)});
      r.det[0]->data[o] = b.det;
      r.prob[0]->data[o] = b.prob;
      fail = std::fmax(fail, b.failure);
    });
    if (r.failure_probability) *r.failure_probability = fail;
  }

 private:
  bool mean_;
  ops::Broadcast bc_;
};

class PadRule : public BoundRule {
 public:
  explicit PadRule(const OpContext& ctx) : fill_(ops::pad_fill(ctx)) {
    std::string problem;
    source_ = pad_sources(ctx.input_shapes.at(0), ops::pad_amounts(ctx), ctx.node.attr_string("mode", "constant"), problem);
    if (!problem.empty()) ctx.fail(problem);
  }
  void bound(const BoundRequest& r) const override {
    const double fill = r.model.storage.error(std::fabs(fill_));
    for (std::size_t o = 0; o < source_.size(); ++o) {
      const std::int64_t s = source_[o];
      r.det[0]->data[o] = s < 0 ? fill : r.inputs[0].err->data[s];
      r.prob[0]->data[o] = s < 0 ? fill : r.inputs[0].err_prob->data[s];
    }
    if (r.failure_probability) *r.failure_probability = 0;
  }

 private:
  double fill_;
  std::vector<std::int64_t> source_;
};

class HardmaxRule : public BoundRule, private ops::SoftmaxGeometry {
 public:
  explicit HardmaxRule(const OpContext& ctx) : SoftmaxGeometry(ctx) {}
  void bound(const BoundRequest& r) const override {
    const Enclosure& x = r.inputs[0];
    for (const bool prob : {false, true}) {
      const Tensor& err = prob ? *x.err_prob : *x.err;
      Tensor& b = prob ? *r.prob[0] : *r.det[0];
      for (long o = 0; o < outer_; ++o)
        for (long i = 0; i < inner_; ++i) row_bound(x, err, o * length_ * inner_ + i, b);
    }
    if (r.failure_probability) *r.failure_probability = 0;
  }

 private:
  void row_bound(const Enclosure& x, const Tensor& err, long base, Tensor& b) const {
    bool exact = true, finite = true;
    double level = -INFINITY;
    for (long j = 0; j < length_; ++j) {
      const long at = base + j * inner_;
      const double e = err.data[at];
      exact = exact && e == 0;
      const double far = down(x.lo->data[at] - e);
      finite = finite && std::isfinite(far) && std::isfinite(e) && std::isfinite(x.hi->data[at]);
      level = std::fmax(level, far);
    }
    long candidates = 0;
    for (long j = 0; j < length_; ++j) {
      const long at = base + j * inner_;
      candidates += up(x.hi->data[at] + err.data[at]) >= level ? 1 : 0;
    }
    const bool moves = !exact && (!finite || candidates > 1);
    for (long j = 0; j < length_; ++j) {
      const long at = base + j * inner_;
      const bool candidate = !finite || up(x.hi->data[at] + err.data[at]) >= level;
      b.data[at] = moves && candidate ? 1.0 : 0.0;
    }
  }
};

class ScatterNdRule : public BoundRule, private ops::ScatterNdGeometry {
 public:
  explicit ScatterNdRule(const OpContext& ctx) : ScatterNdGeometry(ctx) {}
  void bound(const BoundRequest& r) const override {
    using ops::ScatterReduction;
    const Enclosure& d = r.inputs[0];
    const Enclosure& u = r.inputs[2];
    std::vector<double> mag(static_cast<std::size_t>(r.det[0]->size()));
    for (const bool prob : {false, true}) {
      // Per output element: |the chain's running value| ≤ mag, its distance from the exact ≤ err.
      Tensor& err = prob ? *r.prob[0] : *r.det[0];
      err.data = (prob ? *d.err_prob : *d.err).data;
      for (std::size_t o = 0; o < mag.size(); ++o) mag[o] = d.magnitude(static_cast<long>(o));
      const Tensor& eu = prob ? *u.err_prob : *u.err;
      for (std::size_t k = 0; k < targets_.size(); ++k) {
        const auto o = static_cast<std::size_t>(targets_[k]);
        const double um = u.magnitude(static_cast<long>(k)), ue = eu.data[k];
        double& m = mag[o];
        double& e = err.data[o];
        switch (reduction_) {
          case ScatterReduction::None: m = um, e = ue; break;
          case ScatterReduction::Max:
          case ScatterReduction::Min: m = max_num(m, um), e = max_num(e, ue); break;
          case ScatterReduction::Add: {
            // round_S(p + w): |p + w| ≤ m + |w|, then one rounding.
            const double s = up(m + um);
            const double rounding = r.model.storage.error(s);
            e = up(up(e + ue) + rounding);
            m = up(s + rounding);
            break;
          }
          case ScatterReduction::Mul: {
            // |p̂ŵ - p̄w̄| ≤ |p̂||ŵ - w̄| + |p̂ - p̄||w̄|, |w̄| ≤ |ŵ| + E_w; then one rounding.
            const double s = up(m * um);
            const double rounding = r.model.storage.error(s);
            e = up(up(up(m * ue) + up(e * up(um + ue))) + rounding);
            m = up(s + rounding);
            break;
          }
        }
      }
      for (std::size_t o = 0; o < mag.size(); ++o) {
        err.data[o] = nan_to_inf(err.data[o]);
        if (prob) err.data[o] = std::fmin(err.data[o], r.det[0]->data[o]);
      }
    }
    if (r.failure_probability) *r.failure_probability = 0;
  }
};

class TopKRule : public BoundRule, private ops::TopKGeometry {
 public:
  explicit TopKRule(const OpContext& ctx) : TopKGeometry(ctx) {}
  void bound(const BoundRequest& r) const override {
    const Enclosure& x = r.inputs[0];
    for (const bool prob : {false, true}) {
      const Tensor& err = prob ? *x.err_prob : *x.err;
      Tensor* values = prob ? r.prob[0] : r.det[0];
      Tensor* indices = r.det.size() > 1 ? (prob ? r.prob[1] : r.det[1]) : nullptr;
      for (long o = 0; o < outer_; ++o)
        for (long i = 0; i < inner_; ++i) slice_bound(x, err, o, i, values, indices);
    }
    if (r.failure_probability) *r.failure_probability = 0;
  }

 private:
  void slice_bound(const Enclosure& x, const Tensor& err, long o, long i, Tensor* values, Tensor* indices) const {
    // W_j = [lo_j - E_j, hi_j + E_j] holds both the chain's j-th value and the exact one.
    std::vector<double> wlo(static_cast<std::size_t>(length_)), whi(wlo.size());
    double largest = 0;
    bool exact = true;
    for (long j = 0; j < length_; ++j) {
      const long at = base(o, i) + j * inner_;
      const double e = err.data[at];
      exact = exact && e == 0;
      if (!(e <= largest)) largest = std::isnan(e) ? INFINITY : e;
      wlo[static_cast<std::size_t>(j)] = down(x.lo->data[at] - e);
      whi[static_cast<std::size_t>(j)] = up(x.hi->data[at] + e);
    }
    if (values)
      for (long k = 0; k < k_; ++k) values->data[out_base(o, i) + k * inner_] = largest;
    if (!indices) return;
    // Element j can stand at rank k (0 first) only if the elements surely ahead of it number at
    // most k and those possibly ahead at least k; both the chain's and the exact k-th index are
    // such candidates, so they differ by at most the candidates' spread.
    std::vector<long> first(static_cast<std::size_t>(k_), -1), last(first.size(), -1);
    for (long j = 0; j < length_ && !exact; ++j) {
      const std::size_t sj = static_cast<std::size_t>(j);
      long surely = 0, possibly = 0;
      bool finite = std::isfinite(wlo[sj]) && std::isfinite(whi[sj]);
      for (long m = 0; m < length_; ++m) {
        if (m == j) continue;
        const std::size_t sm = static_cast<std::size_t>(m);
        surely += (largest_ ? wlo[sm] > whi[sj] : whi[sm] < wlo[sj]) ? 1 : 0;
        possibly += (largest_ ? whi[sm] >= wlo[sj] : wlo[sm] <= whi[sj]) ? 1 : 0;
      }
      if (!finite) surely = 0, possibly = length_;
      for (long k = surely; k <= std::min(possibly, k_ - 1); ++k) {
        if (first[static_cast<std::size_t>(k)] < 0) first[static_cast<std::size_t>(k)] = j;
        last[static_cast<std::size_t>(k)] = j;
      }
    }
    for (long k = 0; k < k_; ++k)
      indices->data[out_base(o, i) + k * inner_] =
          exact ? 0.0 : first[static_cast<std::size_t>(k)] < 0 ? INFINITY : static_cast<double>(last[static_cast<std::size_t>(k)] - first[static_cast<std::size_t>(k)]);
  }
};

}  // namespace

void register_scan_rules(std::vector<BoundRuleRegistration>& r) {
  r.push_back({"CumSum", prepared<CumSumRule>()});
  r.push_back({"Hardmax", prepared<HardmaxRule>()});
  r.push_back({"TopK", prepared<TopKRule>()});
  r.push_back({"ScatterND", prepared<ScatterNdRule>()});
  r.push_back({"Pad", prepared<PadRule>()});
  r.push_back({"Sum", [](const OpContext& ctx) -> std::unique_ptr<BoundRule> { return std::make_unique<VariadicSumRule>(ctx, false); }});
  r.push_back({"Mean", [](const OpContext& ctx) -> std::unique_ptr<BoundRule> { return std::make_unique<VariadicSumRule>(ctx, true); }});
}

}  // namespace fpaudit::bounds::rules
