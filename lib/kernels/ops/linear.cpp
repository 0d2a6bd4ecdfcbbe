// Gemm and MatMul: every output element is one dot product summed by the chain's schedule in
// its accumulation format (Arithmetic::gemm), with the bias added to the finished sum.
#include <cmath>

#include "bounds/linear.h"
#include "kernels/ops/ops.h"

namespace fpaudit::ops {

namespace {

/// Gemm: Y = alpha·A'·B' + beta·C, A' = transA ? Aᵀ : A (M×K), B' = transB ? Bᵀ : B (K×N).
/// Evaluated as Yᵀ = B'ᵀ·A'ᵀ so the weights (B, usually constant) are the left operand whose
/// rows are the output features, and a per-feature bias C is the GEMM's row bias.
class Gemm : public OpKernel {
 public:
  explicit Gemm(const OpContext& ctx) {
    alpha_ = ctx.node.attr_float("alpha", 1.0);
    beta_ = ctx.node.attr_float("beta", 1.0);
    trans_a_ = ctx.node.attr_int("transA", 0) != 0;
    trans_b_ = ctx.node.attr_int("transB", 0) != 0;
    const Shape& a = ctx.input_shapes.at(0);
    const Shape& b = ctx.input_shapes.at(1);
    if (a.size() != 2 || b.size() != 2) ctx.fail("A and B must be matrices");
    M_ = trans_a_ ? a[1] : a[0];
    K_ = trans_a_ ? a[0] : a[1];
    N_ = trans_b_ ? b[0] : b[1];
    if ((trans_b_ ? b[1] : b[0]) != K_) ctx.fail(fmt::format("inner dimensions differ: A {} B {}", shape_string(a), shape_string(b)));
    if (ctx.has_input(2)) {
      const Shape& c = ctx.input_shapes[2];
      const std::int64_t count = element_count(c);
      // A bias per output feature ([N] or [1, N]) rides in the GEMM; anything else is added after.
      c_per_feature_ = count == N_ && (c.size() == 1 || (c.size() == 2 && c[0] == 1));
      c_shape_ = c;
      has_c_ = true;
    }
  }

  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const Tensor& A = *in[0];
    const Tensor& B = *in[1];
    const bool simple = alpha_ == 1.0 && (!has_c_ || (beta_ == 1.0 && c_per_feature_));
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

  void bound(const bounds::BoundRequest& r) const override {
    const bool simple = alpha_ == 1.0 && (!has_c_ || (beta_ == 1.0 && c_per_feature_));
    bounds::MatmulBound g;
    g.M = M_;
    g.K = K_;
    g.N = N_;
    // a(m, k) = A'[m][k]; b(k, n) = B'[k][n] (see run()).
    g.A = {&r.inputs[0], 0, trans_a_ ? 1 : K_, trans_a_ ? M_ : 1};
    g.B = {&r.inputs[1], 0, trans_b_ ? 1 : N_, trans_b_ ? K_ : 1};
    if (has_c_) {
      g.bias = &r.inputs[2];
      // C broadcast to M×N as c_at() reads it.
      if (c_shape_.size() == 1) g.bias_stride_n = c_shape_[0] == 1 ? 0 : 1;
      if (c_shape_.size() == 2) {
        g.bias_stride_m = c_shape_[0] == 1 ? 0 : c_shape_[1];
        g.bias_stride_n = c_shape_[1] == 1 ? 0 : 1;
      }
    }
    g.scaled = !simple;
    g.alpha = alpha_;
    g.beta = beta_;
    g.ldo = N_;
    const double fail = bounds::matmul_bound(r.model, r.lambda, g, *r.det[0], *r.prob[0]);
    if (r.failure_probability) *r.failure_probability = fail;
  }

 private:
  double c_at(const Tensor& c, long m, long n) const {  // unidirectional broadcast of C to M×N
    if (c_shape_.empty()) return c.data[0];
    if (c_shape_.size() == 1) return c.data[c_shape_[0] == 1 ? 0 : n];
    const long rm = c_shape_[0] == 1 ? 0 : m, rn = c_shape_[1] == 1 ? 0 : n;
    return c.data[rm * c_shape_[1] + rn];
  }
  double alpha_ = 1, beta_ = 1;
  bool trans_a_ = false, trans_b_ = false, has_c_ = false, c_per_feature_ = false;
  long M_ = 0, K_ = 0, N_ = 0;
  Shape c_shape_;
};

/// MatMul with numpy semantics: 1-D operands are promoted (and the added dimension removed),
/// leading batch dimensions broadcast.
class MatMul : public OpKernel {
 public:
  explicit MatMul(const OpContext& ctx) {
    Shape a = ctx.input_shapes.at(0), b = ctx.input_shapes.at(1);
    if (a.empty() || b.empty()) ctx.fail("MatMul of a scalar");
    if (a.size() == 1) a.insert(a.begin(), 1);
    if (b.size() == 1) b.push_back(1);
    M_ = a[a.size() - 2];
    K_ = a.back();
    N_ = b.back();
    if (b[b.size() - 2] != K_) ctx.fail(fmt::format("inner dimensions differ: {} x {}", shape_string(a), shape_string(b)));
    // Batch broadcasting: for each output batch index, the batch offsets into A and B.
    const Shape ab(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2);
    const std::size_t rank = std::max(ab.size(), bb.size());
    Shape batch(rank, 1);
    auto dim = [&](const Shape& s, std::size_t d) { return d + s.size() < rank ? 1 : s[d + s.size() - rank]; };
    for (std::size_t d = 0; d < rank; ++d) {
      const auto x = dim(ab, d), y = dim(bb, d);
      if (x != y && x != 1 && y != 1) ctx.fail("batch dimensions do not broadcast");
      batch[d] = std::max(x, y);
    }
    const std::int64_t batches = element_count(batch);
    for (std::int64_t i = 0; i < batches; ++i) {
      std::int64_t rem = i, oa = 0, ob = 0, sa = 1, sb = 1;
      for (int d = static_cast<int>(rank) - 1; d >= 0; --d) {
        const std::int64_t idx = rem % batch[d];
        rem /= batch[d];
        const auto da = dim(ab, d), db = dim(bb, d);
        oa += (da == 1 ? 0 : idx) * sa;
        ob += (db == 1 ? 0 : idx) * sb;
        sa *= da;
        sb *= db;
      }
      a_off_.push_back(oa * M_ * K_);
      b_off_.push_back(ob * K_ * N_);
    }
  }

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

  void bound(const bounds::BoundRequest& r) const override {
    double fail = 0;
    for (std::size_t i = 0; i < a_off_.size(); ++i) {
      bounds::MatmulBound g;
      g.M = M_;
      g.K = K_;
      g.N = N_;
      g.A = {&r.inputs[0], a_off_[i], K_, 1};
      g.B = {&r.inputs[1], b_off_[i], N_, 1};
      g.out_offset = static_cast<long>(i) * M_ * N_;
      g.ldo = N_;
      fail = std::fmax(fail, bounds::matmul_bound(r.model, r.lambda, g, *r.det[0], *r.prob[0]));
    }
    if (r.failure_probability) *r.failure_probability = fail;
  }

 private:
  long M_ = 0, K_ = 0, N_ = 0;
  std::vector<std::int64_t> a_off_, b_off_;
};

}  // namespace

void register_linear_ops(std::vector<OpRegistration>& r) {
  r.push_back({"Gemm", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<Gemm>(ctx); }});
  r.push_back({"MatMul", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<MatMul>(ctx); }});
}

}  // namespace fpaudit::ops
