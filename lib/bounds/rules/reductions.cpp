// Bound rules of the reductions: AveragePool, MaxPool, GlobalAveragePool, ReduceSum,
// ReduceMean and Resize (the math: bounds/reductions.h), over the windows and terms their
// kernels prepare (lib/core/ops/pool.h, reduce.h, resize.h).
#include <cmath>

#include "bounds/reductions.h"
#include "bounds/rules.h"
#include "core/ops/pool.h"
#include "core/ops/reduce.h"
#include "core/ops/resize.h"

namespace fpaudit::bounds::rules {

namespace {

class PoolRule : public BoundRule, private ops::PoolGeometry {
 public:
  PoolRule(const OpContext& ctx, bool max) : PoolGeometry(ctx, max) {}
  /// MaxPool: the largest input bound of the window (a max is 1-Lipschitz in the max-norm).
  /// AveragePool: a sum by the schedule, then one rounded division (bounds/reductions.h).
  void bound(const BoundRequest& r) const override {
    const Enclosure& x = r.inputs[0];
    double fail = 0;
    std::vector<std::int64_t> terms;  // one window's offsets, widened for reduction_bound
    for (std::int64_t plane = 0; plane < planes_; ++plane)
      for (std::int64_t p = 0; p < out_plane_; ++p) {
        const std::int32_t* first = windows_.source.data() + windows_.start[p];
        const std::int64_t n = windows_.start[p + 1] - windows_.start[p];
        const long o = static_cast<long>(plane * out_plane_ + p), base = static_cast<long>(plane * in_plane_);
        if (max_) {
          double d = 0, q = 0;
          for (std::int64_t k = 0; k < n; ++k) {
            d = std::fmax(d, x.err->data[base + first[k]]);
            q = std::fmax(q, x.err_prob->data[base + first[k]]);
          }
          r.det[0]->data[o] = d;
          r.prob[0]->data[o] = q;
          continue;
        }
        terms.assign(first, first + n);
        const ElementBound b = reduction_bound(r.model, r.lambda, x, base, terms.data(), static_cast<long>(n),
                                                               {true, windows_.count[static_cast<std::size_t>(p)]});
        r.det[0]->data[o] = b.det;
        r.prob[0]->data[o] = b.prob;
        fail = std::fmax(fail, b.failure);
      }
    if (r.failure_probability) *r.failure_probability = fail;
  }

};

class GlobalAveragePoolRule : public BoundRule, private ops::GlobalPoolGeometry {
 public:
  explicit GlobalAveragePoolRule(const OpContext& ctx) : GlobalPoolGeometry(ctx) {}
  void bound(const BoundRequest& r) const override {
    std::vector<std::int64_t> terms(static_cast<std::size_t>(plane_));
    for (std::int64_t k = 0; k < plane_; ++k) terms[static_cast<std::size_t>(k)] = k;
    double fail = 0;
    for (std::int64_t p = 0; p < planes_; ++p) {
      const ElementBound b = reduction_bound(r.model, r.lambda, r.inputs[0], static_cast<long>(p * plane_), terms.data(),
                                                             static_cast<long>(plane_), {true, static_cast<double>(plane_)});
      r.det[0]->data[p] = b.det;
      r.prob[0]->data[p] = b.prob;
      fail = std::fmax(fail, b.failure);
    }
    if (r.failure_probability) *r.failure_probability = fail;
  }

};

/// ReduceSum/ReduceMean with noop_with_empty_axes and no axes copy their input: no rule of their
/// own (the engine runs the exact copy on the bounds).
class ReduceRule : public BoundRule, private ops::ReduceGeometry {
 public:
  explicit ReduceRule(ops::ReduceGeometry g) : ReduceGeometry(std::move(g)) {}
  static std::unique_ptr<BoundRule> make(const OpContext& ctx, bool mean) {
    ops::ReduceGeometry g(ctx, mean);
    if (g.identity_) return nullptr;
    return std::make_unique<ReduceRule>(std::move(g));
  }
  void bound(const BoundRequest& r) const override {
    const auto n = static_cast<long>(terms_.size());
    double fail = 0;
    for (std::size_t o = 0; o < bases_.size(); ++o) {
      const ElementBound b = reduction_bound(r.model, r.lambda, r.inputs[0], static_cast<long>(bases_[o]), terms_.data(), n,
                                                             {mean_, static_cast<double>(n)});
      r.det[0]->data[o] = b.det;
      r.prob[0]->data[o] = b.prob;
      fail = std::fmax(fail, b.failure);
    }
    if (r.failure_probability) *r.failure_probability = fail;
  }

};

class ResizeRule : public BoundRule, private ops::ResizeGeometry {
 public:
  explicit ResizeRule(const OpContext& ctx) : ResizeGeometry(ctx) {}
  /// Nearest: the source's bound; linear: the interpolation rule (bounds/reductions.h); outside a
  /// tf_crop_and_resize box: the rounding of the extrapolation value (running the kernel on the
  /// bounds would write that value itself as a bound).
  void bound(const BoundRequest& r) const override {
    const Enclosure& x = r.inputs[0];
    Tensor& det = *r.det[0];
    Tensor& prob = *r.prob[0];
    double fail = 0;
    const double extrapolated = r.model.storage.error(std::fabs(extrapolation_));
    for (std::size_t p = 0; p < det.data.size(); ++p) {
      const std::int64_t first = start_[p], n = start_[p + 1] - first;
      if (n == 0) {
        det.data[p] = prob.data[p] = extrapolated;
      } else if (!interpolates_) {
        const auto s = static_cast<std::size_t>(source_[static_cast<std::size_t>(first)]);
        det.data[p] = x.err->data[s];
        prob.data[p] = x.err_prob->data[s];
      } else {
        const auto k = static_cast<std::size_t>(first);
        const ElementBound b =
            interpolation_bound(r.model, r.lambda, x, source_.data() + k, weight_.data() + k, static_cast<long>(n));
        det.data[p] = b.det;
        prob.data[p] = b.prob;
        fail = std::fmax(fail, b.failure);
      }
    }
    if (r.failure_probability) *r.failure_probability = fail;
  }

};

}  // namespace

void register_reduction_rules(std::vector<BoundRuleRegistration>& r) {
  r.push_back({"MaxPool", [](const OpContext& ctx) -> std::unique_ptr<BoundRule> { return std::make_unique<PoolRule>(ctx, true); }});
  r.push_back({"AveragePool", [](const OpContext& ctx) -> std::unique_ptr<BoundRule> { return std::make_unique<PoolRule>(ctx, false); }});
  r.push_back({"GlobalAveragePool", prepared<GlobalAveragePoolRule>()});
  r.push_back({"ReduceSum", [](const OpContext& ctx) { return ReduceRule::make(ctx, false); }});
  r.push_back({"ReduceMean", [](const OpContext& ctx) { return ReduceRule::make(ctx, true); }});
  r.push_back({"Resize", prepared<ResizeRule>()});
}

}  // namespace fpaudit::bounds::rules
