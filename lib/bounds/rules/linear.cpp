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
    MatmulBound g;
    g.M = M_;
    g.K = K_;
    g.N = N_;
    // a(m, k) = A'[m][k]; b(k, n) = B'[k][n] (see the kernel's run()).
    g.A = {&r.inputs[0], 0, trans_a_ ? 1 : K_, trans_a_ ? M_ : 1};
    g.B = {&r.inputs[1], 0, trans_b_ ? 1 : N_, trans_b_ ? K_ : 1};
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
      fail = std::fmax(fail, matmul_bound(r.model, r.lambda, g, *r.det[0], *r.prob[0]));
    }
    if (r.failure_probability) *r.failure_probability = fail;
  }
};

/// Einsum: ReduceSum's rule (one operand) or the dot-product rule (two) on each output's offsets.
class EinsumRule : public BoundRule, private ops::EinsumGeometry {
 public:
  explicit EinsumRule(const OpContext& ctx) : EinsumGeometry(ctx) {}
  void bound(const BoundRequest& r) const override {
    double fail = 0;
    std::vector<std::int64_t> a(static_cast<std::size_t>(K_)), b(a.size());
    for (std::size_t o = 0; o < base_[0].size(); ++o) {
      ElementBound e;
      if (base_.size() == 1) {
        e = reduction_bound(r.model, r.lambda, r.inputs[0], static_cast<long>(base_[0][o]), terms_[0].data(), K_, {});
      } else {
        for (std::size_t k = 0; k < a.size(); ++k) {
          a[k] = base_[0][o] + terms_[0][k];
          b[k] = base_[1][o] + terms_[1][k];
        }
        e = gathered_dot_bound(r.model, r.lambda, r.inputs[0], a.data(), r.inputs[1], b.data(), K_);
      }
      r.det[0]->data[o] = e.det;
      r.prob[0]->data[o] = e.prob;
      fail = std::fmax(fail, e.failure);
    }
    if (r.failure_probability) *r.failure_probability = fail;
  }
};

}  // namespace

void register_linear_rules(std::vector<BoundRuleRegistration>& r) {
  r.push_back({"Gemm", prepared<GemmRule>()});
  r.push_back({"MatMul", prepared<MatMulRule>()});
  r.push_back({"Einsum", prepared<EinsumRule>()});
}

}  // namespace fpaudit::bounds::rules
