// ReduceL1, ReduceSumSquare, ReduceL2 and ReduceLogSumExp over runtime data. Each output sums its terms in the
// accumulation format by the chain's schedule, as ReduceSum does:
//   ReduceL1         y = round_S(Σ |x|)        (Arithmetic::sum of the exact |x|)
//   ReduceSumSquare  y = round_S(Σ x·x)        (Arithmetic::dot of the terms with themselves)
//   ReduceL2         y = round_S(√(Σ x·x))     (that dot product, then one rounding of its root)
//   ReduceLogSumExp  y = round_S(log(Σ ê))     ê = round_A(exp(x)) (no max subtracted: ONNX's
//                                               formula, which overflows where exp(x) does)
//   ReduceLogSum     y = round_S(log(Σ x))
// Their bounds reuse the reduction and dot-product rules (lib/bounds/reductions.h, linear.h)
// and, for the root, the elementwise rule of Sqrt (lib/bounds/elementwise.h); they are
// registered in lib/bounds/rules/runtime_rounded.cpp.
#include <cmath>

#include "core/ops/reduction_layout.h"
#include "kernels/ops/ops.h"

namespace fpaudit::ops {

namespace {

enum class Norm { L1, SumSquare, L2, LogSumExp, LogSum };

class NormReduce : public OpKernel, private RoundedReduction {
 public:
  NormReduce(const OpContext& ctx, Norm kind) : RoundedReduction(ctx), kind_(kind) {}
  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const std::vector<double>& x = in[0]->data;
    const auto n = static_cast<long>(r_.terms.size());
    std::vector<double> g(r_.terms.size());
    for (std::size_t o = 0; o < r_.bases.size(); ++o) {
      for (std::size_t j = 0; j < g.size(); ++j) {
        const double v = x[static_cast<std::size_t>(r_.bases[o] + r_.terms[j])];
        g[j] = kind_ == Norm::L1 ? std::fabs(v) : kind_ == Norm::LogSumExp ? a.unary(UnaryFn::Exp, v, Target::Accumulator) : v;
      }
      double& y = out[0]->data[o];
      if (kind_ == Norm::L1) y = a.round(a.sum(g.data(), 1, n), Target::Storage);
      else if (kind_ == Norm::LogSumExp || kind_ == Norm::LogSum) y = a.unary(UnaryFn::Log, a.sum(g.data(), 1, n));
      else if (kind_ == Norm::SumSquare) y = a.round(a.dot(g.data(), 1, g.data(), 1, n), Target::Storage);
      else y = a.unary(UnaryFn::Sqrt, a.dot(g.data(), 1, g.data(), 1, n));
    }
  }
  std::vector<std::size_t> preparation_inputs() const override { return prep_; }

 private:
  Norm kind_;
};

}  // namespace

void register_norm_reduce_ops(std::vector<OpRegistration>& r) {
  r.push_back({"ReduceL1", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<NormReduce>(ctx, Norm::L1); }});
  r.push_back({"ReduceSumSquare", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<NormReduce>(ctx, Norm::SumSquare); }});
  r.push_back({"ReduceL2", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<NormReduce>(ctx, Norm::L2); }});
  r.push_back({"ReduceLogSumExp", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> {
                 return std::make_unique<NormReduce>(ctx, Norm::LogSumExp);
               }});
  r.push_back({"ReduceLogSum", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<NormReduce>(ctx, Norm::LogSum); }});
}

}  // namespace fpaudit::ops
