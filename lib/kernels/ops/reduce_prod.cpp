// ReduceProd over runtime data: each output multiplies its terms in row-major order, every
// product rounded into the accumulation format, and rounds the finished product into storage:
//     p_1 = x_1,  p_j = round_A(p_{j-1}·x_j),  y = round_S(p_n)      (an empty product is 1)
// The references round each product to binary64 (their accumulation format).
#include <cmath>

#include "bounds/model.h"
#include "bounds/transfer.h"
#include "kernels/ops/ops.h"
#include "kernels/ops/reduction_layout.h"

namespace fpaudit::ops {

namespace {

class ReduceProd : public OpKernel {
 public:
  explicit ReduceProd(const OpContext& ctx) : r_(ctx.input_shapes.at(0), axes(ctx)) {}
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
  void bound(const bounds::BoundRequest& req) const override {
    const bounds::Enclosure& x = req.inputs[0];
    for (std::size_t o = 0; o < r_.bases.size(); ++o) {
      req.det[0]->data[o] = product_bound(req.model, x, *x.err, r_.bases[o]);
      req.prob[0]->data[o] = std::fmin(req.det[0]->data[o], product_bound(req.model, x, *x.err_prob, r_.bases[o]));
    }
    if (req.failure_probability) *req.failure_probability = 0;
  }

 private:
  std::vector<bool> axes(const OpContext& ctx) {
    bool noop = false;
    std::vector<bool> reduced = reduced_axes(ctx, prep_, noop);
    if (noop) ctx.fail("noop_with_empty_axes with no axes is not supported for this reduction");
    return reduced;
  }

  /// |y - Π x̄| ≤ rounding + propagation, with m_k ≥ |x_c,k| (the enclosure) and E_k ≥ |x_c,k - x̄_k|:
  ///   rounding: B_j ≥ |p_j - Π_{k≤j} x_c,k| by B_1 = 0, B_j = B_{j-1}·m_j + err_A(P_{j-1}·m_j)
  ///             (|round_A(z) - z| for |z| ≤ P_{j-1}·m_j), P_j ≥ |p_j| by P_1 = m_1,
  ///             P_j = P_{j-1}·m_j + err_A(P_{j-1}·m_j); then err_S(P_n) for the storage rounding;
  ///   propagation: |Π x_c - Π x̄| ≤ Π (m_k + E_k) - Π m_k (expand the product of x̄_k = x_c,k + δ_k).
  /// Every binary64 operation of the bound itself is rounded outward (bounds::up, bounds::down).
  double product_bound(const bounds::ArithmeticModel& m, const bounds::Enclosure& x, const Tensor& err, std::int64_t base) const {
    using bounds::down;
    using bounds::up;
    const std::size_t n = r_.terms.size();
    if (n == 0) return 0;
    double B = 0, P = 0, with_err = 1, without = 1;
    for (std::size_t j = 0; j < n; ++j) {
      const auto i = static_cast<long>(base + r_.terms[j]);
      const double mj = x.magnitude(i), ej = err.data[static_cast<std::size_t>(i)];
      with_err = up(with_err * up(mj + ej));
      without = down(without * mj);
      if (j == 0) {
        P = mj;
        continue;
      }
      const double z = up(P * mj);
      const double step = m.acc.error(z);
      B = up(up(B * mj) + step);
      P = up(z + step);
    }
    const double propagation = up(with_err - std::fmax(without, 0.0));
    return bounds::nan_to_inf(up(up(B + m.storage.error(P)) + propagation));
  }

  std::vector<std::size_t> prep_;
  Reduction r_;
};

}  // namespace

void register_prod_reduce_ops(std::vector<OpRegistration>& r) {
  r.push_back({"ReduceProd", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<ReduceProd>(ctx); }});
}

}  // namespace fpaudit::ops
