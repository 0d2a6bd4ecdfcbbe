// BatchNormalization and LayerNormalization: known scales and shifts, a vector whose statistics
// are exact, the rounding of the folded BatchNorm parameters, and binary16's overflow of Σd².
#include <cmath>

#include <doctest/doctest.h>

#include "format/round.h"
#include "core/reference_arithmetic.h"
#include "op_test_support.h"

using namespace fpaudit;
using namespace fpaudit::test;

namespace {

ModelBuilder batch_norm(const std::vector<float>& gamma, const std::vector<float>& beta, const std::vector<float>& mean,
                        const std::vector<float>& var, float epsilon) {
  const auto c = static_cast<std::int64_t>(gamma.size());
  ModelBuilder m(15);
  m.input("x", kFloat, {1, c, 2}).output("y");
  m.initializer(float_tensor("g", {c}, gamma));
  m.initializer(float_tensor("b", {c}, beta));
  m.initializer(float_tensor("m", {c}, mean));
  m.initializer(float_tensor("v", {c}, var));
  set_attr(m.node("BatchNormalization", {"x", "g", "b", "m", "v"}, {"y"}, "bn"), "epsilon", epsilon);
  return m;
}

}  // namespace

TEST_CASE("BatchNormalization with known scale and shift") {
  // ε = 0. Channel 0: γ=2, σ²=4 → scale 1, shift β − μ = 1 − 3: y = x − 2.
  // Channel 1: γ=1, σ²=0.25 → scale 2, shift 0 − 0.5·2: y = 2x − 1.
  const ModelBuilder m = batch_norm({2, 1}, {1, 0}, {3, 0.5f}, {4, 0.25f}, 0.0f);
  check_all_exact(m, {{{1, 2, 2}, {5, -1, 3, 0.25}}}, {3, -3, 5, -0.5});
}

TEST_CASE("BatchNormalization folds γ/√(σ²+ε) and β − μ·scale in binary64 and rounds each into storage") {
  // scale = 1/√3 is not a binary16 number; the fp16 chain uses round16(scale), then
  // shift = round16(β − μ·round16(scale)), then one rounding of x·scale + shift.
  const ModelBuilder m = batch_norm({1}, {0.1f}, {7}, {3}, 0.0f);
  const double x = 1000;
  const double beta = static_cast<float>(0.1), scale = round_to(binary16(), 1 / std::sqrt(3.0));
  const double shift = round_to(binary16(), std::fma(-7.0, scale, round_to(binary16(), beta)));
  const double want = round_to(binary16(), x * scale + shift);
  CHECK(run_first(m, {{{1, 1, 2}, {x, 0}}}, *make_chain_arithmetic(parse_chain("fp16")))[0] == want);
  // The reference: (x − μ)·γ/√σ² + β to binary64 accuracy.
  CHECK(run_first(m, {{{1, 1, 2}, {x, 0}}}, *make_reference_arithmetic("exact"))[0] ==
        doctest::Approx((x - 7) / std::sqrt(3.0) + beta).epsilon(1e-15));
}

TEST_CASE("BatchNormalization in training mode is refused naming the node") {
  ModelBuilder m = batch_norm({1}, {0}, {0}, {1}, 1e-5f);
  set_attr(*m.model.mutable_graph()->mutable_node(0), "training_mode", std::int64_t{1});
  const std::string e = refusal(m, {{{1, 1, 2}, {1, 2}}});
  CHECK(e.find("node 'bn' (BatchNormalization)") != std::string::npos);
  CHECK(e.find("training_mode") != std::string::npos);
}

