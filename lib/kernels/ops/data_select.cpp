// Data selection on runtime data with a pattern fixed at preparation: GatherElements (constant
// indices) and Trilu (the triangle kept, the rest set to 0). Each output element is a copy of
// one input element or an exact 0: nothing is rounded, in any arithmetic. With no bound rule, the
// engine runs the kernel on the bounds (lib/shadow/plan.h), which moves them the same way and
// gives the zeros lo = hi = err = 0 (theory/elementwise.md §11).
#include "graph/selection.h"
#include "kernels/ops/ops.h"

namespace fpaudit::ops {

namespace {

/// out[o] = in[source[o]], or 0 where source[o] < 0, for a map computed once.
class Selected : public OpKernel {
 public:
  Selected(std::vector<std::int64_t> source, std::vector<std::size_t> prep) : source_(std::move(source)), prep_(std::move(prep)) {}
  void run(const Arithmetic&, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const std::vector<double>& x = in[0]->data;
    std::vector<double>& y = out[0]->data;
    for (std::size_t o = 0; o < source_.size(); ++o) y[o] = source_[o] < 0 ? 0.0 : x[static_cast<std::size_t>(source_[o])];
  }
  bool exact() const override { return true; }
  std::vector<std::size_t> preparation_inputs() const override { return prep_; }

 private:
  std::vector<std::int64_t> source_;
  std::vector<std::size_t> prep_;
};

/// GatherElements: out[i_0, …, i_r] = in[i_0, …, indices[i_0, …, i_r], …, i_r], the index
/// replacing position `axis`; negative indices count from the end. The indices must be constant.
std::unique_ptr<OpKernel> make_gather_elements(const OpContext& ctx) {
  const Shape& x = ctx.input_shapes.at(0);
  const int axis = normalize_axis(ctx, ctx.node.attr_int("axis", 0), static_cast<int>(x.size()));
  if (ctx.const_inputs.size() < 2 || ctx.const_inputs[1] == nullptr)
    ctx.fail("the indices are computed at run time; fpaudit gathers only with constant indices");
  std::string problem;
  auto source = gather_elements_sources(x, ctx.input_shapes.at(1), ctx.const_ints(1), axis, problem);
  if (!problem.empty()) ctx.fail(problem);
  return std::make_unique<Selected>(std::move(source), std::vector<std::size_t>{1});
}

/// Trilu: over the last two axes (row i, column j), upper keeps j - i ≥ k, lower keeps
/// j - i ≤ k; k is the optional constant input 1 (default 0).
std::unique_ptr<OpKernel> make_trilu(const OpContext& ctx) {
  const Shape& x = ctx.input_shapes.at(0);
  if (x.size() < 2) ctx.fail(fmt::format("input {} must have rank 2 or more", shape_string(x)));
  std::int64_t k = 0;
  if (ctx.has_input(1)) {
    const std::vector<std::int64_t> ks = ctx.const_ints(1);
    if (ks.size() != 1) ctx.fail("k must hold one value");
    k = ks[0];
  }
  const bool upper = ctx.node.attr_int("upper", 1) != 0;
  return std::make_unique<Selected>(trilu_sources(x, k, upper), std::vector<std::size_t>{1});
}

}  // namespace

void register_data_select_ops(std::vector<OpRegistration>& r) {
  r.push_back({"GatherElements", make_gather_elements});
  r.push_back({"Trilu", make_trilu});
}

}  // namespace fpaudit::ops
