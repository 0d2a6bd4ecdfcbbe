#include "bounds/rules.h"

namespace fpaudit::bounds {

std::span<const BoundRuleRegistration> bound_rule_registry() {
  static const std::vector<BoundRuleRegistration> registry = [] {
    std::vector<BoundRuleRegistration> r;
    rules::register_elementwise_rules(r);
    rules::register_linear_rules(r);
    rules::register_conv_rules(r);
    rules::register_normalization_rules(r);
    rules::register_local_normalization_rules(r);
    rules::register_softmax_rules(r);
    rules::register_reduction_rules(r);
    rules::register_runtime_select_rules(r);
    rules::register_runtime_rounded_rules(r);
    rules::register_loss_rules(r);
    rules::register_scan_rules(r);
    return r;
  }();
  return registry;
}

std::unique_ptr<BoundRule> make_bound_rule(const OpContext& ctx) {
  for (const BoundRuleRegistration& r : bound_rule_registry())
    if (r.op_type == ctx.node.op_type) return r.make(ctx);
  return nullptr;
}

}  // namespace fpaudit::bounds
