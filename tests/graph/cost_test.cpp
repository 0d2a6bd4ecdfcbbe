// multiply_adds and parameter_count of inferred nodes, worked out by hand.
#include <doctest/doctest.h>

#include <cmath>

#include "graph/cost.h"
#include "graph/weight_stats.h"
#include "graph/loader.h"
#include "graph/model_builder.h"

using namespace fpaudit;
using namespace fpaudit::test;

TEST_CASE("multiply-adds of Gemm, MatMul, Conv, ConvTranspose, pools and elementwise layers") {
  ModelBuilder m(13);
  m.input("x", kFloat, {1, 2, 8, 8}).output("y");
  m.initializer(float_tensor("cw", {4, 1, 3, 3}, std::vector<float>(36, 1)));  // group 2
  m.initializer(float_tensor("cb", {4}, {0, 0, 0, 0}));
  set_attr(m.node("Conv", {"x", "cw", "cb"}, {"c"}, "conv"), "group", std::int64_t{2});
  m.node("Relu", {"c"}, {"r"}, "relu");
  set_attr(m.node("MaxPool", {"r"}, {"p"}, "pool"), "kernel_shape", std::vector<std::int64_t>{2, 2});
  m.initializer(float_tensor("tw", {4, 3, 2, 2}, std::vector<float>(48, 1)));
  m.node("ConvTranspose", {"p", "tw"}, {"t"}, "deconv");
  set_attr(m.node("Flatten", {"t"}, {"f"}, "flat"), "axis", std::int64_t{1});
  m.initializer(float_tensor("gw", {10, 108}, std::vector<float>(1080, 1)));
  set_attr(m.node("Gemm", {"f", "gw"}, {"g"}, "fc"), "transB", std::int64_t{1});
  m.initializer(float_tensor("mw", {10, 5}, std::vector<float>(50, 1)));
  m.node("MatMul", {"g", "mw"}, {"y"}, "mm");
  const Graph g = inferred(m, {{1, 2, 8, 8}});
  auto cost = [&](const std::string& name) {
    for (const Node& n : g.nodes)
      if (n.name == name) return std::pair{multiply_adds(g, n), parameter_count(g, n)};
    FAIL("no node " << name);
    return std::pair<std::int64_t, std::int64_t>{};
  };
  // conv: output [1, 4, 6, 6] = 144 elements, each 1 input channel × 9 taps
  CHECK(cost("conv") == std::pair<std::int64_t, std::int64_t>{144 * 9, 40});
  CHECK(cost("relu").first == 144);
  // pool: [1, 4, 5, 5] outputs × 4 window elements
  CHECK(cost("pool").first == 100 * 4);
  // deconv: 100 input elements each scatter into 3 output channels × 4 taps; output [1, 3, 6, 6]
  CHECK(shape_of(g, "t") == Shape{1, 3, 6, 6});
  CHECK(cost("deconv") == std::pair<std::int64_t, std::int64_t>{100 * 12, 48});
  CHECK(cost("flat").first == 0);
  CHECK(cost("fc") == std::pair<std::int64_t, std::int64_t>{1 * 10 * 108, 1080});  // M·N·K
  CHECK(cost("mm") == std::pair<std::int64_t, std::int64_t>{5 * 10, 50});
}

TEST_CASE("weight statistics: range and what each format does to the weights") {
  ModelBuilder m(13);
  m.input("x", kFloat, {1, 6}).output("y");
  // 1e5 overflows binary16 (max 65504), e5m2 (57344) and saturates e4m3 (448), not bfloat16.
  // 1e-8 is below half binary16's smallest subnormal 2^-24 ≈ 5.96e-8: zero there, and in both FP8.
  // 1e-5 is a binary16 subnormal (< 2^-14), rounds to e5m2's smallest 2^-16 ≈ 1.5e-5, is 0 in e4m3.
  // 0.001 is normal in binary16 and e5m2, rounds to e4m3's smallest subnormal 2^-9 ≈ 0.00195.
  m.initializer(float_tensor("w", {6}, {1e5f, -1e-8f, 1e-5f, 0.001f, 0.0f, -2.5f}));
  m.initializer(float_tensor("b", {1}, {std::nanf("")}));
  m.node("Mul", {"x", "w"}, {"h"}, "scale");
  m.node("Add", {"h", "b"}, {"y"}, "shift");
  const Graph g = inferred(m, {{1, 6}});
  const Format formats[] = {binary16(), bfloat16(), e4m3(), e5m2()};
  const WeightStats s = weight_stats(g, g.nodes[0], formats);
  CHECK(s.count == 6);
  CHECK(s.min == -2.5);
  CHECK(s.max == static_cast<double>(1e5f));
  CHECK(s.absmax == static_cast<double>(1e5f));
  CHECK(s.per_format[0] == StoreCounts{1, 1, 1});  // binary16
  CHECK(s.per_format[1] == StoreCounts{0, 0, 0});  // bfloat16
  CHECK(s.per_format[2] == StoreCounts{1, 2, 1});  // e4m3: 1e5 saturates; 1e-8 and 1e-5 vanish; 0.001 subnormal
  CHECK(s.per_format[3] == StoreCounts{1, 1, 1});  // e5m2
  const WeightStats nan_only = weight_stats(g, g.nodes[1], formats);
  CHECK(nan_only.count == 1);
  CHECK(nan_only.absmax == 0);
}
