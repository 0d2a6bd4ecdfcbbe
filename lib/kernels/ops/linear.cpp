// Gemm and MatMul: every output element is one dot product summed by the chain's schedule in
// its accumulation format (Arithmetic::gemm), with the bias added to the finished sum.
#include <algorithm>
#include <cmath>

#include "core/ops/linear.h"
#include "kernels/ops/batch.h"
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
    std::vector<double> yt(static_cast<std::size_t>(N_ * M_));
    // Right operand A'ᵀ (K×M): A'ᵀ(k, m) = A[k][m] with transA, else A[m][k].
    product(a, in, A.data.data(), trans_a_ ? M_ : 1, trans_a_ ? 1 : K_, A.packs.get(), M_, yt.data());
    // A Gemm without C has two inputs: in[2] does not exist.
    finish(a, has_c_ ? in[2] : nullptr, yt.data(), M_, 0, out[0]->data.data());
  }

  /// The batch's A'ᵀ side by side, K × (samples·M): one GEMM with the shared B and bias (over
  /// as many samples as keep the scratch within kMaxScratchValues).
  void run_batch(const Arithmetic& a, long samples, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    if (!shared_input(in, samples, 1) || (simple() && !shared_input(in, samples, 2))) return OpKernel::run_batch(a, samples, in, out);
    const long per_gemm = samples_per_gemm(samples, M_ * (K_ + N_));
    thread_local std::vector<double> x, yt;
    scratch_of(x, static_cast<std::size_t>(per_gemm * M_ * K_));  // column j of A'ᵀ at x[j·K, (j+1)·K)
    scratch_of(yt, static_cast<std::size_t>(N_ * per_gemm * M_));
    const std::vector<double*> y = output_data(out, samples, 0);
    for (long first = 0; first < samples; first += per_gemm) {
      const long count = std::min(per_gemm, samples - first), cols = count * M_;
      for (long j = 0; j < count; ++j) {
        const double* A = input_of(in, samples, first + j, 0)->data.data();
        for (long m = 0; m < M_; ++m)
          for (long k = 0; k < K_; ++k) x[static_cast<std::size_t>((j * M_ + m) * K_ + k)] = trans_a_ ? A[k * M_ + m] : A[m * K_ + k];
      }
      product(a, in, x.data(), 1, K_, nullptr, cols, yt.data());
      for (long j = 0; j < count; ++j)
        finish(a, input_of(in, samples, first + j, 2), yt.data(), cols, j * M_, y[static_cast<std::size_t>(first + j)]);
    }
  }

 private:
  /// yt (N × cols) = B'ᵀ·X (+ the bias when simple): the left operand B'ᵀ (N×K) is
  /// B'ᵀ(n, k) = B[n][k] with transB, else B[k][n]; X(k, j) = x[k·ldx + j·x_step].
  void product(const Arithmetic& a, std::span<const Tensor* const> in, const double* x, long ldx, long x_step,
               OperandPacks* x_packs, long cols, double* yt) const {
    const Tensor& B = *in[1];
    GemmArgs g;
    g.M = N_;
    g.N = cols;
    g.K = K_;
    g.W = B.data.data();
    g.ldw = trans_b_ ? K_ : 1;
    g.w_step = trans_b_ ? 1 : N_;
    g.X = x;
    g.ldx = ldx;
    g.x_step = x_step;
    g.bias = simple() && has_c_ ? in[2]->data.data() : nullptr;
    g.Y = yt;
    g.ldy = cols;
    g.round_to_storage = simple();
    g.w_packs = B.packs.get();
    g.x_packs = x_packs;
    a.gemm(g);
  }

  /// y (M×N) from columns [first, first + M) of yt (N × cols).
  void finish(const Arithmetic& a, const Tensor* C, const double* yt, long cols, long first, double* y) const {
    for (long m = 0; m < M_; ++m)
      for (long n = 0; n < N_; ++n) {
        double v = yt[n * cols + first + m];
        if (!simple()) {
          // alpha·sum + beta·C with one rounding in the accumulation format, then storage.
          const double c = has_c_ ? a.mul(beta_, c_at(*C, m, n), Target::Accumulator) : 0.0;
          v = a.round(a.fma(alpha_, v, c, Target::Accumulator), Target::Storage);
        }
        y[m * N_ + n] = v;
      }
  }

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

  /// Every sample's A (rows of its batches one after another) stacked into one left operand when
  /// B is shared and broadcast whole to every batch index: one GEMM of samples·batches·M rows
  /// (over as many samples as keep the scratch within kMaxScratchValues).
  void run_batch(const Arithmetic& a, long samples, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    if (!shared_input(in, samples, 1) || !stacked_rows_) return OpKernel::run_batch(a, samples, in, out);
    const long rows = static_cast<long>(a_off_.size()) * M_;  // per sample
    const long per_gemm = samples_per_gemm(samples, rows * (K_ + N_));
    thread_local std::vector<double> w, y;
    scratch_of(w, static_cast<std::size_t>(per_gemm * rows * K_));
    scratch_of(y, static_cast<std::size_t>(per_gemm * rows * N_));
    const std::vector<double*> out_y = output_data(out, samples, 0);
    for (long first = 0; first < samples; first += per_gemm) {
      const long count = std::min(per_gemm, samples - first);
      for (long j = 0; j < count; ++j) {
        const std::vector<double>& A = input_of(in, samples, first + j, 0)->data;
        std::copy(A.begin(), A.begin() + rows * K_, w.begin() + j * rows * K_);
      }
      GemmArgs g;
      g.M = count * rows;
      g.N = N_;
      g.K = K_;
      g.W = w.data();
      g.ldw = K_;
      g.X = in[1]->data.data();
      g.ldx = N_;
      g.Y = y.data();
      g.ldy = N_;
      g.x_packs = in[1]->packs.get();
      a.gemm(g);
      for (long j = 0; j < count; ++j)
        std::copy_n(y.begin() + j * rows * N_, rows * N_, out_y[static_cast<std::size_t>(first + j)]);
    }
  }

 private:
  /// Every batch index reads B's one matrix and its own consecutive A matrix.
  bool stacked_rows_ = [this] {
    for (std::size_t i = 0; i < a_off_.size(); ++i)
      if (b_off_[i] != 0 || a_off_[i] != static_cast<std::int64_t>(i) * M_ * K_) return false;
    return true;
  }();
};

}  // namespace

void register_linear_ops(std::vector<OpRegistration>& r) {
  r.push_back({"Gemm", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<Gemm>(ctx); }});
  r.push_back({"MatMul", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<MatMul>(ctx); }});
}

}  // namespace fpaudit::ops
