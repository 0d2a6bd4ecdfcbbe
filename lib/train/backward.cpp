#include "train/backward.h"

#include <cmath>
#include <string>

#include <fmt/format.h>

#include "bounds/transfer.h"
#include "core/ops/conv.h"
#include "core/ops/linear.h"
#include "core/ops/pool.h"
#include "train/backward_ops.h"

namespace fpaudit::train {

namespace {

std::span<const double> all(const Tensor& t) { return {t.data.data(), t.data.size()}; }

/// Gemm Y = A'·B' + C with alpha = beta = 1, A not transposed and C one bias per feature (the
/// form exporters write for a linear layer). A [M, K], B' (k, n) = B[n][k] with transB.
class GemmBackward : public LayerBackward, private ops::GemmGeometry {
 public:
  explicit GemmBackward(const OpContext& ctx) : GemmGeometry(ctx) {
    if (!simple() || trans_a_) ctx.fail("train-step differentiates Gemm with alpha = beta = 1, transA = 0 and a per-feature bias only");
  }
  std::vector<std::size_t> parameters() const override { return has_c_ ? std::vector<std::size_t>{1, 2} : std::vector<std::size_t>{1}; }
  /// ‖dA‖ ≤ ‖B‖_F‖dy‖, ‖dB‖ ≤ ‖A‖_F‖dy‖, ‖dC‖ ≤ √M‖dy‖ (Cauchy–Schwarz per element).
  double backward_norm(std::size_t i, std::span<const Tensor* const> in, const Tensor&) const override {
    return i == 2 ? sqrt_up(static_cast<double>(M_)) : norm_up(all(*in[1 - i]));
  }
  void run(const BackwardArithmetic& b, std::span<const Tensor* const> in, const Tensor&, const Tensor& dy,
           std::span<Tensor* const> grads) const override {
    const Tensor& A = *in[0];
    const Tensor& B = *in[1];
    if (grads[0]) {  // dA[m][k] = Σ_n dy[m][n]·B'(k, n)
      GemmArgs g;
      g.M = M_, g.N = K_, g.K = N_;
      g.W = dy.data.data(), g.ldw = N_, g.w_step = 1;
      g.X = B.data.data(), g.ldx = trans_b_ ? K_ : 1, g.x_step = trans_b_ ? 1 : N_;
      g.Y = grads[0]->data.data(), g.ldy = K_;
      checked_gemm(b, g, all(dy), all(B));
    }
    if (grads[1]) {  // dB'(k, n) = Σ_m A[m][k]·dy[m][n], stored in B's layout
      GemmArgs g;
      g.K = M_;
      if (trans_b_) {  // dB[n][k] = Σ_m dy[m][n]·A[m][k]
        g.M = N_, g.N = K_;
        g.W = dy.data.data(), g.ldw = 1, g.w_step = N_;
        g.X = A.data.data(), g.ldx = K_, g.x_step = 1;
        g.Y = grads[1]->data.data(), g.ldy = K_;
        checked_gemm(b, g, all(dy), all(A));
      } else {  // dB[k][n] = Σ_m A[m][k]·dy[m][n]
        g.M = K_, g.N = N_;
        g.W = A.data.data(), g.ldw = 1, g.w_step = K_;
        g.X = dy.data.data(), g.ldx = N_, g.x_step = 1;
        g.Y = grads[1]->data.data(), g.ldy = N_;
        checked_gemm(b, g, all(A), all(dy));
      }
    }
    if (has_c_ && grads.size() > 2 && grads[2]) {  // dC[n] = Σ_m dy[m][n]
      std::vector<double> column(static_cast<std::size_t>(M_));
      for (long n = 0; n < N_; ++n) {
        for (long m = 0; m < M_; ++m) column[static_cast<std::size_t>(m)] = dy.data[static_cast<std::size_t>(m * N_ + n)];
        grads[2]->data[static_cast<std::size_t>(n)] = checked_sum(b, column);
      }
    }
  }
};

/// Conv as grouped im2col + GEMM (lib/core/ops/conv.h). With col_{n,g} the K×P unrolled input
/// of sample n in group g: dW_g = Σ_n dy_{n,g}·col_{n,g}ᵀ (one dot product of N·P terms per
/// weight), and each input element's gradient is one dot product over the (output channel of
/// its group, tap) pairs that read it, in the order of the transposed convolution (channel-major,
/// then tap). Depthwise convolution is the case of one channel per group. ConvTranspose is the
/// same grouped convolution with its weights rearranged (a permutation, ConvTransposeGeometry::
/// rearranged): the weight matrix's gradient is permuted back, exactly.
class ConvBackward : public LayerBackward {
 public:
  ConvBackward(const OpContext& ctx, bool transposed)
      : conv_(transposed ? ops::ConvTransposeGeometry(ctx).conv_ : ops::ConvGeometry(ctx).conv_) {
    has_bias_ = ctx.has_input(2);
    if (transposed) {  // matrix element i is weight element source_[i]
      const ops::ConvTransposeGeometry geometry(ctx);
      std::vector<double> numbers(static_cast<std::size_t>(element_count(ctx.input_shapes.at(1))));
      for (std::size_t i = 0; i < numbers.size(); ++i) numbers[i] = static_cast<double>(i);
      for (double v : geometry.rearranged(numbers)) source_.push_back(static_cast<std::int64_t>(v));
    }
    const std::int64_t P = conv_.out_plane_;
    readers_.resize(static_cast<std::size_t>(conv_.in_plane_));
    for (std::int64_t t = 0; t < conv_.taps_; ++t)
      for (std::int64_t p = 0; p < P; ++p) {
        const std::int32_t src = conv_.table_[static_cast<std::size_t>(t * P + p)];
        if (src != ops::kPadding) readers_[static_cast<std::size_t>(src)].push_back({t, p});
      }
    for (const auto& r : readers_) most_readers_ = std::max(most_readers_, static_cast<long>(r.size()));
  }
  /// With R the most (tap, output) pairs reading one input position: ‖dX‖ ≤ √R‖W‖_F‖dy‖ (the
  /// adjoint of the convolution, whose norm Cauchy–Schwarz bounds so), ‖dW‖ ≤ √R‖X‖₂‖dy‖ (the
  /// im2col matrix's Frobenius norm), ‖db‖ ≤ √(N·P)‖dy‖.
  double backward_norm(std::size_t i, std::span<const Tensor* const> in, const Tensor&) const override {
    if (i == 2) return sqrt_up(static_cast<double>(conv_.batch_ * conv_.out_plane_));
    return bounds::up(sqrt_up(static_cast<double>(most_readers_)) * norm_up(all(*in[i == 0 ? 1 : 0])));
  }
  std::vector<std::size_t> parameters() const override { return has_bias_ ? std::vector<std::size_t>{1, 2} : std::vector<std::size_t>{1}; }
  void run(const BackwardArithmetic& b, std::span<const Tensor* const> in, const Tensor&, const Tensor& dy,
           std::span<Tensor* const> grads) const override {
    const std::int64_t N = conv_.batch_, C = conv_.channels_, G = conv_.groups_, Cg = conv_.group_channels_;
    const std::int64_t Mg = conv_.group_outputs_, M = G * Mg, T = conv_.taps_;
    const std::int64_t P = conv_.out_plane_, I = conv_.in_plane_, K = conv_.depth(), NP = N * P;
    const double* x = in[0]->data.data();
    std::vector<double> matrix;
    if (!source_.empty()) {
      matrix.resize(source_.size());
      for (std::size_t i = 0; i < source_.size(); ++i) matrix[i] = in[1]->data[static_cast<std::size_t>(source_[i])];
    }
    const double* w = source_.empty() ? in[1]->data.data() : matrix.data();
    // dy as an M × (N·P) matrix: column n·P + p.
    std::vector<double> dym(static_cast<std::size_t>(M * NP));
    for (std::int64_t n = 0; n < N; ++n)
      for (std::int64_t m = 0; m < M; ++m)
        for (std::int64_t p = 0; p < P; ++p) dym[static_cast<std::size_t>(m * NP + n * P + p)] = dy.data[static_cast<std::size_t>((n * M + m) * P + p)];
    if (grads[1]) {
      std::vector<double> col(static_cast<std::size_t>(K * NP)), one(static_cast<std::size_t>(K * P));
      std::vector<double> dmatrix(source_.empty() ? 0 : source_.size());
      double* dw = source_.empty() ? grads[1]->data.data() : dmatrix.data();
      for (std::int64_t g = 0; g < G; ++g) {
        for (std::int64_t n = 0; n < N; ++n) {
          conv_.unroll(x + (n * C + g * Cg) * I, one.data());
          for (std::int64_t k = 0; k < K; ++k)
            for (std::int64_t p = 0; p < P; ++p) col[static_cast<std::size_t>(k * NP + n * P + p)] = one[static_cast<std::size_t>(k * P + p)];
        }
        const std::span<const double> rows = std::span<const double>(dym).subspan(static_cast<std::size_t>(g * Mg * NP), static_cast<std::size_t>(Mg * NP));
        GemmArgs gm;
        gm.M = Mg, gm.N = K, gm.K = NP;
        gm.W = rows.data(), gm.ldw = NP, gm.w_step = 1;
        gm.X = col.data(), gm.ldx = 1, gm.x_step = NP;
        gm.Y = dw + g * Mg * K, gm.ldy = K;
        checked_gemm(b, gm, rows, col);
      }
      for (std::size_t i = 0; i < source_.size(); ++i) grads[1]->data[static_cast<std::size_t>(source_[i])] = dmatrix[i];
    }
    if (has_bias_ && grads.size() > 2 && grads[2])
      for (std::int64_t m = 0; m < M; ++m)
        grads[2]->data[static_cast<std::size_t>(m)] = checked_sum(b, std::span<const double>(dym).subspan(static_cast<std::size_t>(m * NP), static_cast<std::size_t>(NP)));
    if (grads[0]) {
      std::vector<double> u, v;
      for (std::int64_t n = 0; n < N; ++n)
        for (std::int64_t ch = 0; ch < C; ++ch) {
          const std::int64_t g = ch / Cg, c = ch % Cg;
          for (std::int64_t i = 0; i < I; ++i) {
            u.clear(), v.clear();
            for (std::int64_t m = g * Mg; m < (g + 1) * Mg; ++m)
              for (const Reader& r : readers_[static_cast<std::size_t>(i)]) {
                u.push_back(w[m * K + c * T + r.tap]);
                v.push_back(dy.data[static_cast<std::size_t>((n * M + m) * P + r.position)]);
              }
            grads[0]->data[static_cast<std::size_t>((n * C + ch) * I + i)] = u.empty() ? 0.0 : checked_dot(b, u, v);
          }
        }
    }
  }

