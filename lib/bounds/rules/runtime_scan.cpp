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
#include <cmath>

#include "bounds/reductions.h"
#include "bounds/rules.h"
#include "core/ops/broadcast.h"
#include "core/ops/cumsum.h"
#include "core/ops/pad.h"
#include "graph/selection.h"
#include "core/ops/softmax.h"

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

}  // namespace

void register_scan_rules(std::vector<BoundRuleRegistration>& r) {
  r.push_back({"CumSum", prepared<CumSumRule>()});
  r.push_back({"Hardmax", prepared<HardmaxRule>()});
  r.push_back({"Pad", prepared<PadRule>()});
  r.push_back({"Sum", [](const OpContext& ctx) -> std::unique_ptr<BoundRule> { return std::make_unique<VariadicSumRule>(ctx, false); }});
  r.push_back({"Mean", [](const OpContext& ctx) -> std::unique_ptr<BoundRule> { return std::make_unique<VariadicSumRule>(ctx, true); }});
}

}  // namespace fpaudit::bounds::rules
