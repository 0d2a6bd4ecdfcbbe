// Bound rules of BatchNormalization and LayerNormalization (the math: bounds/normalization.h),
// over the geometry their kernels prepare (lib/core/ops/normalization.h).
#include <cmath>

#include "bounds/normalization.h"
#include "bounds/rules.h"
#include "core/ops/normalization.h"

namespace fpaudit::bounds::rules {

namespace {

using ops::BatchNormGeometry;
using ops::LayerNormGeometry;

class BatchNormRule : public BoundRule, private BatchNormGeometry {
 public:
  explicit BatchNormRule(const OpContext& ctx) : BatchNormGeometry(ctx) {}
  void bound(const BoundRequest& r) const override {
    for (std::int64_t c = 0; c < channels_; ++c) {
      auto constant = [&](std::size_t i) { return operand_at(r.inputs[i], static_cast<long>(c), false); };
      const BatchNormFold fold = batchnorm_fold(r.model, constant(1), constant(2), constant(3), constant(4), epsilon_);
      // With one tensor for both input bounds, the probabilistic bound is the deterministic one.
      const Enclosure& x = r.inputs[0];
      const bool same_err = x.err == x.err_prob;
      // Plain pointers: the compiler cannot tell that the output stores leave the inputs' vectors
      // alone and would reload them per element. The operations per element are unchanged.
      const double *lo = x.lo->data.data(), *hi = x.hi->data.data(), *ed = x.err->data.data(), *ep = x.err_prob->data.data();
      double *det_out = r.det[0]->data.data(), *prob_out = r.prob[0]->data.data();
      for (std::int64_t n = 0; n < outer_; ++n) {
        const std::int64_t at = (n * channels_ + c) * inner_;
        batchnorm_bounds(r.model, fold, {lo + at, hi + at, ed + at, same_err ? nullptr : ep + at, det_out + at, prob_out + at, inner_});
      }
    }
    if (r.failure_probability) *r.failure_probability = 0;
  }
};

class LayerNormRule : public BoundRule, private LayerNormGeometry {
 public:
  explicit LayerNormRule(const OpContext& ctx) : LayerNormGeometry(ctx) {}
  void bound(const BoundRequest& r) const override {
    double fail = 0;
    for (std::int64_t o = 0; o < outer_; ++o) {
      LayerNormRow row;
      row.n = length_;
      row.x = &r.inputs[0];
      row.x_base = o * length_;
      row.gamma = &r.inputs[1];
      row.gamma_at = scale_at_.data();
      row.beta = has_bias_ ? &r.inputs[2] : nullptr;
      row.beta_at = bias_at_.data();
      row.epsilon = epsilon_;
      fail = std::fmax(fail, layernorm_bound(r.model, r.lambda, row, *r.det[0], *r.prob[0]));
    }
    if (r.failure_probability) *r.failure_probability = fail;
  }
};

/// InstanceNormalization and GroupNormalization: LayerNormalization's row rule on each row, with
/// the row's scale and bias positions (theory/normalization.md §4).
class GroupNormRule : public BoundRule, private ops::GroupNormGeometry {
 public:
  GroupNormRule(const OpContext& ctx, bool instance) : GroupNormGeometry(ctx, instance) {}
  void bound(const BoundRequest& r) const override {
    double fail = 0;
    std::vector<std::int64_t> positions;
    for (std::int64_t o = 0; o < rows_; ++o) {
      scale_positions(o, positions);
      const std::int64_t* at = positions.data();
      LayerNormRow row;
      row.n = length_;
      row.x = &r.inputs[0];
      row.x_base = o * length_;
      row.gamma = &r.inputs[1];
      row.gamma_at = at;
      row.beta = &r.inputs[2];
      row.beta_at = at;
      row.epsilon = epsilon_;
      fail = std::fmax(fail, layernorm_bound(r.model, r.lambda, row, *r.det[0], *r.prob[0]));
    }
    if (r.failure_probability) *r.failure_probability = fail;
  }
};

}  // namespace

void register_normalization_rules(std::vector<BoundRuleRegistration>& r) {
  r.push_back({"BatchNormalization", prepared<BatchNormRule>()});
  r.push_back({"LayerNormalization", prepared<LayerNormRule>()});
  r.push_back({"InstanceNormalization", [](const OpContext& ctx) -> std::unique_ptr<BoundRule> { return std::make_unique<GroupNormRule>(ctx, true); }});
  r.push_back({"GroupNormalization", [](const OpContext& ctx) -> std::unique_ptr<BoundRule> { return std::make_unique<GroupNormRule>(ctx, false); }});
}

}  // namespace fpaudit::bounds::rules
