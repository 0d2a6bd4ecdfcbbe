// The exported LayerNorm's Div bounded as one operator of the pattern's input
// (bounds/layer_norm_pattern.h, theory/layernorm-pattern.md). The engine hands this rule the
// Div's two inputs followed by the pattern's x and ε (PlannedLayer::pattern_inputs).
#include <algorithm>
#include <cmath>

#include "bounds/layer_norm_pattern.h"
#include "bounds/rules.h"

namespace fpaudit::bounds {

namespace {

class LayerNormPatternRule : public BoundRule {
 public:
  LayerNormPatternRule(std::unique_ptr<BoundRule> div, long row, long rows) : div_(std::move(div)), row_(row), rows_(rows) {}
  void bound(const BoundRequest& r) const override {
    // The Div's own rule first (its bounds may be the smaller where σ's bound is tight).
    double fail = 0;
    try {
      div_->bound({r.model, r.lambda, r.inputs.first(2), r.det, r.prob, &fail});
    } catch (const NoBound&) {
      std::fill(r.det[0]->data.begin(), r.det[0]->data.end(), INFINITY);
      std::fill(r.prob[0]->data.begin(), r.prob[0]->data.end(), INFINITY);
    }
    const Enclosure& eps = r.inputs[3];
    for (long o = 0; o < rows_; ++o) {
      LayerNormPatternRow row;
      row.n = row_;
      row.base = o * row_;
      row.s_at = o;
      row.x = &r.inputs[2];
      row.d = &r.inputs[0];
      row.s = &r.inputs[1];
      row.epsilon = operand_at(eps, 0, false);
      layer_norm_pattern_bound(r.model, r.lambda, row, *r.det[0], *r.prob[0]);
    }
    if (r.failure_probability) *r.failure_probability = fail;
  }

 private:
  std::unique_ptr<BoundRule> div_;
  long row_, rows_;
};

}  // namespace

std::unique_ptr<BoundRule> make_layer_norm_pattern_rule(std::unique_ptr<BoundRule> div_rule, long row, long rows) {
  return std::make_unique<LayerNormPatternRule>(std::move(div_rule), row, rows);
}

}  // namespace fpaudit::bounds
