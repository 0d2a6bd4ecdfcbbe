// Backward passes in the exact reference against gradients worked out by hand. Every value is a
// short dyadic number, so the hand computation in binary64 is exact and the comparison is ==.
#include <doctest/doctest.h>

#include <cmath>

#include "core/reference_arithmetic.h"
#include "train/train_pass.h"
#include "train_support.h"

namespace fpaudit::test {
namespace {

using train::LossKind;

std::vector<double> gradient_of(const Plan& plan, const std::vector<Tensor>& grads, const std::string& name) {
  const int s = plan.slot_of(name);
  REQUIRE(s >= 0);
  return grads[static_cast<std::size_t>(s)].data;
}

TEST_CASE("Gemm with a squared-error loss: dz = (z - t)·2/(N·C), dW = dzᵀ·x, db = Σ dz") {
  ModelBuilder mb;
  mb.input("x", kFloat, {-1, 3}).output("z");
  mb.initializer(float_tensor("W", {2, 3}, {0.5f, -1.f, 2.f, 1.f, 0.25f, -0.5f}));
  mb.initializer(float_tensor("b", {2}, {0.125f, -0.25f}));
  set_attr(mb.node("Gemm", {"x", "W", "b"}, {"z"}, "fc"), "transB", std::int64_t{1});
  const auto p = plan_for(mb.parse(), {2, 3});
  const train::TrainableModel m(*p->plan);
  CHECK(m.parameter_slots().size() == 2);

  const std::vector<double> x = {1, 2, 0.5, -1, 0.25, 3}, W = {0.5, -1, 2, 1, 0.25, -0.5}, b = {0.125, -0.25};
  const std::vector<std::int64_t> labels = {1, 0};
  std::vector<double> z(4), dz(4);
  for (int n = 0; n < 2; ++n)
    for (int j = 0; j < 2; ++j) {
      z[n * 2 + j] = b[j];
      for (int k = 0; k < 3; ++k) z[n * 2 + j] += x[n * 3 + k] * W[j * 3 + k];
      dz[n * 2 + j] = (z[n * 2 + j] - (labels[n] == j ? 1 : 0)) * 2 / 4.0;
    }
  const ExactArithmetic exact;
  const std::vector<Tensor> constants = train::constants_with(m, exact, {W, b});
  const Activations act = train::forward(m, exact, constants, x);
  CHECK(act.value(m.output_slot()).data == z);
  double loss = 0;
  for (int i = 0; i < 4; ++i) loss += (z[i] - (labels[i / 2] == i % 2 ? 1 : 0)) * (z[i] - (labels[i / 2] == i % 2 ? 1 : 0));
  CHECK(train::loss_value(LossKind::MeanSquared, z, labels, 2) == loss / 4);
  const std::vector<double> g0 = train::loss_gradient(exact, LossKind::MeanSquared, z, labels, 2, 1.0);
  CHECK(g0 == dz);
  // A loss scale of 2^10 scales every gradient exactly.
  CHECK(train::loss_gradient(exact, LossKind::MeanSquared, z, labels, 2, 1024.0)[3] == dz[3] * 1024);

  const std::vector<Tensor> grads = train::backward(m, exact, act, g0, nullptr);
  std::vector<double> dW(6, 0.0), db(2, 0.0);
  for (int j = 0; j < 2; ++j)
    for (int n = 0; n < 2; ++n) {
      db[j] += dz[n * 2 + j];
      for (int k = 0; k < 3; ++k) dW[j * 3 + k] += dz[n * 2 + j] * x[n * 3 + k];
    }
  CHECK(gradient_of(*p->plan, grads, "W") == dW);
  CHECK(gradient_of(*p->plan, grads, "b") == db);
  CHECK(gradient_of(*p->plan, grads, "z") == dz);
}

TEST_CASE("Cross-entropy: dz = (softmax(z) − onehot)/N, the loss the mean of log Σ exp − z_y") {
  const ExactArithmetic exact;
  const std::vector<double> z = {0, 0, 0, 0};  // two samples, two classes: softmax 1/2 each
  const std::vector<std::int64_t> labels = {0, 1};
  CHECK(train::loss_value(LossKind::CrossEntropy, z, labels, 2) == std::log(2.0));
  CHECK(train::loss_gradient(exact, LossKind::CrossEntropy, z, labels, 2, 1.0) == std::vector<double>{-0.25, 0.25, 0.25, -0.25});
}

TEST_CASE("Relu, Conv (2 channels, 3×3, pad 1) and BatchNormalization: dX, dW, dγ and dβ by hand") {
  ModelBuilder mb;
  mb.input("x", kFloat, {-1, 2, 3, 3}).output("z");
  std::vector<float> w(36);
  for (int i = 0; i < 36; ++i) w[i] = static_cast<float>((i % 7) - 3) * 0.25f;
  mb.initializer(float_tensor("W", {2, 2, 3, 3}, w));
  mb.initializer(float_tensor("gamma", {2}, {1.5f, -0.5f}));
  mb.initializer(float_tensor("beta", {2}, {0.25f, 1.f}));
  mb.initializer(float_tensor("mean", {2}, {0.5f, -1.f}));
  mb.initializer(float_tensor("var", {2}, {0.25f, 4.f}));
  mb.node("Relu", {"x"}, {"r"});
  set_attr(mb.node("Conv", {"r", "W"}, {"c"}, "conv"), "pads", std::vector<std::int64_t>{1, 1, 1, 1});
  set_attr(mb.node("BatchNormalization", {"c", "gamma", "beta", "mean", "var"}, {"bn"}, "bn"), "epsilon", 0.0f);
  mb.node("Flatten", {"bn"}, {"z"});
  const auto p = plan_for(mb.parse(), {2, 2, 3, 3});
  const train::TrainableModel m(*p->plan);
  CHECK(m.parameter_slots().size() == 3);  // W, gamma, beta (the running statistics do not train)

  const ExactArithmetic exact;
  std::vector<double> x(36);
  for (int i = 0; i < 36; ++i) x[i] = static_cast<double>((i * 5) % 9) * 0.125;  // ≥ 0: Relu passes all
  const std::vector<double> W(w.begin(), w.end()), gamma = {1.5, -0.5}, beta = {0.25, 1}, mean = {0.5, -1}, rstd = {2, 0.5};
  const std::vector<Tensor> constants = train::constants_with(m, exact, {W, gamma, beta});
  const Activations act = train::forward(m, exact, constants, x);
  // The conv output by hand, then a loss gradient of small dyadic numbers.
  auto X = [&](int n, int c, int i, int j) { return i < 0 || j < 0 || i > 2 || j > 2 ? 0.0 : x[((n * 2 + c) * 3 + i) * 3 + j]; };
  auto Wt = [&](int m_, int c, int a, int b_) { return W[((m_ * 2 + c) * 3 + a) * 3 + b_]; };
  std::vector<double> conv(36, 0.0), dz(36);
  for (int n = 0; n < 2; ++n)
    for (int m_ = 0; m_ < 2; ++m_)
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
          for (int c = 0; c < 2; ++c)
            for (int a = 0; a < 3; ++a)
              for (int b_ = 0; b_ < 3; ++b_) conv[((n * 2 + m_) * 3 + i) * 3 + j] += X(n, c, i + a - 1, j + b_ - 1) * Wt(m_, c, a, b_);
  CHECK(act.value(p->plan->slot_of("c")).data == conv);
  for (int i = 0; i < 36; ++i) dz[i] = static_cast<double>((i % 5) - 2) * 0x1p-4;
  const std::vector<Tensor> grads = train::backward(m, exact, act, dz, nullptr);

  std::vector<double> dgamma(2, 0.0), dbeta(2, 0.0), dc(36), dW(36, 0.0), dr(36, 0.0);
  for (int n = 0; n < 2; ++n)
    for (int m_ = 0; m_ < 2; ++m_)
      for (int q = 0; q < 9; ++q) {
        const int at = (n * 2 + m_) * 9 + q;
        dgamma[m_] += dz[at] * (conv[at] - mean[m_]) * rstd[m_];
        dbeta[m_] += dz[at];
        dc[at] = dz[at] * gamma[m_] * rstd[m_];
      }
  for (int n = 0; n < 2; ++n)
    for (int m_ = 0; m_ < 2; ++m_)
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
          for (int c = 0; c < 2; ++c)
            for (int a = 0; a < 3; ++a)
              for (int b_ = 0; b_ < 3; ++b_) {
                const double g = dc[((n * 2 + m_) * 3 + i) * 3 + j];
                dW[((m_ * 2 + c) * 3 + a) * 3 + b_] += g * X(n, c, i + a - 1, j + b_ - 1);
                const int ii = i + a - 1, jj = j + b_ - 1;
                if (ii >= 0 && jj >= 0 && ii < 3 && jj < 3) dr[((n * 2 + c) * 3 + ii) * 3 + jj] += g * Wt(m_, c, a, b_);
              }
  CHECK(gradient_of(*p->plan, grads, "gamma") == dgamma);
  CHECK(gradient_of(*p->plan, grads, "beta") == dbeta);
  CHECK(gradient_of(*p->plan, grads, "c") == dc);
  CHECK(gradient_of(*p->plan, grads, "W") == dW);
  CHECK(gradient_of(*p->plan, grads, "r") == dr);
  CHECK(grads[static_cast<std::size_t>(p->plan->slot_of("x"))].data.empty());  // the input's gradient is not wanted
}

TEST_CASE("MaxPool routes dy to the first maximum of its window; AveragePool spreads dy/4 over it") {
  for (const char* op : {"MaxPool", "AveragePool"}) {
    INFO(op);
    ModelBuilder mb;
    mb.input("x", kFloat, {-1, 1, 2, 4}).output("z");
    mb.node("Relu", {"x"}, {"r"});
    auto& pool = mb.node(op, {"r"}, {"p"}, "pool");
    set_attr(pool, "kernel_shape", std::vector<std::int64_t>{2, 2});
    set_attr(pool, "strides", std::vector<std::int64_t>{2, 2});
    mb.node("Flatten", {"p"}, {"z"});
    const auto p = plan_for(mb.parse(), {1, 1, 2, 4});
    const train::TrainableModel m(*p->plan);
    const ExactArithmetic exact;
    // Window 0 holds 3 twice (the first one gets the gradient); window 1 has its maximum 5 last.
    const std::vector<double> x = {1, 3, 2, 0.5, 3, 2, 4, 5};
    const std::vector<Tensor> constants = train::constants_with(m, exact, {});
    const Activations act = train::forward(m, exact, constants, x);
    const std::vector<Tensor> grads = train::backward(m, exact, act, {0.5, -2}, nullptr);
    const std::vector<double> want = std::string(op) == "MaxPool" ? std::vector<double>{0, 0.5, 0, 0, 0, 0, 0, -2}
                                                                  : std::vector<double>{0.125, 0.125, -0.5, -0.5, 0.125, 0.125, -0.5, -0.5};
    CHECK(gradient_of(*p->plan, grads, "r") == want);
  }
}

TEST_CASE("A model whose operator has no backward pass is refused, naming the node") {
  ModelBuilder mb;
  mb.input("x", kFloat, {-1, 4}).output("z");
  mb.node("Softplus", {"x"}, {"z"}, "smooth");
  const auto p = plan_for(mb.parse(), {1, 4});
  const std::string message = error_of([&] { train::TrainableModel m(*p->plan); });
  CHECK(message.find("smooth") != std::string::npos);
  CHECK(message.find("no backward pass for Softplus") != std::string::npos);
}

}  // namespace
}  // namespace fpaudit::test
