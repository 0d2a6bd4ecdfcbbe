// multiply_adds and parameter_count of inferred nodes, worked out by hand.
#include <doctest/doctest.h>

#include "graph/cost.h"
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
