// Data selection on runtime data with a pattern fixed at preparation (graph/selection.h):
// GatherElements (constant indices), Trilu (the triangle kept, the rest set to 0), Pad (constant,
// edge, reflect, wrap) and OneHot (values[0] or values[1] by constant indices); ScatterND
// (constant indices) at the end. Each output element is a
// copy of one input element or an exact 0: nothing is rounded, in any arithmetic. With no bound
// rule, the engine runs the kernel on the bounds (lib/shadow/plan.h), which moves them the same way
// and gives the zeros lo = hi = err = 0 (theory/elementwise.md §11). Pad's fill value c is
// rounded into storage: its rule (lib/bounds/rules/runtime_scan.cpp) bounds that by u_S|c| + η_S.
#include <cmath>

#include "core/ops/pad.h"
#include "core/ops/scatter_nd.h"
#include "graph/selection.h"
#include "kernels/ops/ops.h"

namespace fpaudit::ops {

namespace {

/// out[o] = in[data][source[o]], or the fill value rounded into storage where source[o] < 0,
/// for a map computed once. Exact unless a fill is used; Pad's fill has its own bound rule.
class Selected : public OpKernel {
 public:
  Selected(std::vector<std::int64_t> source, std::vector<std::size_t> prep, std::size_t data = 0, double fill = 0)
      : source_(std::move(source)), prep_(std::move(prep)), data_(data), fill_(fill) {}
  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const std::vector<double>& x = in[data_]->data;
    std::vector<double>& y = out[0]->data;
    const double fill = a.round(fill_);
    for (std::size_t o = 0; o < source_.size(); ++o) y[o] = source_[o] < 0 ? fill : x[static_cast<std::size_t>(source_[o])];
  }
  bool exact() const override { return fill_ == 0; }
  std::vector<std::size_t> preparation_inputs() const override { return prep_; }

 private:
  std::vector<std::int64_t> source_;
  std::vector<std::size_t> prep_;
  std::size_t data_;
  double fill_;
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

/// Pad: the map of graph/selection.h; the fill value (constant mode) read at preparation.
std::unique_ptr<OpKernel> make_pad(const OpContext& ctx) {
  std::string problem;
  auto source = pad_sources(ctx.input_shapes.at(0), pad_amounts(ctx), ctx.node.attr_string("mode", "constant"), problem);
  if (!problem.empty()) ctx.fail(problem);
  std::vector<std::size_t> prep;
  for (std::size_t i = 1; i < 3; ++i)
    if (ctx.has_input(i)) prep.push_back(i);
  return std::make_unique<Selected>(std::move(source), prep, 0, pad_fill(ctx));
}

/// OneHot: each output reads values[0] (off) or values[1] (on); indices and depth constant.
std::unique_ptr<OpKernel> make_one_hot(const OpContext& ctx) {
  for (std::size_t i = 0; i < 2; ++i)
    if (ctx.const_inputs.size() <= i || ctx.const_inputs[i] == nullptr)
      ctx.fail(fmt::format("input {} ('{}') is computed at run time; fpaudit needs OneHot's indices and depth constant", i,
                           ctx.node.inputs[i]));
  const Constant& indices = *ctx.const_inputs[0];
  const Constant& depth = *ctx.const_inputs[1];
  std::vector<double> index(static_cast<std::size_t>(indices.size()));
  for (std::size_t i = 0; i < index.size(); ++i) index[i] = indices.values.empty() ? static_cast<double>(indices.ints[i]) : indices.values[i];
  const auto d = static_cast<std::int64_t>(depth.values.empty() ? static_cast<double>(depth.ints.at(0)) : depth.values.at(0));
  const int axis = normalize_axis(ctx, ctx.node.attr_int("axis", -1), static_cast<int>(ctx.input_shapes.at(0).size()) + 1);
  return std::make_unique<Selected>(one_hot_sources(ctx.input_shapes.at(0), index, d, axis), std::vector<std::size_t>{0, 1}, 2);
}

/// ScatterND: data, with the updates written over it (reduction none: the last update to an
/// element wins, as ONNX leaves duplicates unspecified), or combined with it one update at a
/// time in index order: add and mul round each step into storage (as the data type would);
/// max and min are exact.
class ScatterNd : public OpKernel, private ScatterNdGeometry {
 public:
  explicit ScatterNd(const OpContext& ctx) : ScatterNdGeometry(ctx) {}
  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const std::vector<double>& u = in[2]->data;
    std::vector<double>& y = out[0]->data;
    y = in[0]->data;
    for (std::size_t k = 0; k < targets_.size(); ++k) {
      double& v = y[static_cast<std::size_t>(targets_[k])];
      const double w = u[k];
      switch (reduction_) {
        case ScatterReduction::None: v = w; break;
        case ScatterReduction::Add: v = a.add(v, w); break;
        case ScatterReduction::Mul: v = a.mul(v, w); break;
        case ScatterReduction::Max: v = std::isnan(w) || w > v ? w : v; break;
        case ScatterReduction::Min: v = std::isnan(w) || w < v ? w : v; break;
      }
    }
  }
  bool exact() const override { return reduction_ != ScatterReduction::Add && reduction_ != ScatterReduction::Mul; }
  std::vector<std::size_t> preparation_inputs() const override { return prep_; }
};

}  // namespace

void register_data_select_ops(std::vector<OpRegistration>& r) {
  r.push_back({"GatherElements", make_gather_elements});
  r.push_back({"Trilu", make_trilu});
  r.push_back({"Pad", make_pad});
  r.push_back({"OneHot", make_one_hot});
  r.push_back({"ScatterND", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<ScatterNd>(ctx); }});
}

}  // namespace fpaudit::ops