 private:
  struct Reader {
    std::int64_t tap, position;
  };
  ops::GroupedConvolution conv_;
  std::vector<std::int64_t> source_;  ///< ConvTranspose: the weight element of each matrix element
  long most_readers_ = 0;
  std::vector<std::vector<Reader>> readers_;  ///< per input position: the (tap, output) pairs reading it
  bool has_bias_ = false;
};

class ReluBackward : public LayerBackward {
 public:
  double backward_norm(std::size_t, std::span<const Tensor* const>, const Tensor&) const override { return 1; }
  void run(const BackwardArithmetic&, std::span<const Tensor* const> in, const Tensor&, const Tensor& dy,
           std::span<Tensor* const> grads) const override {
    // The derivative at 0 is taken as 0, as the frameworks do.
    for (std::size_t i = 0; i < dy.data.size(); ++i) grads[0]->data[i] = in[0]->data[i] > 0 ? dy.data[i] : 0.0;
  }
};

/// MaxPool routes each output's gradient to the first window element equal to the maximum;
/// AveragePool spreads dy/count over its window. Where windows overlap, an input's shares are
/// summed in storage, one rounding per addition.
class PoolBackward : public LayerBackward, private ops::PoolGeometry {
 public:
  PoolBackward(const OpContext& ctx, bool max) : PoolGeometry(ctx, max) {
    std::vector<long> windows(static_cast<std::size_t>(in_plane_), 0);
    for (std::int32_t src : windows_.source) most_windows_ = std::max(most_windows_, ++windows[static_cast<std::size_t>(src)]);
  }
  /// MaxPool: an element receives from at most W windows, ‖dx‖ ≤ √W‖dy‖. AveragePool without
  /// overlap: ‖dx‖ ≤ ‖dy‖; with overlap its shares are added unchecked, so no bound.
  double backward_norm(std::size_t, std::span<const Tensor* const>, const Tensor&) const override {
    if (max_) return sqrt_up(static_cast<double>(most_windows_));
    return most_windows_ <= 1 ? 1.0 : NAN;
  }
  void run(const BackwardArithmetic& b, std::span<const Tensor* const> in, const Tensor& out, const Tensor& dy,
           std::span<Tensor* const> grads) const override {
    const Arithmetic& a = b.a;
    std::vector<double>& dx = grads[0]->data;
    std::fill(dx.begin(), dx.end(), 0.0);
    std::vector<char> touched(dx.size(), 0);
    for (std::int64_t plane = 0; plane < planes_; ++plane) {
      const double* xp = in[0]->data.data() + plane * in_plane_;
      for (std::int64_t p = 0; p < out_plane_; ++p) {
        const std::int32_t* first = windows_.source.data() + windows_.start[p];
        const std::int64_t n = windows_.start[p + 1] - windows_.start[p];
        const double g = dy.data[static_cast<std::size_t>(plane * out_plane_ + p)];
        auto give = [&](std::int32_t src, double share) {
          const std::size_t at = static_cast<std::size_t>(plane * in_plane_ + src);
          dx[at] = touched[at] ? a.add(dx[at], share) : share;
          touched[at] = 1;
        };
        if (max_) {
          const double y = out.data[static_cast<std::size_t>(plane * out_plane_ + p)];
          for (std::int64_t k = 0; k < n; ++k)
            if (xp[first[k]] == y) {
              give(first[k], g);
              break;
            }
        } else {
          const double count = windows_.count[static_cast<std::size_t>(p)];
          const double share = checked_round(b, a.div(g, count), g / count, n);
          for (std::int64_t k = 0; k < n; ++k) give(first[k], share);
        }
      }
    }
  }

