// Reductions that select instead of rounding: ReduceMax, ReduceMin and GlobalMaxPool (the
// largest or smallest of the reduced elements) and ArgMax, ArgMin (the index of the first, or
// with select_last_index the last, extremum along one axis; exact small integers). Nothing is
// rounded, in any arithmetic.
//
// Bounds. |max_i a_i - max_i b_i| ≤ max_i |a_i - b_i|, and the same for min: the largest input
// bound over the reduced elements passes through (extremum_bound). An index is discontinuous:
// where two elements are too close for the input bounds to tell apart, the chain's index and the
// exact one may differ, by at most the distance between the farthest such candidates
// (arg_extremum_bound).
#include <cmath>

#include "bounds/transfer.h"
#include "graph/params.h"
#include "kernels/ops/ops.h"
#include "kernels/ops/reduction_layout.h"

namespace fpaudit::ops {

namespace {

/// NaN-propagating max over the terms' input bounds; a NaN bound becomes +Inf.
double largest_bound(const Tensor& err, std::int64_t base, const std::vector<std::int64_t>& terms) {
  double m = 0;
  for (std::int64_t t : terms) {
    const double e = err.data[base + t];
    if (!(e <= m)) m = std::isnan(e) ? INFINITY : e;
  }
  return m;
}

/// ReduceMax, ReduceMin, GlobalMaxPool.
class Extremum : public OpKernel {
 public:
  Extremum(const Shape& x, const std::vector<bool>& reduced, bool max, std::vector<std::size_t> prep)
      : r_(x, reduced), max_(max), prep_(std::move(prep)) {}
  void run(const Arithmetic&, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const std::vector<double>& x = in[0]->data;
    std::vector<double>& y = out[0]->data;
    for (std::size_t o = 0; o < r_.bases.size(); ++o) {
      // An empty reduction gives the identity of max (-Inf) or min (+Inf), as ONNX defines.
      double m = max_ ? -INFINITY : INFINITY;
      for (std::int64_t t : r_.terms) {
        const double v = x[r_.bases[o] + t];
        if (std::isnan(v) || (max_ ? v > m : v < m)) m = v;
        if (std::isnan(m)) break;  // a NaN stays
      }
      y[o] = m;
    }
  }
  bool exact() const override { return true; }
  std::vector<std::size_t> preparation_inputs() const override { return prep_; }
  void bound(const bounds::BoundRequest& req) const override { extremum_bound(req); }

 private:
  void extremum_bound(const bounds::BoundRequest& req) const {
    for (std::size_t o = 0; o < r_.bases.size(); ++o) {
      req.det[0]->data[o] = largest_bound(*req.inputs[0].err, r_.bases[o], r_.terms);
      req.prob[0]->data[o] = largest_bound(*req.inputs[0].err_prob, r_.bases[o], r_.terms);
    }
    if (req.failure_probability) *req.failure_probability = 0;
  }
  Reduction r_;
  bool max_;
  std::vector<std::size_t> prep_;
};

std::unique_ptr<OpKernel> make_reduce_extremum(const OpContext& ctx, bool max) {
  std::vector<std::size_t> prep;
  bool noop = false;
  const std::vector<bool> reduced = reduced_axes(ctx, prep, noop);
  return std::make_unique<Extremum>(ctx.input_shapes.at(0), reduced, max, prep);
}

/// ArgMax, ArgMin along one axis.
class ArgExtremum : public OpKernel {
 public:
  ArgExtremum(const OpContext& ctx, bool max) : max_(max), last_(ctx.node.attr_int("select_last_index", 0) != 0) {
    const Shape& x = ctx.input_shapes.at(0);
    const int axis = normalize_axis(ctx, ctx.node.attr_int("axis", 0), static_cast<int>(x.size()));
    std::vector<bool> reduced(x.size(), false);
    reduced[static_cast<std::size_t>(axis)] = true;
    const Reduction r(x, reduced);
    terms_ = r.terms;
    bases_ = r.bases;
  }
  void run(const Arithmetic&, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const std::vector<double>& x = in[0]->data;
    for (std::size_t o = 0; o < bases_.size(); ++o) {
      std::size_t best = 0;
      double m = x[bases_[o]];
      for (std::size_t j = 1; j < terms_.size() && !std::isnan(m); ++j) {
        const double v = x[bases_[o] + terms_[j]];
        // The first NaN wins (as numpy's argmax); ties go to the first or, asked, the last.
        const bool better = std::isnan(v) || (max_ ? v > m : v < m) || (last_ && v == m);
        if (better) {
          best = j;
          m = v;
        }
      }
      out[0]->data[o] = static_cast<double>(best);
    }
  }
  bool exact() const override { return true; }
  void bound(const bounds::BoundRequest& req) const override { arg_extremum_bound(req); }