namespace {
ModelBuilder layer_norm(const std::vector<std::int64_t>& x, const std::vector<std::int64_t>& scale_shape,
                        const std::vector<float>& scale, const std::vector<float>& bias, std::int64_t axis, float epsilon) {
  ModelBuilder m(17);
  m.input("x", kFloat, x).output("y");
  m.initializer(float_tensor("s", scale_shape, scale));
  if (!bias.empty()) m.initializer(float_tensor("b", scale_shape, bias));
  auto& n = bias.empty() ? m.node("LayerNormalization", {"x", "s"}, {"y"}, "ln")
                         : m.node("LayerNormalization", {"x", "s", "b"}, {"y"}, "ln");
  set_attr(n, "axis", axis);
  set_attr(n, "epsilon", epsilon);
  return m;
}
}  // namespace

TEST_CASE("LayerNormalization of a vector whose mean, deviations and variance are exact") {
  // x = (1, 3, 1, 3): mean 2, d = (−1, 1, −1, 1), variance 1, ε = 0 → r = 1; y = d·γ + β.
  const ModelBuilder m = layer_norm({1, 4}, {4}, {1, 2, 3, 4}, {0.5f, 0.5f, 0.5f, 0.5f}, -1, 0.0f);
  check_all_exact(m, {{{1, 4}, {1, 3, 1, 3}}}, {-0.5, 2.5, -2.5, 4.5});
}

TEST_CASE("LayerNormalization of (1, 2, 3, 4): d / √1.25 to binary64 accuracy in the reference") {
  const ModelBuilder m = layer_norm({4}, {4}, {1, 1, 1, 1}, {}, 0, 0.0f);
  const std::vector<double> y = run_first(m, {{{4}, {1, 2, 3, 4}}}, *make_reference_arithmetic("exact"));
  const double r = 1 / std::sqrt(1.25);  // variance (2.25 + 0.25 + 0.25 + 2.25) / 4
  const std::vector<double> want = {-1.5 * r, -0.5 * r, 0.5 * r, 1.5 * r};
  for (std::size_t i = 0; i < 4; ++i) CHECK(y[i] == doctest::Approx(want[i]).epsilon(1e-15));
}

TEST_CASE("LayerNormalization over the last two axes with a scale broadcast from [1, 2]") {
  // x [2, 2, 2], axis 1: each of the 2 groups of 4 is normalised; the scale (1, 2) repeats
  // over the rows. Group 0 = (1, 3, 3, 1): d = (−1, 1, 1, −1), v = 1. Group 1 = 4·that + 5.
  const ModelBuilder m = layer_norm({2, 2, 2}, {1, 2}, {1, 2}, {}, 1, 0.0f);
  check_all_exact(m, {{{2, 2, 2}, {1, 3, 3, 1, 9, 17, 17, 9}}}, {-1, 2, 1, -2, -1, 2, 1, -2});
}

TEST_CASE("LayerNormalization in binary16 accumulation: Σd² overflows past 65504") {
  // d = ±200: Σd² = 80000 is infinite in binary16, so 1/√(v+ε) = 0 and y = β; in binary32
  // accumulation v = 40000, r = 1/200 and y = ±1 + β.
  const ModelBuilder m = layer_norm({1, 2}, {2}, {1, 1}, {0.25f, 0.25f}, -1, 0.0f);
  const std::vector<Feed> in = {{{1, 2}, {-200, 200}}};
  CHECK(run_first(m, in, *make_chain_arithmetic(parse_chain("fp16"))) == std::vector<double>{0.25, 0.25});
  CHECK(run_first(m, in, *make_chain_arithmetic(parse_chain("fp16-acc32"))) == std::vector<double>{-0.75, 1.25});
}

TEST_CASE("LayerNormalization's Mean output is refused when something reads it") {
  ModelBuilder m(17);
  m.input("x", kFloat, {1, 2}).output("y").output("mean");
  m.initializer(float_tensor("s", {2}, {1, 1}));
  m.node("LayerNormalization", {"x", "s"}, {"y", "mean"}, "ln");
  const std::string e = refusal(m, {{{1, 2}, {1, 2}}});
  CHECK(e.find("node 'ln' (LayerNormalization)") != std::string::npos);
  CHECK(e.find("'mean'") != std::string::npos);
}
