// Backward passes of the elementwise operators. Binary arithmetic with broadcasting: an input
// element read by several outputs (a bias over the batch, a LayerNorm's per-row statistic) gets
// one checked sum or dot product over its readers, in output order. Activations: dx = RN(dy·d)
// with the derivative d evaluated in the chain's arithmetic from the layer's input and output,
// each operation rounded once into storage, as the forward kernels round.
#include <cmath>
#include <functional>
#include <string>

#include "core/ops/broadcast.h"
#include "core/ops/elementwise.h"
#include "train/backward_ops.h"

namespace fpaudit::train {

namespace {

enum class BinaryOp { Add, Sub, Mul, Div };

/// y = A ∘ B with numpy broadcasting. Per input k, off_[k][o] is the element output o reads.
class BinaryBackward : public LayerBackward {
 public:
  BinaryBackward(const OpContext& ctx, BinaryOp op) : op_(op) {
    const ops::Broadcast bc({ctx.input_shapes.at(0), ctx.input_shapes.at(1)}, ctx.output_shapes.at(0));
    const std::size_t n = static_cast<std::size_t>(element_count(ctx.output_shapes[0]));
    off_[0].resize(n), off_[1].resize(n);
    bc.for_each([&](std::int64_t o, const std::int64_t* offsets) {
      off_[0][static_cast<std::size_t>(o)] = offsets[0];
      off_[1][static_cast<std::size_t>(o)] = offsets[1];
    });
    for (std::size_t k = 0; k < 2; ++k) {
      readers_.emplace_back(off_[k], element_count(ctx.input_shapes[k]));
      if (trains(ctx, k)) params_.push_back(k);
    }
  }
  std::vector<std::size_t> parameters() const override { return params_; }
  /// Add, Sub: √(most readers). Mul: the largest ‖b over an element's readers‖₂. Div: none (its
  /// quotients are summed after rounding).
  double backward_norm(std::size_t k, std::span<const Tensor* const> in, const Tensor&) const override {
    if (op_ == BinaryOp::Add || op_ == BinaryOp::Sub) return readers_[k].norm();
    if (op_ == BinaryOp::Div) return NAN;
    const std::vector<double>& other = in[1 - k]->data;
    double most = 0;
    std::vector<double> v;
    for (std::size_t j = 0; j + 1 < readers_[k].start.size(); ++j) {
      v.clear();
      for (std::int64_t o : readers_[k].of(static_cast<std::int64_t>(j))) v.push_back(other[static_cast<std::size_t>(off_[1 - k][static_cast<std::size_t>(o)])]);
      most = std::fmax(most, norm_up(v));
    }
    return most;
  }
  void run(const BackwardArithmetic& b, std::span<const Tensor* const> in, const Tensor& out, const Tensor& dy,
           std::span<Tensor* const> grads) const override {
    for (std::size_t k = 0; k < 2; ++k)
      if (grads[k]) one_input(b, k, in, out, dy, grads[k]->data);
  }

 private:
  void one_input(const BackwardArithmetic& b, std::size_t k, std::span<const Tensor* const> in, const Tensor& out, const Tensor& dy,
                 std::vector<double>& dx) const {
    const Arithmetic& a = b.a;
    const std::vector<double>& other = in[1 - k]->data;
    const std::vector<std::int64_t>& other_off = off_[1 - k];
    const ReaderLists& r = readers_[k];
    if (op_ == BinaryOp::Add || op_ == BinaryOp::Sub) {
      gather_sums(b, r, dy.data, dx);
      if (op_ == BinaryOp::Sub && k == 1)
        for (double& v : dx) v = -v;  // round to nearest is symmetric: −Σ rounds as Σ negated
      return;
    }
    std::vector<double> u, v;
    for (std::size_t j = 0; j < dx.size(); ++j) {
      u.clear(), v.clear();
      for (std::int64_t o : r.of(static_cast<std::int64_t>(j))) {
        const double g = dy.data[static_cast<std::size_t>(o)];
        const double w = other[static_cast<std::size_t>(other_off[static_cast<std::size_t>(o)])];
        if (op_ == BinaryOp::Mul) {  // d(A·B)/dA = B
          u.push_back(g), v.push_back(w);
        } else if (k == 0) {  // d(A/B)/dA = 1/B: one quotient per reader, then their sum
          u.push_back(checked_round(b, a.div(g, w), g / w));
        } else {  // d(A/B)/dB = −y/B: Σ dy·y over the readers, then one division by B
          u.push_back(g), v.push_back(out.data[static_cast<std::size_t>(o)]);
        }
      }
      if (u.empty()) {
        dx[j] = 0;
      } else if (op_ == BinaryOp::Mul) {
        dx[j] = checked_dot(b, u, v);
      } else if (k == 0) {
        dx[j] = u.size() == 1 ? u[0] : checked_sum(b, u);
      } else {
        const double s = checked_dot(b, u, v), d = in[1]->data[j];
        dx[j] = -checked_round(b, a.div(s, d), s / d);
      }
    }
  }