 private:
  /// Every value lies in [lo - err, hi + err] (the chain's and the exact one). For ArgMax the
  /// chain's index j has x_c[j] ≥ max_k lo_k, and the exact index ≥ max_k (lo_k - err_k) =: L:
  /// both are candidates j with hi_j + err_j ≥ L, and they differ by at most the spread of the
  /// candidates (0 when there is one). ArgMin mirrors it. No input error: the same index.
  void arg_extremum_bound(const bounds::BoundRequest& req) const {
    const bounds::Enclosure& x = req.inputs[0];
    for (const bool prob : {false, true}) {
      const Tensor& err = prob ? *x.err_prob : *x.err;
      Tensor& b = prob ? *req.prob[0] : *req.det[0];
      for (std::size_t o = 0; o < bases_.size(); ++o) {
        bool exact = true, finite = true;
        double level = max_ ? -INFINITY : INFINITY;  // L for ArgMax, U for ArgMin
        for (std::int64_t t : terms_) {
          const std::int64_t i = bases_[o] + t;
          const double e = err.data[i];
          exact = exact && e == 0;
          const double far = max_ ? bounds::down(x.lo->data[i] - e) : bounds::up(x.hi->data[i] + e);
          finite = finite && std::isfinite(far) && std::isfinite(e);
          level = max_ ? std::fmax(level, far) : std::fmin(level, far);
        }
        if (exact) {
          b.data[o] = 0;
          continue;
        }
        if (!finite) {
          b.data[o] = INFINITY;
          continue;
        }
        long first = -1, last = -1;
        for (std::size_t j = 0; j < terms_.size(); ++j) {
          const std::int64_t i = bases_[o] + terms_[j];
          const double e = err.data[i];
          const bool candidate = max_ ? bounds::up(x.hi->data[i] + e) >= level : bounds::down(x.lo->data[i] - e) <= level;
          if (!candidate) continue;
          if (first < 0) first = static_cast<long>(j);
          last = static_cast<long>(j);
        }
        b.data[o] = static_cast<double>(last - first);
      }
    }
    if (req.failure_probability) *req.failure_probability = 0;
  }
  bool max_, last_;
  std::vector<std::int64_t> terms_, bases_;
};

}  // namespace

Reduction::Reduction(const Shape& x, const std::vector<bool>& reduced) {
  const std::vector<std::int64_t> stride = strides_of(x);
  for (std::size_t d = 0; d < x.size(); ++d) {
    std::vector<std::int64_t>& list = reduced[d] ? terms : bases;
    std::vector<std::int64_t> grown;
    grown.reserve(list.size() * static_cast<std::size_t>(x[d]));
    for (std::int64_t off : list)
      for (std::int64_t i = 0; i < x[d]; ++i) grown.push_back(off + i * stride[d]);
    list = std::move(grown);
  }
}

std::vector<bool> reduced_axes(const OpContext& ctx, std::vector<std::size_t>& prep, bool& noop) {
  // Axes: an attribute before opset 18 (13 for ReduceSum), an input since; int_list_param
  // reads either.
  const std::vector<std::int64_t> given = int_list_param(ctx.graph, ctx.node, "axes", 1).value_or(std::vector<std::int64_t>{});
  prep.clear();
  if (ctx.has_input(1)) prep = {1};
  const Shape& x = ctx.input_shapes.at(0);
  const int rank = static_cast<int>(x.size());
  noop = given.empty() && ctx.node.attr_int("noop_with_empty_axes", 0) != 0;
  std::vector<bool> reduced(x.size(), given.empty() && !noop);
  for (std::int64_t axis : given) {
    const int d = normalize_axis(ctx, axis, rank);
    if (reduced[static_cast<std::size_t>(d)]) ctx.fail(fmt::format("axis {} is given twice", axis));
    reduced[static_cast<std::size_t>(d)] = true;
  }
  return reduced;
}

void register_select_reduce_ops(std::vector<OpRegistration>& r) {
  r.push_back({"ReduceMax", [](const OpContext& ctx) { return make_reduce_extremum(ctx, true); }});
  r.push_back({"ReduceMin", [](const OpContext& ctx) { return make_reduce_extremum(ctx, false); }});
  r.push_back({"GlobalMaxPool", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> {
                 const Shape& x = ctx.input_shapes.at(0);
                 std::vector<bool> reduced(x.size(), true);
                 reduced[0] = reduced[1] = false;  // [N, C, spatial...]: the planes
                 return std::make_unique<Extremum>(x, reduced, true, std::vector<std::size_t>{});
               }});
  r.push_back({"ArgMax", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<ArgExtremum>(ctx, true); }});
  r.push_back({"ArgMin", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<ArgExtremum>(ctx, false); }});
}

}  // namespace fpaudit::ops
