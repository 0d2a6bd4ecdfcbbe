// The backward passes against central differences of the reference loss, on the shipped ViT and
// CNN (training-form BatchNorm) and the zoo: each operator's formula checked on the real models,
// whatever mix of operators, branches and broadcasts they hold. The reference gradient is exact
// sums over binary64 values; a central difference with step h has truncation error O(h²) and
// cancellation error O(2^-52·loss/h), both far below the tolerance.
#include <doctest/doctest.h>

#include <cmath>

#include "core/reference_arithmetic.h"
#include "train/train_pass.h"
#include "train_support.h"
#include "zoo_support.h"

namespace fpaudit::test {
namespace {

using train::LossKind;

/// For `per` elements spread over each of (at most) `most` parameters spread over the model, the
/// first and last included: |fd − g| ≤ 1e-4·max|g| of that parameter (+ 1e-9). Returns the
/// number of elements checked.
long check_against_differences(const Plan& plan, const Constant& x, const Constant& labels, LossKind loss,
                               train::BatchNormMode bn, long per, std::size_t most = 1000) {
  const train::TrainableModel m(plan, bn);
  const ExactArithmetic exact;
  const Shape& out = plan.slots()[static_cast<std::size_t>(m.output_slot())].shape;
  const long classes = static_cast<long>(out[1]);
  const long positions = static_cast<long>(element_count(out) / (out[0] * out[1]));
  std::vector<std::vector<double>> w;
  for (int s : m.parameter_slots()) w.push_back(plan.slots()[static_cast<std::size_t>(s)].constant->values);
  auto loss_at = [&](const std::vector<std::vector<double>>& weights) {
    const std::vector<Tensor> constants = train::constants_with(m, exact, weights);  // act reads them
    const Activations act = train::forward(m, exact, constants, x.values);
    return train::loss_value(loss, act.value(m.output_slot()).data, labels.ints, classes, positions);
  };
  const std::vector<Tensor> constants = train::constants_with(m, exact, w);
  const Activations act = train::forward(m, exact, constants, x.values);
  const std::vector<double>& z = act.value(m.output_slot()).data;
  const std::vector<Tensor> g = train::backward(m, exact, act, train::loss_gradient(exact, loss, z, labels.ints, classes, 1.0, positions), nullptr);
  long checked = 0;
  const std::size_t stride = (w.size() + most - 1) / most;
  for (std::size_t k = 0; k < w.size(); ++k) {
    if (k % stride != 0 && k + 1 != w.size()) continue;
    const std::vector<double>& gk = g[static_cast<std::size_t>(m.parameter_slots()[k])].data;
    REQUIRE(gk.size() == w[k].size());
    double largest = 0;
    for (double v : gk) largest = std::fmax(largest, std::fabs(v));
    for (long j = 0; j < per; ++j) {
      const std::size_t i = static_cast<std::size_t>(j) * w[k].size() / static_cast<std::size_t>(per);
      if (j > 0 && i == static_cast<std::size_t>(j - 1) * w[k].size() / static_cast<std::size_t>(per)) continue;
      const double h = 0x1p-20 * std::fmax(std::fabs(w[k][i]), 0x1p-4);
      std::vector<std::vector<double>> up = w, down = w;
      up[k][i] += h, down[k][i] -= h;
      const double fd = (loss_at(up) - loss_at(down)) / (2 * h);
      INFO(plan.slots()[static_cast<std::size_t>(m.parameter_slots()[k])].name << "[" << i << "]: backward " << gk[i] << ", difference " << fd);
      CHECK(std::fabs(fd - gk[i]) <= 1e-4 * largest + 1e-9);
      ++checked;
    }
  }
  return checked;
}

TEST_CASE("ViT (exported LayerNorm, attention, GELU via Erf, residuals): backward = central differences") {
  const Batch b = shipped_batch("vit.onnx", 1);
  CHECK(check_against_differences(*b.planned->plan, b.x, b.y, LossKind::CrossEntropy, train::BatchNormMode::Model, 1) > 40);
}

TEST_CASE("CNN with BatchNorm in training form (batch statistics differentiated): backward = central differences") {
  const Batch b = shipped_batch("cnn.onnx", 3);
  CHECK(check_against_differences(*b.planned->plan, b.x, b.y, LossKind::CrossEntropy, train::BatchNormMode::Train, 3) > 20);
}

TEST_CASE("U-Net (ConvTranspose, skip Concat) with a per-pixel squared-error loss: backward = central differences") {
  const Batch b = zoo_batch("unet", 1);
  CHECK(check_against_differences(*b.planned->plan, b.x, b.y, LossKind::MeanSquared, train::BatchNormMode::Model, 2) > 30);
}

TEST_CASE("Zoo: grouped and depthwise Conv, HardSwish, squeeze-excite Mul; Concat; LayerNormalization; Tanh: backward = central differences") {
  for (const char* model : {"mobilenetv3_small", "squeezenet", "gpt", "bert_embeds"}) {
    INFO(model);
    const Batch b = zoo_batch(model, 1);
    CHECK(check_against_differences(*b.planned->plan, b.x, b.y, LossKind::CrossEntropy, train::BatchNormMode::Model, 2, 16) > 15);
  }
}

}  // namespace
}  // namespace fpaudit::test
