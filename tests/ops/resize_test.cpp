// Resize: linear with half_pixel and align_corners on a 2x2, every nearest_mode on its ties,
// tf_crop_and_resize's extrapolation, and cubic's weights (bounds: tests/ops/select_order_test.cpp).
#include <doctest/doctest.h>

#include "core/reference_arithmetic.h"
#include "op_test_support.h"

using namespace fpaudit;
using namespace fpaudit::test;

namespace {

/// Resize (opset 13) of x with constant scales; roi given when non-empty.
ModelBuilder resize(const std::vector<std::int64_t>& x_shape, const std::vector<float>& scales, const std::string& mode,
                    const std::string& transform, const std::vector<float>& roi = {}) {
  ModelBuilder m(13);
  m.input("x", kFloat, x_shape).output("y");
  const auto rank = static_cast<std::int64_t>(x_shape.size());
  m.initializer(float_tensor("roi", {roi.empty() ? 0 : 2 * rank}, roi));
  m.initializer(float_tensor("scales", {rank}, scales));
  auto& n = m.node("Resize", {"x", "roi", "scales"}, {"y"}, "resize");
  set_attr(n, "mode", mode);
  set_attr(n, "coordinate_transformation_mode", transform);
  return m;
}

onnx::NodeProto& node_of(ModelBuilder& m) { return *m.model.mutable_graph()->mutable_node(0); }

const std::vector<Feed> k2x2 = {{{1, 1, 2, 2}, {1, 2, 3, 4}}};

}  // namespace

TEST_CASE("Resize linear, half_pixel, 2x2 → 4x4: weights 1/4 and 3/4, edges clamped") {
  // Input coordinates (o + 0.5)/2 − 0.5 = −0.25, 0.25, 0.75, 1.25, clamped to 0, 0.25, 0.75, 1:
  // y[i][j] = 1 + 2·a_i + a_j with a = (0, 1/4, 3/4, 1) — binary fractions, exact everywhere.
  const ModelBuilder m = resize({1, 1, 2, 2}, {1, 1, 2, 2}, "linear", "half_pixel");
  const double a[] = {0, 0.25, 0.75, 1};
  std::vector<double> want;
  for (double ai : a)
    for (double aj : a) want.push_back(1 + 2 * ai + aj);
  check_all_exact(m, k2x2, want);
}

TEST_CASE("Resize linear, align_corners, 2x2 → 4x4: y = 1 + 2·i/3 + j/3") {
  const ModelBuilder m = resize({1, 1, 2, 2}, {1, 1, 2, 2}, "linear", "align_corners");
  const std::vector<double> y = run_first(m, k2x2, *make_reference_arithmetic("exact"));
  REQUIRE(y.size() == 16);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) CHECK(y[i * 4 + j] == doctest::Approx(1 + 2.0 * i / 3 + j / 3.0).epsilon(1e-15));
  CHECK(y[0] == 1);  // corners are copies: a single term of weight 1
  CHECK(y[15] == 4);
}

TEST_CASE("Resize nearest: the four nearest_modes on ties (asymmetric, scale 2)") {
  // x = (10, 20, 30, 40); input coordinates o/2 = 0, 0.5, 1, 1.5, ..., 3.5.
  const std::vector<Feed> in = {{{4}, {10, 20, 30, 40}}};
  const std::pair<const char*, std::vector<double>> cases[] = {
      {"round_prefer_floor", {10, 10, 20, 20, 30, 30, 40, 40}},
      {"round_prefer_ceil", {10, 20, 20, 30, 30, 40, 40, 40}},  // 3.5 → 4, clamped to 3
      {"floor", {10, 10, 20, 20, 30, 30, 40, 40}},
      {"ceil", {10, 20, 20, 30, 30, 40, 40, 40}},
  };
  for (const auto& [mode, want] : cases) {
    ModelBuilder m = resize({4}, {2}, "nearest", "asymmetric");
    set_attr(node_of(m), "nearest_mode", std::string(mode));
    INFO(mode);
    check_all_exact(m, in, want);
  }
  // Off the ties the modes differ: scale 1.5 gives coordinates 0, 0.67, 1.33, 2, 2.67, 3.33.
  ModelBuilder m = resize({4}, {1.5f}, "nearest", "asymmetric");
  set_attr(node_of(m), "nearest_mode", std::string("floor"));
  check_all_exact(m, in, {10, 10, 20, 30, 30, 40});
}

