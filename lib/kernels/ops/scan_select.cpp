// CumSum and Hardmax on runtime data.
//   CumSum: output j along the axis is the sum of its terms (lib/core/ops/cumsum.h) in the
//   accumulation format by the chain's schedule, rounded into storage: each output is a ReduceSum
//   of its own prefix (or suffix), so its bound is ReduceSum's. An empty sum (exclusive, first
//   position) is an exact 0.
//   Sum, Mean: y = round_S(Σ_A x_i) over the broadcast operands, summed in the accumulation
//   format by the chain's schedule (Mean: round_S(ŝ / n)); a ReduceSum/ReduceMean of n terms.
//   Hardmax: 1 at the first largest element along the axis (the first NaN, as numpy's argmax),
//   0 elsewhere; exact. Geometry as Softmax's (opset < 13 flattens at the axis).
#include <cmath>

#include "core/ops/broadcast.h"
#include "core/ops/cumsum.h"
#include "core/ops/softmax.h"
#include "kernels/ops/ops.h"

namespace fpaudit::ops {

namespace {

class CumSum : public OpKernel, private CumSumGeometry {
 public:
  explicit CumSum(const OpContext& ctx) : CumSumGeometry(ctx) {}
  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const std::vector<double>& x = in[0]->data;
    std::vector<double>& y = out[0]->data;
    std::vector<double> gathered(static_cast<std::size_t>(length_));
    for (long o = 0; o < outer_; ++o)
      for (long i = 0; i < inner_; ++i) {
        const long base = this->base(o, i);
        for (long j = 0; j < length_; ++j) {
          const std::vector<std::int64_t>& t = terms_[static_cast<std::size_t>(j)];
          for (std::size_t k = 0; k < t.size(); ++k) gathered[k] = x[static_cast<std::size_t>(base + t[k])];
          const auto n = static_cast<long>(t.size());
          y[static_cast<std::size_t>(base + j * inner_)] = n == 0 ? 0.0 : a.round(a.sum(gathered.data(), 1, n), Target::Storage);
        }
      }
  }
  std::vector<std::size_t> preparation_inputs() const override { return prep_; }
};

class VariadicSum : public OpKernel {
 public:
  VariadicSum(const OpContext& ctx, bool mean) : mean_(mean), bc_(ctx.input_shapes, ctx.output_shapes.at(0)) {}
  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    std::vector<double> terms(in.size());
    const auto n = static_cast<long>(in.size());
    bc_.for_each([&](std::int64_t o, const std::int64_t* off) {
      for (std::size_t i = 0; i < in.size(); ++i) terms[i] = in[i]->data[static_cast<std::size_t>(off[i])];
      const double s = a.sum(terms.data(), 1, n);
      out[0]->data[static_cast<std::size_t>(o)] = mean_ ? a.div(s, static_cast<double>(n)) : a.round(s, Target::Storage);
    });
  }

 private:
  bool mean_;
  Broadcast bc_;
};

class Hardmax : public OpKernel, private SoftmaxGeometry {
 public:
  explicit Hardmax(const OpContext& ctx) : SoftmaxGeometry(ctx) {}
  void run(const Arithmetic&, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const std::vector<double>& x = in[0]->data;
    std::vector<double>& y = out[0]->data;
    for (long o = 0; o < outer_; ++o)
      for (long i = 0; i < inner_; ++i) {
        const long base = o * length_ * inner_ + i;
        long best = 0;
        for (long j = 0; j < length_; ++j) {
          y[static_cast<std::size_t>(base + j * inner_)] = 0;
          const double v = x[static_cast<std::size_t>(base + j * inner_)], m = x[static_cast<std::size_t>(base + best * inner_)];
          if (!std::isnan(m) && (std::isnan(v) || v > m)) best = j;
        }
        if (length_ > 0) y[static_cast<std::size_t>(base + best * inner_)] = 1;
      }
  }
  bool exact() const override { return true; }
};

}  // namespace

void register_scan_select_ops(std::vector<OpRegistration>& r) {
  r.push_back({"CumSum", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<CumSum>(ctx); }});
  r.push_back({"Sum", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<VariadicSum>(ctx, false); }});
  r.push_back({"Mean", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<VariadicSum>(ctx, true); }});
  r.push_back({"Hardmax", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<Hardmax>(ctx); }});
}

}  // namespace fpaudit::ops
