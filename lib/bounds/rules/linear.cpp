// Bound rules of Gemm and MatMul: the dot-product rule (bounds/linear.h) on the operands as the
// kernels read them (lib/kernels/ops/linear.cpp); Einsum's on its offsets (lib/kernels/ops/einsum.cpp).
#include <cmath>

#include "bounds/linear.h"
#include "bounds/reductions.h"
#include "bounds/rules.h"
#include "core/ops/einsum.h"
#include "core/ops/linear.h"

namespace fpaudit::bounds::rules {

namespace {

using ops::GemmGeometry;
using ops::MatMulGeometry;

class GemmRule : public BoundRule, private GemmGeometry {
 public:
  explicit GemmRule(const OpContext& ctx) : GemmGeometry(ctx) {}
  void bound(const BoundRequest& r) const override {
    MatmulBound g = gemm_product(&r.inputs[0], &r.inputs[1], M_, K_, N_, trans_a_, trans_b_);
    if (has_c_) {
      g.bias = &r.inputs[2];
      // C broadcast to M×N as the kernel's c_at() reads it.
      if (c_shape_.size() == 1) g.bias_stride_n = c_shape_[0] == 1 ? 0 : 1;
      if (c_shape_.size() == 2) {
        g.bias_stride_m = c_shape_[0] == 1 ? 0 : c_shape_[1];
        g.bias_stride_n = c_shape_[1] == 1 ? 0 : 1;
      }
    }
    g.scaled = !simple();
    g.alpha = alpha_;
    g.beta = beta_;
    g.ldo = N_;
    g.prob_wanted = r.prob_wanted;
    g.memo = r.memo;
    const double fail = matmul_bound(r.model, r.lambda, g, *r.det[0], *r.prob[0]);
    if (r.failure_probability) *r.failure_probability = fail;
  }
};

class MatMulRule : public BoundRule, private MatMulGeometry {
 public:
  explicit MatMulRule(const OpContext& ctx) : MatMulGeometry(ctx) {}
  void bound(const BoundRequest& r) const override {
    double fail = 0;
    for (std::size_t i = 0; i < a_off_.size(); ++i) {
      MatmulBound g;
      g.M = M_;
      g.K = K_;
      g.N = N_;
      g.A = {&r.inputs[0], a_off_[i], K_, 1};
      g.B = {&r.inputs[1], b_off_[i], N_, 1};
      g.out_offset = static_cast<long>(i) * M_ * N_;
      g.ldo = N_;
      g.prob_wanted = r.prob_wanted;
      g.memo = r.memo;
      fail = std::fmax(fail, matmul_bound(r.model, r.lambda, g, *r.det[0], *r.prob[0]));
    }
    if (r.failure_probability) *r.failure_probability = fail;
  }
};

/// Einsum: ReduceSum's rule (one operand) or the dot-product rule (two or more) on each output's
/// offsets. With n ≥ 3 operands the left factor of term k is the product û_k of the first n - 1
/// elements, each step rounded into A (theory/dot-product.md §4): enclosed by its magnitude and
/// its distance from the exact product, then handed to the dot-product rule as an operand.
class EinsumRule : public BoundRule, private ops::EinsumGeometry {
 public:
  explicit EinsumRule(const OpContext& ctx) : EinsumGeometry(ctx) {}
  void bound(const BoundRequest& r) const override {
    double fail = 0;
    const std::size_t n = base_.size(), last = n - 1;
    std::vector<std::int64_t> a(static_cast<std::size_t>(K_)), b(a.size()), own(a.size());
    for (std::size_t k = 0; k < own.size(); ++k) own[k] = static_cast<std::int64_t>(k);
    const Shape terms{K_};
    Tensor lo(terms), hi(terms), err(terms), err_prob(terms);
    const Enclosure products{&lo, &hi, &err, &err_prob};
    for (std::size_t o = 0; o < base_[0].size(); ++o) {
      ElementBound e;
      if (n == 1) {
        e = reduction_bound(r.model, r.lambda, r.inputs[0], static_cast<long>(base_[0][o]), terms_[0].data(), K_, {});
      } else {
        for (std::size_t k = 0; k < a.size(); ++k) {
          a[k] = base_[0][o] + terms_[0][k];
          b[k] = base_[last][o] + terms_[last][k];
        }
        if (n == 2) {
          e = gathered_dot_bound(r.model, r.lambda, r.inputs[0], a.data(), r.inputs[1], b.data(), K_);
        } else {
          for (std::size_t k = 0; k < a.size(); ++k) enclose_product(r, o, k, lo.data[k], hi.data[k], err.data[k], err_prob.data[k]);
          e = gathered_dot_bound(r.model, r.lambda, products, own.data(), r.inputs[last], b.data(), K_);
        }
      }
      r.det[0]->data[o] = e.det;
      r.prob[0]->data[o] = e.prob;
      fail = std::fmax(fail, e.failure);
    }
    if (r.failure_probability) *r.failure_probability = fail;
  }

 private:
  /// Term k of output o, its first n - 1 factors: |û| ≤ m (lo = -m, hi = m), and
  /// |û - Π x̄| ≤ (rounding so far) + |Π x_c - Π x̄|, both followed factor by factor.
  void enclose_product(const BoundRequest& r, std::size_t o, std::size_t k, double& lo, double& hi, double& ed, double& ep) const {
    const std::size_t last = base_.size() - 1;
    auto at = [&](std::size_t i) { return static_cast<long>(base_[i][o] + terms_[i][k]); };
    double m = r.inputs[0].magnitude(at(0)), p = m;  // |û| ≤ m; |Π x_c| ≤ p
    double rounding = 0;                              // |û - Π x_c|
    double dd = r.inputs[0].err->data[at(0)], dp = r.inputs[0].err_prob->data[at(0)];  // |Π x_c - Π x̄|
    for (std::size_t i = 1; i < last; ++i) {
      const Enclosure& x = r.inputs[i];
      const double xm = x.magnitude(at(i)), xd = x.err->data[at(i)], xp = x.err_prob->data[at(i)];
      // |PQ - P̄Q̄| ≤ |P - P̄|·(|Q| + E_Q) + |P|·E_Q; û_i = round_A(û_{i-1}·x_i).
      dd = up(up(dd * up(xm + xd)) + up(p * xd));
      dp = up(up(dp * up(xm + xp)) + up(p * xp));
      p = up(p * xm);
      const double s = up(m * xm), step = r.model.acc.error(s);
      rounding = up(up(rounding * xm) + step);
      m = up(s + step);
    }
    lo = -m;
    hi = m;
    ed = nan_to_inf(up(rounding + dd));
    ep = nan_to_inf(up(rounding + dp));
  }
};

}  // namespace

void register_linear_rules(std::vector<BoundRuleRegistration>& r) {
  r.push_back({"Gemm", prepared<GemmRule>()});
  r.push_back({"MatMul", prepared<MatMulRule>()});
  r.push_back({"Einsum", prepared<EinsumRule>()});
}

}  // namespace fpaudit::bounds::rules
