// Bound rules, registered by op type (as lib/kernels/ops registers the kernels): for each
// operator, the transfer of lib/bounds/transfer.h from its inputs' enclosures and error bounds
// to its outputs' bounds. A rule is prepared once per model from the node's OpContext, reading
// what it needs through lib/core/ops (the same geometry the kernel prepares); the bound math
// itself lives in the files of lib/bounds (linear.h, reductions.h, ...).
//
// An op type without a rule, or whose factory returns no rule (an exact variant such as
// ReduceSum with noop_with_empty_axes), is bounded by the engine running its exact kernel on
// the bounds (PlannedLayer::bound, lib/shadow/plan.h); an inexact kernel without a rule has no bound.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "bounds/transfer.h"
#include "core/op_context.h"

namespace fpaudit::bounds {

class BoundRule {
 public:
  virtual ~BoundRule() = default;
  /// Writes the output bounds of request (see BoundRequest); throws NoBound if it cannot.
  virtual void bound(const BoundRequest& request) const = 0;
};

using BoundRuleFactory = std::function<std::unique_ptr<BoundRule>(const OpContext&)>;

struct BoundRuleRegistration {
  std::string_view op_type;
  BoundRuleFactory make;
};

/// Every bound rule fpaudit has.
std::span<const BoundRuleRegistration> bound_rule_registry();
/// The rule for a node, prepared; null when its op type has none (see above).
std::unique_ptr<BoundRule> make_bound_rule(const OpContext& ctx);

/// The exported LayerNorm's Div (graph/layer_norm_pattern.h) as one operator of the pattern's
/// input: request inputs (d̂, ŝ, x, ε), row rows of row elements each; the bounds are the smaller
/// of the Div's own rule (div_rule, on d̂ and ŝ) and layer_norm_pattern_bound. Only for the
/// propagated bounds: a local bound (the Div at rounded reference inputs) is the Div rule's alone.
std::unique_ptr<BoundRule> make_layer_norm_pattern_rule(std::unique_ptr<BoundRule> div_rule, long row, long rows);

namespace rules {
void register_elementwise_rules(std::vector<BoundRuleRegistration>& r);
void register_linear_rules(std::vector<BoundRuleRegistration>& r);
void register_conv_rules(std::vector<BoundRuleRegistration>& r);
void register_normalization_rules(std::vector<BoundRuleRegistration>& r);
/// LRN, LpNormalization (rules/normalization_local.cpp).
void register_local_normalization_rules(std::vector<BoundRuleRegistration>& r);
void register_softmax_rules(std::vector<BoundRuleRegistration>& r);
void register_reduction_rules(std::vector<BoundRuleRegistration>& r);
/// The operators on runtime data: comparisons, logic, step functions, selections and index
/// reductions (rules/runtime_select.cpp); the rounded reductions and smooth activations
/// (rules/runtime_rounded.cpp).
void register_runtime_select_rules(std::vector<BoundRuleRegistration>& r);
void register_runtime_rounded_rules(std::vector<BoundRuleRegistration>& r);
/// NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss (rules/loss.cpp); CumSum, Hardmax
/// (rules/runtime_scan.cpp).
void register_loss_rules(std::vector<BoundRuleRegistration>& r);
void register_scan_rules(std::vector<BoundRuleRegistration>& r);

/// A factory for a rule class constructed from the OpContext.
template <class Rule>
BoundRuleFactory prepared() {
  return [](const OpContext& ctx) -> std::unique_ptr<BoundRule> { return std::make_unique<Rule>(ctx); };
}
}  // namespace rules

}  // namespace fpaudit::bounds
