// Resize, modes nearest, linear (N-linear) and cubic, with scales or sizes given as constants.
// Everything that depends only on shapes is worked out at preparation in binary64: each output
// coordinate is mapped back to an input coordinate (coordinate_transformation_mode), then to
// one input element (nearest) or to the corners around it with their interpolation weights
// (linear) or to four neighbours per axis with the cubic convolution weights (cubic, 4^rank
// terms). Nearest is then a copy; linear and cubic are y = Σ_k c_k·x_k, a dot product in the
// accumulation format by the chain's schedule with the weights rounded into storage.
//
// Linear clamps the input coordinate into [0, in−1] first. That is what ONNX's edge padding
// amounts to (both neighbours of a coordinate outside the input are the edge element), and it
// leaves one corner, weight 1, where the coordinate is a whole number: an axis that is not
// resized (scale 1) then costs nothing and contributes no rounding.
#include <algorithm>
#include <cmath>

#include "core/ops/resize.h"
#include "kernels/ops/ops.h"

namespace fpaudit::ops {

namespace {

class Resize : public OpKernel, private ResizeGeometry {
 public:
  explicit Resize(const OpContext& ctx) : ResizeGeometry(ctx) {}

  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const double* x = in[0]->data.data();
    std::vector<double>& y = out[0]->data;
    const double extrapolated = a.round(extrapolation_);
    std::vector<double> values(longest_), weights(longest_);
    for (std::size_t p = 0; p < y.size(); ++p) {
      const std::int64_t first = start_[p], n = start_[p + 1] - first;
      if (n == 0) {
        y[p] = extrapolated;
      } else if (!interpolates_) {
        y[p] = x[source_[static_cast<std::size_t>(first)]];
      } else {
        for (std::int64_t k = 0; k < n; ++k) {
          values[static_cast<std::size_t>(k)] = x[source_[static_cast<std::size_t>(first + k)]];
          weights[static_cast<std::size_t>(k)] = a.round(weight_[static_cast<std::size_t>(first + k)]);
        }
        y[p] = a.round(a.dot(values.data(), 1, weights.data(), 1, n), Target::Storage);
      }
    }
  }
  bool exact() const override { return !interpolates_; }
  std::vector<std::size_t> preparation_inputs() const override { return prep_; }
};

}  // namespace

void register_resize_ops(std::vector<OpRegistration>& r) {
  r.push_back({"Resize", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<Resize>(ctx); }});
}

}  // namespace fpaudit::ops
