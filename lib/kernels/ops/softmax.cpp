// Softmax and LogSoftmax along one axis, as the chains compute them:
//   m = max_j x_j (exact)            d_i = x_i - m (rounded to storage)
//   e_i = exp(d_i) (rounded)         s = Σ e_i (accumulation format, the chain's schedule)
//   Softmax:    y_i = e_i / s (one rounding)
//   LogSoftmax: y_i = d_i - log(s), log(s) rounded in the accumulation format
// Subtracting the maximum keeps exp ≤ 1, so exp never overflows binary16 (it would above 11.09).
#include <cmath>

#include "core/ops/softmax.h"
#include "kernels/ops/ops.h"

namespace fpaudit::ops {

namespace {

class Softmax : public OpKernel, private SoftmaxGeometry {
 public:
  Softmax(const OpContext& ctx, bool log) : SoftmaxGeometry(ctx), log_(log) {}

  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    std::vector<double> d(static_cast<std::size_t>(length_)), e(static_cast<std::size_t>(length_));
    for (long o = 0; o < outer_; ++o)
      for (long i = 0; i < inner_; ++i)
        softmax_row(a, in[0]->data.data(), out[0]->data.data(), {o * length_ * inner_ + i, length_, inner_}, log_, d, e);
  }

 private:
  bool log_;
};

}  // namespace

void softmax_row(const Arithmetic& a, const double* x, double* y, SoftmaxRowAt row, bool log, std::vector<double>& d,
                 std::vector<double>& e) {
  const long base = row.base, length = row.length, stride = row.stride;
  double m = -INFINITY;
  bool nan = false;
  for (long j = 0; j < length; ++j) {
    const double v = x[base + j * stride];
    nan = nan || std::isnan(v);
    m = v > m ? v : m;
  }
  if (nan) {
    for (long j = 0; j < length; ++j) y[base + j * stride] = NAN;
    return;
  }
  for (long j = 0; j < length; ++j) {
    d[j] = a.sub(x[base + j * stride], m);
    e[j] = a.unary(UnaryFn::Exp, d[j]);
  }
  const double s = a.sum(e.data(), 1, length);
  if (log) {
    const double log_s = a.unary(UnaryFn::Log, s, Target::Accumulator);
    for (long j = 0; j < length; ++j) y[base + j * stride] = a.sub(d[j], log_s);
  } else {
    for (long j = 0; j < length; ++j) y[base + j * stride] = a.div(e[j], s);
  }
}

void register_softmax_ops(std::vector<OpRegistration>& r) {
  r.push_back({"Softmax", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<Softmax>(ctx, false); }});
  r.push_back({"LogSoftmax", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<Softmax>(ctx, true); }});
}

}  // namespace fpaudit::ops
