// ReduceSum and ReduceMean: each output is the sum, in the accumulation format by the chain's
// schedule, of the input elements that reduce onto it in row-major order; ReduceSum rounds it
// into storage, ReduceMean divides by the count with one rounding into storage.
#include <numeric>

#include "core/ops/reduce.h"
#include "kernels/ops/ops.h"

namespace fpaudit::ops {

namespace {

class Reduce : public OpKernel, private ReduceGeometry {
 public:
  Reduce(const OpContext& ctx, bool mean) : ReduceGeometry(ctx, mean) {}

  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const std::vector<double>& x = in[0]->data;
    std::vector<double>& y = out[0]->data;
    if (identity_) {
      y = x;
      return;
    }
    const auto n = static_cast<long>(terms_.size());
    std::vector<double> gathered(strided_ ? 0 : terms_.size());
    for (std::size_t o = 0; o < bases_.size(); ++o) {
      const double* first = x.data() + bases_[o];
      double s = 0;
      if (n > 0 && strided_) {
        s = a.sum(first, step_, n);
      } else {
        for (long j = 0; j < n; ++j) gathered[static_cast<std::size_t>(j)] = first[terms_[static_cast<std::size_t>(j)]];
        s = a.sum(gathered.data(), 1, n);
      }
      y[o] = mean_ ? a.div(s, static_cast<double>(n)) : a.round(s, Target::Storage);
    }
  }
  bool exact() const override { return identity_; }
  std::vector<std::size_t> preparation_inputs() const override { return prep_; }
};

}  // namespace

void register_reduce_ops(std::vector<OpRegistration>& r) {
  r.push_back({"ReduceSum", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<Reduce>(ctx, false); }});
  r.push_back({"ReduceMean", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<Reduce>(ctx, true); }});
}

}  // namespace fpaudit::ops
