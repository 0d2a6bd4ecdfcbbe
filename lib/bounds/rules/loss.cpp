// Bound rules of NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (kernels:
// lib/kernels/ops/loss.cpp; theory/reductions.md §loss). Every loss output is
// y = round_S(Σ_k ĉ_k·x_k) over gathered elements with binary64 coefficients c_k
// (lib/core/ops/loss.h): Resize's interpolation rule (interpolation_bound) bounds it. For
// SoftmaxCrossEntropyLoss the x_k are the chain's log probabilities: LogSoftmax's rule gives
// their error bounds (and is the bound of the optional second output), and an enclosure of them
// is the interval log-softmax of the input box, widened by that rule's local part.
#include <cmath>

#include "bounds/reductions.h"
#include "bounds/rules.h"
#include "bounds/softmax.h"
#include "core/ops/loss.h"

namespace fpaudit::bounds::rules {

namespace {

/// Enclosure of log-softmax over a box: LSE is increasing in every argument, so for lo ≤ x ≤ hi,
/// x_j - LSE(x) ∈ [lo_j - LSE(hi), hi_j - LSE(lo)], and it is ≤ 0. LSE(v) = m + log Σ exp(v_i - m)
/// with m = max v, evaluated here with outward rounding (libm results widened by up_libm).
struct LogSumExpRange {
  double lo = -INFINITY, hi = INFINITY;
};

LogSumExpRange log_sum_exp_range(const Tensor& lo, const Tensor& hi, long base, long length, long stride) {
  double m_lo = -INFINITY, m_hi = -INFINITY;
  for (long j = 0; j < length; ++j) {
    m_lo = std::fmax(m_lo, lo.data[base + j * stride]);
    m_hi = std::fmax(m_hi, hi.data[base + j * stride]);
  }
  if (!std::isfinite(m_lo) || !std::isfinite(m_hi)) return {};
  double s_lo = 0, s_hi = 0;
  for (long j = 0; j < length; ++j) {
    s_lo = down(s_lo + std::fmax(0.0, down_libm(std::exp(down(lo.data[base + j * stride] - m_lo)))));
    s_hi = up(s_hi + up_libm(std::exp(up(hi.data[base + j * stride] - m_hi))));
  }
  // The maximum's own term is exp(0) = 1, so both sums are at least 1 - 2^-49 > 0.
  return {down(m_lo + down_libm(std::log(s_lo))), up(m_hi + up_libm(std::log(s_hi)))};
}

class LossRule : public BoundRule, private ops::LossGeometry {
 public:
  LossRule(const OpContext& ctx, bool softmax) : LossGeometry(ctx), softmax_(softmax) {}

  void bound(const BoundRequest& r) const override {
    double fail = 0;
    if (!softmax_) {
      fail = loss_bound(r, r.inputs[0]);
    } else {
      const Enclosure& x = r.inputs[0];
      Tensor err(x.lo->shape), err_prob(x.lo->shape), local(x.lo->shape), local_prob(x.lo->shape);
      Tensor lp_lo(x.lo->shape), lp_hi(x.lo->shape), zero(x.lo->shape);
      const Enclosure x_exact{x.lo, x.hi, &zero, &zero};
      for (long o = 0; o < outer_; ++o)
        for (long i = 0; i < inner_; ++i) {
          const SoftmaxRow row{o * classes_ * inner_ + i, classes_, inner_};
          fail = std::fmax(fail, softmax_bound(r.model, r.lambda, x, row, true, err, err_prob));
          // Zero input error: how far the chain's log probabilities are from log-softmax(x_c).
          softmax_bound(r.model, r.lambda, x_exact, row, true, local, local_prob);
          const LogSumExpRange lse = log_sum_exp_range(*x.lo, *x.hi, row.base, row.length, row.stride);
          for (long j = 0; j < classes_; ++j) {
            const long at = row.base + j * row.stride;
            // log p ≤ 0, and the chain's value is within `local` of log-softmax(x_c).
            lp_lo.data[at] = -nan_to_inf(-down(down(x.lo->data[at] - lse.hi) - local.data[at]));
            lp_hi.data[at] = nan_to_inf(std::fmin(up(up(x.hi->data[at] - lse.lo) + local.data[at]), up(local.data[at])));
          }
        }
      const Enclosure log_prob{&lp_lo, &lp_hi, &err, &err_prob};
      fail = std::fmax(fail, loss_bound(r, log_prob));
      if (r.det.size() > 1 && r.det[1] != nullptr) {
        r.det[1]->data = err.data;
        r.prob[1]->data = err_prob.data;
      }
    }
    if (r.failure_probability) *r.failure_probability = fail;
  }

 private:
  double loss_bound(const BoundRequest& r, const Enclosure& x) const {
    double fail = 0;
    for (std::size_t p = 0; p < r.det[0]->data.size(); ++p) {
      const auto first = static_cast<std::size_t>(start_[p]);
      const long n = static_cast<long>(start_[p + 1] - start_[p]);
      if (n == 0) {
        r.det[0]->data[p] = r.prob[0]->data[p] = 0;  // an ignored element: an exact 0
        continue;
      }
      const ElementBound b = interpolation_bound(r.model, r.lambda, x, source_.data() + first, coefficient_.data() + first, n);
      r.det[0]->data[p] = b.det;
      r.prob[0]->data[p] = b.prob;
      fail = std::fmax(fail, b.failure);
    }
    return fail;
  }
  bool softmax_;
};

}  // namespace

void register_loss_rules(std::vector<BoundRuleRegistration>& r) {
  r.push_back({"NegativeLogLikelihoodLoss", [](const OpContext& ctx) -> std::unique_ptr<BoundRule> { return std::make_unique<LossRule>(ctx, false); }});
  r.push_back({"SoftmaxCrossEntropyLoss", [](const OpContext& ctx) -> std::unique_ptr<BoundRule> { return std::make_unique<LossRule>(ctx, true); }});
}

}  // namespace fpaudit::bounds::rules
