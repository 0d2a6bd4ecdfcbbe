// Backward passes of the transformer's operators: batched MatMul, Softmax, the mean and sum
// reductions (LayerNormalization: backward_normalization.cpp). Every sum is one checked call of the chain's gemm, dot or sum
// (Theorem 1); every other operation rounds once into storage and is checked as one rounding.
#include <string>

#include "core/ops/linear.h"
#include "core/ops/reduction_layout.h"
#include "core/ops/softmax.h"
#include "train/backward_ops.h"

namespace fpaudit::train {

namespace {

std::span<const double> part(const std::vector<double>& v, std::int64_t at, std::int64_t n) {
  return {v.data() + at, static_cast<std::size_t>(n)};
}

/// Whether offsets step by `size` from the first (each batch its own matrix) or all coincide
/// (one matrix broadcast over the batch).
bool consecutive(const std::vector<std::int64_t>& off, std::int64_t size) {
  for (std::size_t i = 0; i < off.size(); ++i)
    if (off[i] != off[0] + static_cast<std::int64_t>(i) * size) return false;
  return true;
}
bool shared(const std::vector<std::int64_t>& off) {
  for (std::int64_t o : off)
    if (o != off[0]) return false;
  return true;
}

/// MatMul Y_i = A_i·B_i over the output batch i: dA_i = dY_i·B_iᵀ, dB_i = A_iᵀ·dY_i. A matrix
/// broadcast over the batch (a weight [K, N] under activations [.., M, K]) gets the sum over the
/// batch as one GEMM of depth I·M: the batch's rows stacked. (A broadcast is refused.)
class MatMulBackward : public LayerBackward, private ops::MatMulGeometry {
 public:
  explicit MatMulBackward(const OpContext& ctx) : MatMulGeometry(ctx) {
    const std::int64_t I = static_cast<std::int64_t>(a_off_.size());
    a_own_ = I == 1 || !shared(a_off_);
    b_own_ = I == 1 || !shared(b_off_);
    if (a_own_ && !consecutive(a_off_, M_ * K_)) ctx.fail("train-step differentiates MatMul with whole or no broadcasting of A only");
    if (b_own_ && !consecutive(b_off_, K_ * N_)) ctx.fail("train-step differentiates MatMul with whole or no broadcasting of B only");
    if (!a_own_) ctx.fail("train-step differentiates MatMul with A not broadcast over the batch only");
    for (std::size_t k = 0; k < 2; ++k)
      if (trains(ctx, k)) params_.push_back(k);
  }
  std::vector<std::size_t> parameters() const override { return params_; }
  /// ‖dA‖ ≤ max_i ‖B_i‖_F‖dy‖; ‖dB‖ ≤ max_i ‖A_i‖_F‖dy‖, or ‖A‖_F‖dy‖ over the stacked batch.
  double backward_norm(std::size_t k, std::span<const Tensor* const> in, const Tensor&) const override {
    const std::vector<std::int64_t>& off = k == 0 ? b_off_ : a_off_;
    const std::int64_t size = k == 0 ? K_ * N_ : (b_own_ ? M_ * K_ : static_cast<std::int64_t>(a_off_.size()) * M_ * K_);
    double most = 0;
    for (std::size_t i = 0; i < (k == 1 && !b_own_ ? 1 : off.size()); ++i) most = std::fmax(most, norm_up(part(in[1 - k]->data, off[i], size)));
    return most;
  }
  void run(const BackwardArithmetic& b, std::span<const Tensor* const> in, const Tensor&, const Tensor& dy,
           std::span<Tensor* const> grads) const override {
    const std::int64_t I = static_cast<std::int64_t>(a_off_.size());
    const std::vector<double>&A = in[0]->data, &B = in[1]->data;
    if (grads[0]) {  // dA(m, k) = Σ_n dY(m, n)·B(k, n)
      GemmArgs g;
      g.M = M_, g.N = K_, g.K = N_;
      g.ldw = N_, g.w_step = 1, g.ldx = 1, g.x_step = N_, g.ldy = K_;
      for (std::int64_t i = 0; i < I; ++i) {
        g.W = dy.data.data() + i * M_ * N_;
        g.X = B.data() + b_off_[static_cast<std::size_t>(i)];
        g.Y = grads[0]->data.data() + a_off_[static_cast<std::size_t>(i)] - a_off_[0];
        checked_gemm(b, g, part(dy.data, i * M_ * N_, M_ * N_), part(B, b_off_[static_cast<std::size_t>(i)], K_ * N_));
      }
    }
    if (grads[1]) {  // dB(k, n) = Σ_m A(m, k)·dY(m, n), over the stacked batch when B is shared
      const std::int64_t rows = b_own_ ? M_ : I * M_;
      GemmArgs g;
      g.M = K_, g.N = N_, g.K = rows;
      g.ldw = 1, g.w_step = K_, g.ldx = N_, g.x_step = 1, g.ldy = N_;
      for (std::int64_t i = 0; i < (b_own_ ? I : 1); ++i) {
        g.W = A.data() + a_off_[static_cast<std::size_t>(i)];
        g.X = dy.data.data() + i * M_ * N_;
        g.Y = grads[1]->data.data() + b_off_[static_cast<std::size_t>(i)] - b_off_[0];
        checked_gemm(b, g, part(A, a_off_[static_cast<std::size_t>(i)], rows * K_), part(dy.data, i * M_ * N_, rows * N_));
      }
    }
  }

