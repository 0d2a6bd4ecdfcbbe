// Bound rules of Softmax and LogSoftmax (the math: bounds/softmax.h), row by row over the
// geometry their kernel prepares (lib/core/ops/softmax.h).
#include <cmath>

#include "bounds/rules.h"
#include "bounds/softmax.h"
#include "core/ops/softmax.h"

namespace fpaudit::bounds::rules {

namespace {

class SoftmaxRule : public BoundRule, private ops::SoftmaxGeometry {
 public:
  SoftmaxRule(const OpContext& ctx, bool log) : SoftmaxGeometry(ctx), log_(log) {}
  void bound(const BoundRequest& r) const override {
    double fail = 0;
    for (long o = 0; o < outer_; ++o)
      for (long i = 0; i < inner_; ++i) {
        const SoftmaxRow row{o * length_ * inner_ + i, length_, inner_};
        fail = std::fmax(fail, softmax_bound(r.model, r.lambda, r.inputs[0], row, log_, *r.det[0], *r.prob[0]));
      }
    if (r.failure_probability) *r.failure_probability = fail;
  }

 private:
  bool log_;
};

}  // namespace

void register_softmax_rules(std::vector<BoundRuleRegistration>& r) {
  r.push_back({"Softmax", [](const OpContext& ctx) -> std::unique_ptr<BoundRule> { return std::make_unique<SoftmaxRule>(ctx, false); }});
  r.push_back({"LogSoftmax", [](const OpContext& ctx) -> std::unique_ptr<BoundRule> { return std::make_unique<SoftmaxRule>(ctx, true); }});
}

}  // namespace fpaudit::bounds::rules
