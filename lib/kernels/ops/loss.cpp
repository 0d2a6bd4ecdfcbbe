// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss with constant target and weight: each
// loss output is y = round_S(Σ_k ĉ_k·x[source_k]), a dot product in the accumulation format by
// the chain's schedule with the coefficients ĉ_k = round_S(c_k) of lib/core/ops/loss.h (the
// exact network's are the binary64 c_k), like Resize's linear interpolation. An output with no
// term (an ignored element, reduction none) is an exact 0. SoftmaxCrossEntropyLoss first forms
// the log probabilities along axis 1 with LogSoftmax's kernel (softmax_row) and reads those;
// they are its optional second output.
#include "core/ops/loss.h"
#include "kernels/ops/ops.h"

namespace fpaudit::ops {

namespace {

class Loss : public OpKernel, private LossGeometry {
 public:
  Loss(const OpContext& ctx, bool softmax) : LossGeometry(ctx), softmax_(softmax) {}

  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const double* x = in[0]->data.data();
    Tensor scratch;
    if (softmax_) {
      Tensor* log_prob = out.size() > 1 && out[1] != nullptr ? out[1] : &scratch;
      if (log_prob == &scratch) scratch = Tensor(in[0]->shape);
      std::vector<double> d(static_cast<std::size_t>(classes_)), e(static_cast<std::size_t>(classes_));
      for (long o = 0; o < outer_; ++o)
        for (long i = 0; i < inner_; ++i)
          softmax_row(a, x, log_prob->data.data(), {o * classes_ * inner_ + i, classes_, inner_}, true, d, e);
      x = log_prob->data.data();
    }
    std::vector<double> values, weights;
    std::vector<double>& y = out[0]->data;
    for (std::size_t p = 0; p < y.size(); ++p) {
      const auto first = static_cast<std::size_t>(start_[p]), n = static_cast<std::size_t>(start_[p + 1]) - first;
      values.resize(n);
      weights.resize(n);
      for (std::size_t k = 0; k < n; ++k) {
        values[k] = x[source_[first + k]];
        weights[k] = a.round(coefficient_[first + k]);
      }
      y[p] = n == 0 ? 0.0 : a.round(a.dot(values.data(), 1, weights.data(), 1, static_cast<long>(n)), Target::Storage);
    }
  }
  std::vector<std::size_t> preparation_inputs() const override { return prep_; }

 private:
  bool softmax_;
};

}  // namespace

void register_loss_ops(std::vector<OpRegistration>& r) {
  r.push_back({"NegativeLogLikelihoodLoss", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<Loss>(ctx, false); }});
  r.push_back({"SoftmaxCrossEntropyLoss", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<Loss>(ctx, true); }});
}

}  // namespace fpaudit::ops
