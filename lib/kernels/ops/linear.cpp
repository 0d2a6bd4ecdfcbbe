// Gemm and MatMul: every output element is one dot product summed by the chain's schedule in
// its accumulation format (Arithmetic::gemm), with the bias added to the finished sum.
#include <cmath>

#include "core/ops/linear.h"
#include "kernels/ops/ops.h"

namespace fpaudit::ops {

namespace {

/// Gemm: Y = alpha·A'·B' + beta·C, A' = transA ? Aᵀ : A (M×K), B' = transB ? Bᵀ : B (K×N).
/// Evaluated as Yᵀ = B'ᵀ·A'ᵀ so the weights (B, usually constant) are the left operand whose
/// rows are the output features, and a per-feature bias C is the GEMM's row bias.
class Gemm : public OpKernel, private GemmGeometry {
 public:
  explicit Gemm(const OpContext& ctx) : GemmGeometry(ctx) {}

  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const Tensor& A = *in[0];
    const Tensor& B = *in[1];
    const bool simple = this->simple();
    std::vector<double> yt(static_cast<std::size_t>(N_ * M_));
    // Left operand B'ᵀ (N×K): B'ᵀ(n, k) = B[n][k] with transB, else B[k][n].
    // Right operand A'ᵀ (K×M): A'ᵀ(k, m) = A[k][m] with transA, else A[m][k].
    GemmArgs g;
    g.M = N_;
    g.N = M_;
    g.K = K_;
    g.W = B.data.data();
    g.ldw = trans_b_ ? K_ : 1;
    g.w_step = trans_b_ ? 1 : N_;
    g.X = A.data.data();
    g.ldx = trans_a_ ? M_ : 1;
    g.x_step = trans_a_ ? 1 : K_;
    g.bias = simple && has_c_ ? in[2]->data.data() : nullptr;
    g.Y = yt.data();
    g.ldy = M_;
    g.round_to_storage = simple;
    g.w_packs = B.packs.get();
    g.x_packs = A.packs.get();
    a.gemm(g);
    std::vector<double>& y = out[0]->data;
    for (long m = 0; m < M_; ++m)
      for (long n = 0; n < N_; ++n) {
        double v = yt[n * M_ + m];
        if (!simple) {
          // alpha·sum + beta·C with one rounding in the accumulation format, then storage.
          const double c = has_c_ ? a.mul(beta_, c_at(*in[2], m, n), Target::Accumulator) : 0.0;
          v = a.round(a.fma(alpha_, v, c, Target::Accumulator), Target::Storage);
        }
        y[m * N_ + n] = v;
      }
  }

 private:
  double c_at(const Tensor& c, long m, long n) const {  // unidirectional broadcast of C to M×N
    if (c_shape_.empty()) return c.data[0];
    if (c_shape_.size() == 1) return c.data[c_shape_[0] == 1 ? 0 : n];
    const long rm = c_shape_[0] == 1 ? 0 : m, rn = c_shape_[1] == 1 ? 0 : n;
    return c.data[rm * c_shape_[1] + rn];
  }
};

/// MatMul with numpy semantics: 1-D operands are promoted (and the added dimension removed),
/// leading batch dimensions broadcast.
class MatMul : public OpKernel, private MatMulGeometry {
 public:
  explicit MatMul(const OpContext& ctx) : MatMulGeometry(ctx) {}

  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    for (std::size_t i = 0; i < a_off_.size(); ++i) {
      GemmArgs g;
      g.M = M_;
      g.N = N_;
      g.K = K_;
      g.W = in[0]->data.data() + a_off_[i];
      g.ldw = K_;
      g.X = in[1]->data.data() + b_off_[i];
      g.ldx = N_;
      g.Y = out[0]->data.data() + static_cast<long>(i) * M_ * N_;
      g.ldy = N_;
      g.w_packs = in[0]->packs.get();
      g.x_packs = in[1]->packs.get();
      a.gemm(g);
    }
  }
};

}  // namespace

void register_linear_ops(std::vector<OpRegistration>& r) {
  r.push_back({"Gemm", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<Gemm>(ctx); }});
  r.push_back({"MatMul", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<MatMul>(ctx); }});
}

}  // namespace fpaudit::ops
