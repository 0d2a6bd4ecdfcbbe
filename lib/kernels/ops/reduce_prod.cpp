// ReduceProd over runtime data: each output multiplies its terms in row-major order, every
// product rounded into the accumulation format, and rounds the finished product into storage:
//     p_1 = x_1,  p_j = round_A(p_{j-1}·x_j),  y = round_S(p_n)      (an empty product is 1)
// The references round each product to binary64 (their accumulation format). The bound rule
// (product_bound) lives in lib/bounds/rules/runtime_rounded.cpp.
#include "core/ops/reduction_layout.h"
#include "kernels/ops/ops.h"

namespace fpaudit::ops {

namespace {

class ReduceProd : public OpKernel, private RoundedReduction {
 public:
  explicit ReduceProd(const OpContext& ctx) : RoundedReduction(ctx) {}
  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const std::vector<double>& x = in[0]->data;
    for (std::size_t o = 0; o < r_.bases.size(); ++o) {
      double p = 1;
      for (std::size_t j = 0; j < r_.terms.size(); ++j) {
        const double v = x[static_cast<std::size_t>(r_.bases[o] + r_.terms[j])];
        p = j == 0 ? v : a.mul(p, v, Target::Accumulator);
      }
      out[0]->data[o] = a.round(p, Target::Storage);
    }
  }
  std::vector<std::size_t> preparation_inputs() const override { return prep_; }
};

}  // namespace

void register_prod_reduce_ops(std::vector<OpRegistration>& r) {
  r.push_back({"ReduceProd", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<ReduceProd>(ctx); }});
}

}  // namespace fpaudit::ops