 private:
  long most_windows_ = 0;
};

class GlobalAveragePoolBackward : public LayerBackward, private ops::GlobalPoolGeometry {
 public:
  explicit GlobalAveragePoolBackward(const OpContext& ctx) : GlobalPoolGeometry(ctx) {}
  double backward_norm(std::size_t, std::span<const Tensor* const>, const Tensor&) const override {
    return bounds::up(1 / std::sqrt(static_cast<double>(plane_)));  // each of P inputs gets dy/P
  }
  void run(const BackwardArithmetic& b, std::span<const Tensor* const>, const Tensor&, const Tensor& dy,
           std::span<Tensor* const> grads) const override {
    const double count = static_cast<double>(plane_);
    for (std::int64_t p = 0; p < planes_; ++p) {
      const double g = dy.data[static_cast<std::size_t>(p)];
      const double share = checked_round(b, b.a.div(g, count), g / count, plane_);
      for (std::int64_t i = 0; i < plane_; ++i) grads[0]->data[static_cast<std::size_t>(p * plane_ + i)] = share;
    }
  }
};

}  // namespace

std::unique_ptr<LayerBackward> make_layer_backward(const OpContext& ctx, BatchNormMode batchnorm) {
  const std::string& op = ctx.node.op_type;
  if (op == "Gemm") return std::make_unique<GemmBackward>(ctx);
  if (op == "Conv" || op == "ConvTranspose") return std::make_unique<ConvBackward>(ctx, op == "ConvTranspose");
  if (op == "Relu") return std::make_unique<ReluBackward>();
  if (op == "MaxPool") return std::make_unique<PoolBackward>(ctx, true);
  if (op == "AveragePool") return std::make_unique<PoolBackward>(ctx, false);
  if (op == "GlobalAveragePool") return std::make_unique<GlobalAveragePoolBackward>(ctx);
  if (std::unique_ptr<LayerBackward> step = make_normalization_backward(ctx, batchnorm)) return step;
  for (auto make : {make_movement_backward, make_elementwise_backward, make_attention_backward})
    if (std::unique_ptr<LayerBackward> step = make(ctx)) return step;
  ctx.fail(fmt::format("train-step has no backward pass for {} yet", op));
}

}  // namespace fpaudit::train
