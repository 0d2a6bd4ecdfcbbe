// Einsum with one or two operands (core/ops/einsum.h): each output element is a sum (one
// operand) or a dot product (two) over the summed labels' combinations in one fixed order,
// summed by the chain's schedule in its accumulation format and rounded once into storage, as
// ReduceSum and MatMul are. Where nothing is summed (K = 1) the element is a copy (one operand)
// or one product rounded once (two). The bound rules are ReduceSum's and MatMul's on the same
// offsets (lib/bounds/rules/linear.cpp).
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
    const double* x0 = in[0]->data.data();
    const double* x1 = base_.size() > 1 ? in[1]->data.data() : nullptr;
    for (std::size_t o = 0; o < y.size(); ++o) {
      const double* p = x0 + base_[0][o];
      for (std::size_t k = 0; k < u.size(); ++k) u[k] = p[terms_[0][k]];
      if (x1 == nullptr) {
        y[o] = a.round(a.sum(u.data(), 1, K_), Target::Storage);
        continue;
      }
      const double* q = x1 + base_[1][o];
      for (std::size_t k = 0; k < v.size(); ++k) v[k] = q[terms_[1][k]];
      y[o] = a.round(a.dot(u.data(), 1, v.data(), 1, K_), Target::Storage);
    }
  }
};

}  // namespace

void register_einsum_ops(std::vector<OpRegistration>& r) {
  r.push_back({"Einsum", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<Einsum>(ctx); }});
}

}  // namespace fpaudit::ops