  BinaryOp op_;
  std::vector<std::int64_t> off_[2];
  std::vector<ReaderLists> readers_;
  std::vector<std::size_t> params_;
};

/// f'(x) from the layer's input x and output y, in arithmetic a.
using Derivative = std::function<double(const Arithmetic& a, double x, double y)>;

/// y = f(x) elementwise: dx = RN(dy·f'(x)), the product checked as one rounding.
class UnaryBackward : public LayerBackward {
 public:
  explicit UnaryBackward(Derivative d) : d_(std::move(d)) {}
  void run(const BackwardArithmetic& b, std::span<const Tensor* const> in, const Tensor& out, const Tensor& dy,
           std::span<Tensor* const> grads) const override {
    for (std::size_t i = 0; i < dy.data.size(); ++i) {
      const double g = dy.data[i], d = d_(b.a, in[0]->data[i], out.data[i]);
      grads[0]->data[i] = checked_round(b, b.a.mul(g, d), g * d);
    }
  }

 private:
  Derivative d_;
};

double clamp01_slope(double alpha, double y) { return y > 0 && y < 1 ? alpha : 0.0; }

}  // namespace

std::unique_ptr<LayerBackward> make_elementwise_backward(const OpContext& ctx) {
  const std::string& op = ctx.node.op_type;
  if (op == "Add") return std::make_unique<BinaryBackward>(ctx, BinaryOp::Add);
  if (op == "Sub") return std::make_unique<BinaryBackward>(ctx, BinaryOp::Sub);
  if (op == "Mul") return std::make_unique<BinaryBackward>(ctx, BinaryOp::Mul);
  if (op == "Div") return std::make_unique<BinaryBackward>(ctx, BinaryOp::Div);
  Derivative d;
  if (op == "Erf") {  // 2/√π · e^{−x²}
    d = [](const Arithmetic& a, double x, double) { return a.mul(a.round(M_2_SQRTPI), a.unary(UnaryFn::Exp, -a.mul(x, x))); };
  } else if (op == "Sqrt") {  // 1 / (2y)
    d = [](const Arithmetic& a, double, double y) { return a.div(0.5, y); };
  } else if (op == "Tanh") {  // 1 − y²
    d = [](const Arithmetic& a, double, double y) { return a.sub(1.0, a.mul(y, y)); };
  } else if (op == "Sigmoid") {  // y (1 − y)
    d = [](const Arithmetic& a, double, double y) { return a.mul(y, a.sub(1.0, y)); };
  } else if (op == "Neg") {
    d = [](const Arithmetic&, double, double) { return -1.0; };
  } else if (op == "Pow") {  // e·x^(e−1) for a constant scalar exponent e
    const Constant* c = ctx.const_inputs.size() > 1 ? ctx.const_inputs[1] : nullptr;
    if (!c || element_count(c->shape) != 1) ctx.fail("train-step differentiates Pow with a constant scalar exponent only");
    const double e = c->values.empty() ? static_cast<double>(c->ints.at(0)) : c->values[0];
    d = [e](const Arithmetic& a, double x, double) { return a.mul(a.round(e), e == 2 ? x : a.pow(x, e - 1)); };
  } else if (op == "HardSigmoid") {  // α where the output is not clamped
    const ops::HardSigmoidParams p = ops::hard_sigmoid_params(ctx);
    d = [p](const Arithmetic& a, double, double y) { return clamp01_slope(a.round(p.alpha), y); };
  } else if (op == "HardSwish") {  // x·h(x): 0 below −3, 1 above 3, x/3 + ½ between
    d = [](const Arithmetic& a, double x, double) { return x <= -3 ? 0.0 : x >= 3 ? 1.0 : a.add(a.div(x, 3.0), 0.5); };
  } else {
    return nullptr;
  }
  auto step = std::make_unique<UnaryBackward>(std::move(d));
  return step;
}

}  // namespace fpaudit::train
