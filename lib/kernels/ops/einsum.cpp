// Einsum (core/ops/einsum.h): each output element is a sum (one operand) or a dot product (two
// or more) over the summed labels' combinations in one fixed order, summed by the chain's
// schedule in its accumulation format and rounded once into storage, as ReduceSum and MatMul
// are. With three or more operands, the first n - 1 factors of each term are multiplied left to
// right, each product rounded into A, and the dot product takes that against the last factor.
// Where nothing is summed (K = 1) the element is a copy (one operand) or one product rounded
// once (two). The bound rules are ReduceSum's and MatMul's on the same offsets
// (lib/bounds/rules/linear.cpp).
#include "core/ops/einsum.h"
#include "kernels/ops/ops.h"

namespace fpaudit::ops {

namespace {

class Einsum : public OpKernel, private EinsumGeometry {
 public:
  explicit Einsum(const OpContext& ctx) : EinsumGeometry(ctx) {}

  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    std::vector<double>& y = out[0]->data;
    std::vector<double> u(static_cast<std::size_t>(K_)), v(u.size());
    const std::size_t n = base_.size(), last = n - 1;
    for (std::size_t o = 0; o < y.size(); ++o) {
      const double* p = in[0]->data.data() + base_[0][o];
      for (std::size_t k = 0; k < u.size(); ++k) u[k] = p[terms_[0][k]];
      if (n == 1) {
        y[o] = a.round(a.sum(u.data(), 1, K_), Target::Storage);
        continue;
      }
      for (std::size_t i = 1; i < last; ++i) {
        const double* f = in[i]->data.data() + base_[i][o];
        for (std::size_t k = 0; k < u.size(); ++k) u[k] = a.mul(u[k], f[terms_[i][k]], Target::Accumulator);
      }
      const double* q = in[last]->data.data() + base_[last][o];
      for (std::size_t k = 0; k < v.size(); ++k) v[k] = q[terms_[last][k]];
      y[o] = a.round(a.dot(u.data(), 1, v.data(), 1, K_), Target::Storage);
    }
  }
};

}  // namespace

void register_einsum_ops(std::vector<OpRegistration>& r) {
  r.push_back({"Einsum", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<Einsum>(ctx); }});
}

}  // namespace fpaudit::ops