TEST_CASE("Resize tf_crop_and_resize: outside the crop box comes the extrapolation value") {
  // 3 inputs, roi (−0.5, 1.5), 5 outputs: input coordinates −1 + o·(2·2)/4 = −1, 0, 1, 2, 3.
  ModelBuilder m(13);
  m.input("x", kFloat, {3}).output("y");
  m.initializer(float_tensor("roi", {2}, {-0.5f, 1.5f}));
  m.initializer(int64_tensor("sizes", {1}, {5}));
  auto& n = m.node("Resize", {"x", "roi", "", "sizes"}, {"y"});
  set_attr(n, "mode", std::string("linear"));
  set_attr(n, "coordinate_transformation_mode", std::string("tf_crop_and_resize"));
  set_attr(n, "extrapolation_value", 9.0f);
  check_all_exact(m, {{{3}, {1, 2, 4}}}, {9, 1, 2, 4, 9});
}

TEST_CASE("Resize-10: scales as input 1, asymmetric coordinates; nearest upsampling floors") {
  for (const float scale : {2.0f, 0.5f}) {
    ModelBuilder m(10);
    m.input("x", kFloat, {4}).output("y");
    m.initializer(float_tensor("scales", {1}, {scale}));
    m.node("Resize", {"x", "scales"}, {"y"}, "resize");
    const std::vector<Feed> in = {{{4}, {10, 20, 30, 40}}};
    if (scale > 1) {
      check_all_exact(m, in, {10, 10, 20, 20, 30, 30, 40, 40});
    } else {
      const std::string e = refusal(m, in);
      CHECK(e.find("node 'resize' (Resize)") != std::string::npos);
      CHECK(e.find("downsampling") != std::string::npos);
    }
  }
}

TEST_CASE("Resize cubic: Keys' weights (a = -0.75) on the four neighbours, edges repeated or excluded") {
  // x = (1, 2, 3, 4) upsampled 2x, half_pixel. Output 3 reads x = 1.25: ratio 1/4, neighbours
  // 0..3 with weights (-27, 225, 67, -9)/256: y = 147/64, exact in binary16 and binary32.
  ModelBuilder m = resize({1, 1, 1, 4}, {1, 1, 1, 2}, "cubic", "half_pixel");
  const std::vector<Feed> x = {{{1, 1, 1, 4}, {1, 2, 3, 4}}};
  for (const char* chain : {"fp32", "fp16"}) CHECK(run_first(m, x, *make_chain_arithmetic(parse_chain(chain)))[3] == 2.296875);
  const auto exact = make_reference_arithmetic("exact");
  // Output 0 reads x = -0.25: neighbours -2..1 clamped to 0, 0, 0, 1, weights
  // (-9, 67, 225, -27)/256: y = 229/256.
  CHECK(run_first(m, x, *exact)[0] == 229.0 / 256);
  CHECK(run_first(m, x, *exact)[3] == 2.296875);
  // exclude_outside drops the two padded neighbours and renormalises: (225 - 54)/198 = 19/22.
  set_attr(node_of(m), "exclude_outside", std::int64_t{1});
  CHECK(run_first(m, x, *exact)[0] == doctest::Approx(19.0 / 22).epsilon(1e-15));
  // cubic_coeff_a = -0.5 reproduces the linear ramp where all four neighbours are inside the
  // input (outputs 3..8 read x = 5i/11 in [1, 4)).
  ModelBuilder half = resize({1, 1, 1, 6}, {1, 1, 1, 2}, "cubic", "align_corners");
  set_attr(node_of(half), "cubic_coeff_a", -0.5f);
  const std::vector<double> y = run_first(half, {{{1, 1, 1, 6}, {0, 1, 2, 3, 4, 5}}}, *exact);
  for (std::size_t i = 3; i <= 8; ++i) CHECK(y[i] == doctest::Approx(5.0 * static_cast<double>(i) / 11).epsilon(1e-14));
}
