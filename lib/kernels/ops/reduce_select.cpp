// Reductions that select instead of rounding: ReduceMax, ReduceMin and GlobalMaxPool (the
// largest or smallest of the reduced elements) and ArgMax, ArgMin (the index of the first, or
// with select_last_index the last, extremum along one axis; exact small integers). Nothing is
// rounded, in any arithmetic.
//
// Bounds. |max_i a_i - max_i b_i| ≤ max_i |a_i - b_i|, and the same for min: the largest input
// bound over the reduced elements passes through (extremum_bound). An index is discontinuous:
// where two elements are too close for the input bounds to tell apart, the chain's index and the
// exact one may differ, by at most the distance between the farthest such candidates
// (arg_extremum_bound). The rules live in lib/bounds/rules/runtime_select.cpp; the reduction
// geometry both read is lib/core/ops/reduction_layout.h.
#include <cmath>

#include "core/ops/reduction_layout.h"
#include "kernels/ops/ops.h"

namespace fpaudit::ops {

namespace {

/// ReduceMax, ReduceMin, GlobalMaxPool.
class Extremum : public OpKernel, private ExtremumReduction {
 public:
  Extremum(const OpContext& ctx, bool max, bool global) : ExtremumReduction(ctx, global), max_(max) {}
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

 private:
  bool max_;
};

/// ArgMax, ArgMin along one axis.
class ArgExtremum : public OpKernel, private ArgReduction {
 public:
  ArgExtremum(const OpContext& ctx, bool max) : ArgReduction(ctx), max_(max) {}
  void run(const Arithmetic&, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const std::vector<double>& x = in[0]->data;
    for (std::size_t o = 0; o < r_.bases.size(); ++o) {
      std::size_t best = 0;
      double m = x[r_.bases[o]];
      for (std::size_t j = 1; j < r_.terms.size() && !std::isnan(m); ++j) {
        const double v = x[r_.bases[o] + r_.terms[j]];
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

 private:
  bool max_;
};

}  // namespace

void register_select_reduce_ops(std::vector<OpRegistration>& r) {
  r.push_back({"ReduceMax", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<Extremum>(ctx, true, false); }});
  r.push_back({"ReduceMin", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<Extremum>(ctx, false, false); }});
  r.push_back({"GlobalMaxPool", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<Extremum>(ctx, true, true); }});
  r.push_back({"ArgMax", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<ArgExtremum>(ctx, true); }});
  r.push_back({"ArgMin", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<ArgExtremum>(ctx, false); }});
}

}  // namespace fpaudit::ops
