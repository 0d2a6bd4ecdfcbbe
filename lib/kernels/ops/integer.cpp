// The kernel of a node on exact data (ValueInfo::exact_data): integer and bool tensors computed
// from integer and bool inputs alone, such as a padding mask compared with 0, positions counted
// from token ids, or shape arithmetic on them. The node's fold rule (lib/graph/fold.h) is its
// exact semantics (int64 wrapping, truncating division, comparisons, data movement), so the
// kernel evaluates that rule on the sample's values: the same integers in every arithmetic,
// which is why it ignores the arithmetic and carries no error.
#include <cmath>

#include "graph/fold.h"
#include "kernels/ops/ops.h"

namespace fpaudit::ops {

namespace {

/// Integers a runtime tensor holds exactly: binary64 represents every integer up to 2^53.
constexpr double kExactIntegers = 0x1p53;

class IntegerKernel : public OpKernel {
 public:
  explicit IntegerKernel(const OpContext& ctx) : rule_(find_fold_rule(ctx.node.op_type)) {
    if (!rule_) ctx.fail("integer data at run time needs the operator's exact integer semantics, which fpaudit lacks for it");
    // The node's own neighbourhood: its input values and constants, enough for a ShapeContext.
    scratch_.source = ctx.graph.source;
    scratch_.opset = ctx.graph.opset;
    node_ = ctx.node;
    for (std::size_t i = 0; i < node_.inputs.size(); ++i) {
      const std::string& name = node_.inputs[i];
      if (name.empty()) continue;
      if (const Constant* c = ctx.graph.constant(name)) {
        scratch_.set_constant(name, *c);
        prep_.push_back(i);
      } else if (const ValueInfo* v = ctx.graph.value(name)) {
        scratch_.values[name] = *v;
      }
    }
    for (std::size_t i = 0; i < node_.outputs.size(); ++i) {
      const ValueInfo* v = node_.outputs[i].empty() ? nullptr : ctx.graph.value(node_.outputs[i]);
      types_.push_back(v ? TensorType{v->dtype, ctx.output_shapes.at(i)} : TensorType{});
    }
  }

  void run(const Arithmetic&, std::span<const Tensor* const> inputs, std::span<Tensor* const> outputs) const override {
    Graph g = scratch_;  // per call: evaluations run concurrently
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      if (!inputs[i]) continue;
      const std::string& name = node_.inputs[i];
      const ValueInfo& v = g.values.at(name);
      Constant c{v.dtype, inputs[i]->shape, {}, {}};
      c.ints.reserve(inputs[i]->data.size());
      for (double x : inputs[i]->data) c.ints.push_back(static_cast<std::int64_t>(x));
      g.set_constant(name, std::move(c));
    }
    const ShapeContext ctx(g, node_);
    const std::optional<std::vector<Constant>> out = rule_(ctx, types_);
    if (!out) ctx.fail("fpaudit cannot evaluate this integer operation at run time");
    for (std::size_t k = 0; k < outputs.size(); ++k) {
      if (!outputs[k]) continue;
      const Constant& c = out->at(k);
      Tensor& t = *outputs[k];
      for (std::size_t i = 0; i < t.data.size(); ++i) {
        const double x = real_at(c, i);
        if (!(std::fabs(x) <= kExactIntegers))
          ctx.fail(fmt::format("output '{}' holds {}, beyond the integers fpaudit holds exactly at run time (2^53)",
                               node_.outputs[k], c.ints.empty() ? x : static_cast<double>(c.ints[i])));
        t.data[i] = x;
      }
    }
  }
  bool exact() const override { return true; }
  std::vector<std::size_t> preparation_inputs() const override { return prep_; }

 private:
  FoldRule rule_;
  Graph scratch_;
  Node node_;
  std::vector<TensorType> types_;
  std::vector<std::size_t> prep_;
};

}  // namespace

std::unique_ptr<OpKernel> make_integer_kernel(const OpContext& ctx) { return std::make_unique<IntegerKernel>(ctx); }

}  // namespace fpaudit::ops
