// The training-step audit end to end: the chains' backward sums within their bounds on the
// shipped models, the loss-scale recommendation, the optimizers' rounding hazards, and the same
// bits whatever the thread count.
#include <doctest/doctest.h>

#include <cmath>

#include "format/round.h"
#include "graph/samples.h"
#include "shadow/audit_support.h"
#include "train/optimizer.h"
#include "train/train_report.h"
#include "train/train_step.h"
#include "train_support.h"

namespace fpaudit::test {
namespace {

const std::filesystem::path kData = FPAUDIT_DATA_DIR;

train::TrainResult shipped(const std::string& model, long samples, train::TrainOptions o, std::unique_ptr<Planned>& keep) {
  const Constant x = first_samples(read_npy(kData / "test_images.npy"), samples);
  const Constant y = first_samples(read_npy(kData / "test_labels.npy"), samples);
  keep = plan_for(load_onnx(kData / model), x.shape);
  return train::run_train_step(*keep->plan, x, y, o);
}

void check_sums_within_bounds(const train::TrainResult& r) {
  for (const train::ChainTrainResult& c : r.chains) {
    long checked = 0;
    for (const train::GradientStats& g : c.gradients) {
      INFO(c.chain << " " << g.name);
      CHECK(g.sums.violations == 0);
      CHECK(g.sums.max_ratio <= 1);
      CHECK(g.overflow == 0);
      checked += g.sums.checked;
      // Theorem 4 wherever its bound reaches: it holds.
      if (std::isfinite(g.backward_bound)) CHECK(g.backward_error <= g.backward_bound);
    }
    // Every parameter gradient and every activation gradient out of a Gemm/Conv/BN is a sum.
    CHECK(checked > 0);
  }
}

TEST_CASE("Shipped MLP: every backward sum of every chain within its bound; fp16 without scaling flushes, fp32 does not") {
  train::TrainOptions o;
  o.chains = chains({"fp32", "fp16", "fp16-acc32", "bf16"});
  std::unique_ptr<Planned> keep;
  const train::TrainResult r = shipped("mlp.onnx", 16, o, keep);
  check_sums_within_bounds(r);
  // Gemm, Relu and Flatten all have a composed bound: Theorem 4 reaches every MLP gradient.
  for (const train::ChainTrainResult& c : r.chains)
    for (const train::GradientStats& g : c.gradients) CHECK(std::isfinite(g.backward_bound));
  long fp32_flushed = 0, fp16_flushed = 0;
  for (const train::GradientStats& g : r.chains[0].gradients) fp32_flushed += g.flushed + g.subnormal;
  for (const train::GradientStats& g : r.chains[1].gradients) fp16_flushed += g.flushed + g.subnormal;
  CHECK(fp32_flushed == 0);
  CHECK(fp16_flushed > 0);
  // The recommended scale removes nearly all of it, without overflow (the MLP's exact gradients
  // span more binades than binary16 has, so a few stay below its range at any one scale).
  const train::LossScaleAnalysis& s = r.chains[1].scales;
  CHECK(s.overflow == 0);
  CHECK(s.flushed + s.subnormal < fp16_flushed / 20);
  // The largest scale without overflow is exactly where the largest gradient still rounds finite.
  CHECK(std::isfinite(round_to(binary16(), std::ldexp(s.exact_max, s.no_overflow_max))));
  CHECK(std::isinf(round_to(binary16(), std::ldexp(s.exact_max, s.no_overflow_max + 1))));
}

TEST_CASE("Shipped CNN: Conv, BatchNormalization, MaxPool and AveragePool backward sums within their bounds") {
  train::TrainOptions o;
  o.chains = chains({"fp32", "fp16-acc32"});
  std::unique_ptr<Planned> keep;
  const train::TrainResult r = shipped("cnn.onnx", 3, o, keep);
  CHECK(r.parameters.size() == 11);  // 3 conv weights, 3×(BN scale, bias), head weight and bias
  check_sums_within_bounds(r);
  // BatchNorm's own factors counted (factor_error): Theorem 4 reaches every CNN gradient.
  for (const train::ChainTrainResult& c : r.chains)
    for (const train::GradientStats& g : c.gradients) CHECK(std::isfinite(g.backward_bound));
}

TEST_CASE("The same bits with one thread and with two") {
  train::TrainOptions o;
  o.chains = chains({"fp32", "fp16", "bf16"});
  o.steps = 2;
  o.optimizer.kind = train::OptimizerKind::Adam;
  o.optimizer.lr = 1e-3;
  std::unique_ptr<Planned> k1, k2;
  o.threads = 1;
  const nlohmann::json a = without_timing(train::train_to_json(shipped("mlp.onnx", 8, o, k1), {"mlp", "x", "v"}));
  o.threads = 2;
  const nlohmann::json b = without_timing(train::train_to_json(shipped("mlp.onnx", 8, o, k2), {"mlp", "x", "v"}));
  CHECK(a.dump() == b.dump());
}

TEST_CASE("A loss scale from the analysis makes the flushed share 0 where the gradients' range fits binary16") {
  // logits ≈ (5, −5): softmax's small share e^-10 ≈ 4.5e-5, times inputs of 2^-12: weight
  // gradients near 1e-8, below binary16's smallest subnormal at scale 1.
  ModelBuilder mb;
  mb.input("x", kFloat, {-1, 2}).output("z");
  mb.initializer(float_tensor("W", {2, 2}, {0.5f, -0.25f, 0.75f, 1.f}));
  mb.initializer(float_tensor("b", {2}, {5.f, -5.f}));
  set_attr(mb.node("Gemm", {"x", "W", "b"}, {"z"}, "fc"), "transB", std::int64_t{1});
  const Constant x = values_array({2, 2}, {0x1p-12, 0x3p-12, 0x2p-12, 0x1p-12});
  const Constant y = label_array({0, 0});
  const auto p = plan_for(mb.parse(), x.shape);
  train::TrainOptions o;
  o.chains = chains({"fp16", "fp16-acc32"});
  const train::TrainResult r = train::run_train_step(*p->plan, x, y, o);
  for (const train::ChainTrainResult& c : r.chains) {
    INFO(c.chain);
    long flushed = 0;
    for (const train::GradientStats& g : c.gradients) flushed += g.flushed;
    CHECK(flushed > 0);
    CHECK_FALSE(c.scales.all_normal.empty());
    CHECK(c.scales.checked == 10);  // dz (4), dW (4), db (2): every exact gradient is non-zero
    CHECK(c.scales.subnormal == 0);
    CHECK(c.scales.overflow == 0);
  }
  // fp16-acc32 forms p − onehot in binary32: at the recommended scale nothing flushes.
  CHECK(r.chains[1].scales.flushed == 0);
  // fp16 forms it in binary16, where 1 + e^-10 rounds to 1: the labelled class's p − 1 is 0
  // before any scale applies (both samples), and so are the sums it alone feeds: loss scaling
  // cannot bring back what the loss's own arithmetic lost.
  CHECK(r.chains[0].scales.flushed == 5);
}

TEST_CASE("Optimizer hazards: updates below half an ulp vanish in binary16, not with fp32 master weights; Adam's ε and v underflow") {
  train::OptimizerSettings sgd;
  sgd.lr = 0.01;
  std::vector<double> w16 = {1.0, 1.0}, w32 = {1.0, 1.0};
  const std::vector<double> g = {1e-4, 0.0};
  const train::UpdateCounts pure = train::ParameterOptimizer(sgd, binary16(), 2).step(w16, {round_to(binary16(), 1e-4), 0.0}, 1);
  CHECK(pure.moved == 1);
  CHECK(pure.lost == 1);  // 1 − 1e-6 rounds back to 1 in binary16 (half an ulp is 2^-11)
  CHECK(w16[0] == 1.0);
  const train::UpdateCounts master = train::ParameterOptimizer(sgd, binary32(), 2).step(w32, g, 1);
  CHECK(master.lost == 0);
  CHECK(w32[0] == round_to(binary32(), 1.0 - round_to(binary32(), 0.01 * round_to(binary32(), 1e-4))));

  train::OptimizerSettings adam;
  adam.kind = train::OptimizerKind::Adam;
  adam.lr = 1e-3;
  train::ParameterOptimizer a16(adam, binary16(), 1);
  CHECK(a16.epsilon_stored() == 0);  // 1e-8 < 2^-25, half binary16's smallest subnormal
  std::vector<double> w = {0.5};
  const train::UpdateCounts c = a16.step(w, {round_to(binary16(), 1e-4)}, 1);
  CHECK(c.second_moment_zero == 1);  // (1 − β2)·g² ≈ 1e-11 is 0 in binary16
  CHECK(c.nonfinite == 1);           // m̂ / (√0 + 0)
  train::ParameterOptimizer a32(adam, binary32(), 1);
  std::vector<double> v = {0.5};
  const train::UpdateCounts c32 = a32.step(v, {1e-4}, 1);
  CHECK(c32.second_moment_zero == 0);
  CHECK(c32.nonfinite == 0);
  CHECK(v[0] < 0.5);
}

}  // namespace
}  // namespace fpaudit::test