 private:
  bool a_own_ = true, b_own_ = true;
  std::vector<std::size_t> params_;
};

/// Softmax y along an axis: dx = y ⊙ (dy − Σ dy·y), the sum one checked dot product per row.
class SoftmaxBackward : public LayerBackward, private ops::SoftmaxGeometry {
 public:
  explicit SoftmaxBackward(const OpContext& ctx) : SoftmaxGeometry(ctx) {}
  void run(const BackwardArithmetic& b, std::span<const Tensor* const>, const Tensor& out, const Tensor& dy,
           std::span<Tensor* const> grads) const override {
    const Arithmetic& a = b.a;
    std::vector<double> g(static_cast<std::size_t>(length_)), y(g.size());
    for (long o = 0; o < outer_; ++o)
      for (long i = 0; i < inner_; ++i) {
        const long base = o * length_ * inner_ + i;
        for (long l = 0; l < length_; ++l) {
          g[static_cast<std::size_t>(l)] = dy.data[static_cast<std::size_t>(base + l * inner_)];
          y[static_cast<std::size_t>(l)] = out.data[static_cast<std::size_t>(base + l * inner_)];
        }
        const double s = checked_dot(b, g, y);
        for (long l = 0; l < length_; ++l) {
          const double gl = g[static_cast<std::size_t>(l)], yl = y[static_cast<std::size_t>(l)];
          const double t = checked_round(b, a.sub(gl, s), gl - s);
          grads[0]->data[static_cast<std::size_t>(base + l * inner_)] = checked_round(b, a.mul(yl, t), yl * t);
        }
      }
  }
};

/// ReduceMean (dx = RN(dy / n) to each term) and ReduceSum (dx = dy).
class ReduceBackward : public LayerBackward {
 public:
  ReduceBackward(const OpContext& ctx, bool mean) : mean_(mean), r_(ctx.input_shapes.at(0), axes(ctx)) {}
  bool differentiable(std::size_t i) const override { return i == 0; }
  void run(const BackwardArithmetic& b, std::span<const Tensor* const>, const Tensor&, const Tensor& dy,
           std::span<Tensor* const> grads) const override {
    const double n = static_cast<double>(r_.terms.size());
    for (std::size_t o = 0; o < r_.bases.size(); ++o) {
      const double g = dy.data[o];
      const double share = mean_ ? checked_round(b, b.a.div(g, n), g / n) : g;
      for (std::int64_t t : r_.terms) grads[0]->data[static_cast<std::size_t>(r_.bases[o] + t)] = share;
    }
  }

 private:
  static std::vector<bool> axes(const OpContext& ctx) {
    std::vector<std::size_t> prep;
    bool noop = false;
    std::vector<bool> reduced = ops::reduced_axes(ctx, prep, noop);
    if (noop) reduced.assign(reduced.size(), false);
    return reduced;
  }
  bool mean_;
  ops::Reduction r_;
};

}  // namespace

std::unique_ptr<LayerBackward> make_attention_backward(const OpContext& ctx) {
  const std::string& op = ctx.node.op_type;
  if (op == "MatMul") return std::make_unique<MatMulBackward>(ctx);
  if (op == "Softmax") return std::make_unique<SoftmaxBackward>(ctx);
  if (op == "ReduceMean" || op == "ReduceSum") return std::make_unique<ReduceBackward>(ctx, op == "ReduceMean");
  return nullptr;
}

}  // namespace fpaudit::train
