// The two references must agree bit for bit on every operator: `exact` (exact sums and dot
// products, MPFR-rounded elementary functions) and `mpfr:4096` (every step at 4096 bits) both
// compute "each operation correctly rounded to binary64". Random small models per operator,
// with inputs and weights spread over many binades so that sums cancel and round.
#include <cmath>
#include <cstring>
#include <functional>
#include <random>

#include <doctest/doctest.h>

#include "core/reference_arithmetic.h"
#include "op_test_support.h"

using namespace fpaudit;
using namespace fpaudit::test;

namespace {

using Ints = std::vector<std::int64_t>;

/// float32 values (what a model holds), normal times 2^k for k in [−6, 6], some exact zeros.
std::vector<float> random_floats(std::size_t n, std::mt19937_64& rng) {
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<float> v(n);
  for (float& x : v) x = rng() % 13 == 0 ? 0.0f : static_cast<float>(std::ldexp(normal(rng), static_cast<int>(rng() % 13) - 6));
  return v;
}
std::vector<double> widen(const std::vector<float>& v) { return {v.begin(), v.end()}; }

std::int64_t count(const Ints& shape) {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

bool same_bits(double a, double b) {
  if (std::isnan(a) && std::isnan(b)) return true;
  return std::memcmp(&a, &b, sizeof a) == 0;
}

/// One random model: a single node on input x with random float initializers.
struct Case {
  const char* name;
  std::int64_t opset;
  Ints x;
  std::function<void(ModelBuilder&, std::mt19937_64&)> build;  // adds initializers and the node
};

void weight(ModelBuilder& m, std::mt19937_64& rng, const std::string& name, const Ints& shape) {
  m.initializer(float_tensor(name, shape, random_floats(static_cast<std::size_t>(count(shape)), rng)));
}

/// Positive values (variances).
void positive(ModelBuilder& m, std::mt19937_64& rng, const std::string& name, const Ints& shape) {
  std::vector<float> v = random_floats(static_cast<std::size_t>(count(shape)), rng);
  for (float& x : v) x = std::fabs(x) + 0.5f;
  m.initializer(float_tensor(name, shape, v));
}

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {"Conv, 2 groups, pads, stride 2, bias", 13, {1, 4, 6, 5}, [](ModelBuilder& m, std::mt19937_64& r) {
         weight(m, r, "W", {6, 2, 3, 3});
         weight(m, r, "B", {6});
         auto& n = m.node("Conv", {"x", "W", "B"}, {"y"});
         set_attr(n, "group", std::int64_t{2});
         set_attr(n, "pads", Ints{1, 0, 2, 1});
         set_attr(n, "strides", Ints{2, 1});
       }},
      {"ConvTranspose, stride 2, dilation 2, bias", 13, {1, 2, 3, 4}, [](ModelBuilder& m, std::mt19937_64& r) {
         weight(m, r, "W", {2, 3, 2, 3});
         weight(m, r, "B", {3});
         auto& n = m.node("ConvTranspose", {"x", "W", "B"}, {"y"});
         set_attr(n, "strides", Ints{2, 2});
         set_attr(n, "dilations", Ints{1, 2});
       }},
      {"AveragePool 3x3, pads, count_include_pad", 13, {1, 2, 5, 5}, [](ModelBuilder& m, std::mt19937_64&) {
         auto& n = m.node("AveragePool", {"x"}, {"y"});
         set_attr(n, "kernel_shape", Ints{3, 3});
         set_attr(n, "pads", Ints{1, 1, 1, 1});
         set_attr(n, "count_include_pad", std::int64_t{1});
       }},
      {"MaxPool 2x2, ceil_mode", 13, {1, 2, 5, 5}, [](ModelBuilder& m, std::mt19937_64&) {
         auto& n = m.node("MaxPool", {"x"}, {"y"});
         set_attr(n, "kernel_shape", Ints{2, 2});
         set_attr(n, "strides", Ints{2, 2});
         set_attr(n, "ceil_mode", std::int64_t{1});
       }},
      {"GlobalAveragePool", 13, {2, 3, 4, 4}, [](ModelBuilder& m, std::mt19937_64&) { m.node("GlobalAveragePool", {"x"}, {"y"}); }},
      {"BatchNormalization", 15, {2, 3, 4}, [](ModelBuilder& m, std::mt19937_64& r) {
         weight(m, r, "g", {3});
         weight(m, r, "b", {3});
         weight(m, r, "mu", {3});
         positive(m, r, "v", {3});
         m.node("BatchNormalization", {"x", "g", "b", "mu", "v"}, {"y"});
       }},
      {"LayerNormalization over the last two axes", 17, {2, 3, 8}, [](ModelBuilder& m, std::mt19937_64& r) {
         weight(m, r, "s", {3, 8});
         weight(m, r, "b", {8});
         set_attr(m.node("LayerNormalization", {"x", "s", "b"}, {"y"}), "axis", std::int64_t{1});
       }},
      {"ReduceMean over axes (0, 2)", 13, {3, 4, 5}, [](ModelBuilder& m, std::mt19937_64&) {
         set_attr(m.node("ReduceMean", {"x"}, {"y"}), "axes", Ints{0, 2});
       }},
      {"ReduceSum over axis 1", 13, {3, 7, 2}, [](ModelBuilder& m, std::mt19937_64&) {
         m.initializer(int64_tensor("axes", {1}, {1}));
         m.node("ReduceSum", {"x", "axes"}, {"y"});
       }},
      {"Resize linear, half_pixel, scale 1.5", 13, {1, 2, 4, 4}, [](ModelBuilder& m, std::mt19937_64&) {
         m.initializer(float_tensor("roi", {0}, {}));
         m.initializer(float_tensor("scales", {4}, {1, 1, 1.5f, 1.5f}));
         set_attr(m.node("Resize", {"x", "roi", "scales"}, {"y"}), "mode", std::string("linear"));
       }},
      {"Gemm with bias", 13, {3, 9}, [](ModelBuilder& m, std::mt19937_64& r) {
         weight(m, r, "W", {5, 9});
         weight(m, r, "B", {5});
         set_attr(m.node("Gemm", {"x", "W", "B"}, {"y"}), "transB", std::int64_t{1});
       }},
      {"Softmax", 13, {3, 10}, [](ModelBuilder& m, std::mt19937_64&) { m.node("Softmax", {"x"}, {"y"}); }},
      {"LogSoftmax", 13, {3, 10}, [](ModelBuilder& m, std::mt19937_64&) { m.node("LogSoftmax", {"x"}, {"y"}); }},
      {"Tanh", 13, {40}, [](ModelBuilder& m, std::mt19937_64&) { m.node("Tanh", {"x"}, {"y"}); }},
      {"Einsum bij,jk->bik with a weight", 12, {2, 3, 7}, [](ModelBuilder& m, std::mt19937_64& r) {
         weight(m, r, "W", {7, 4});
         set_attr(m.node("Einsum", {"x", "W"}, {"y"}), "equation", std::string("bij,jk->bik"));
       }},
      {"Einsum bi,ij,jk->bk (three operands)", 12, {2, 5}, [](ModelBuilder& m, std::mt19937_64& r) {
         weight(m, r, "W", {5, 4});
         weight(m, r, "V", {4, 3});
         set_attr(m.node("Einsum", {"x", "W", "V"}, {"y"}), "equation", std::string("bi,ij,jk->bk"));
       }},
      {"Einsum bij->j (a sum over two labels)", 12, {3, 5, 5}, [](ModelBuilder& m, std::mt19937_64&) {
         set_attr(m.node("Einsum", {"x"}, {"y"}), "equation", std::string("bij->j"));
       }},
      {"InstanceNormalization", 13, {2, 3, 6}, [](ModelBuilder& m, std::mt19937_64& r) {
         weight(m, r, "s", {3});
         weight(m, r, "b", {3});
         m.node("InstanceNormalization", {"x", "s", "b"}, {"y"});
       }},
      {"GroupNormalization-21, 2 groups", 21, {2, 4, 5}, [](ModelBuilder& m, std::mt19937_64& r) {
         weight(m, r, "s", {4});
         weight(m, r, "b", {4});
         set_attr(m.node("GroupNormalization", {"x", "s", "b"}, {"y"}), "num_groups", std::int64_t{2});
       }},
      {"LRN size 3", 13, {1, 5, 6}, [](ModelBuilder& m, std::mt19937_64&) {
         set_attr(m.node("LRN", {"x"}, {"y"}), "size", std::int64_t{3});
       }},
      {"LpNormalization p = 2", 13, {3, 8}, [](ModelBuilder& m, std::mt19937_64&) { m.node("LpNormalization", {"x"}, {"y"}); }},
      {"Resize cubic, half_pixel, scale 1.5", 13, {1, 2, 4, 4}, [](ModelBuilder& m, std::mt19937_64&) {
         m.initializer(float_tensor("roi", {0}, {}));
         m.initializer(float_tensor("scales", {4}, {1, 1, 1.5f, 1.5f}));
         set_attr(m.node("Resize", {"x", "roi", "scales"}, {"y"}), "mode", std::string("cubic"));
       }},
  };
  return all;
}

}  // namespace

TEST_CASE("exact and mpfr:4096 give the same bits on every operator") {
  const auto exact = make_reference_arithmetic("exact");
  const auto mpfr = make_reference_arithmetic("mpfr:4096");
  for (const Case& c : cases()) {
    long compared = 0, differing = 0;
    for (std::uint64_t seed = 1; seed <= 12; ++seed) {
      std::mt19937_64 rng(seed);
      ModelBuilder m(c.opset);
      m.input("x", kFloat, c.x).output("y");
      c.build(m, rng);
      const std::vector<Feed> in = {{c.x, widen(random_floats(static_cast<std::size_t>(count(c.x)), rng))}};
      const std::vector<double> a = run_first(m, in, *exact), b = run_first(m, in, *mpfr);
      REQUIRE(a.size() == b.size());
      for (std::size_t i = 0; i < a.size(); ++i) differing += !same_bits(a[i], b[i]);
      compared += static_cast<long>(a.size());
    }
    INFO(std::string(c.name) << ": " << differing << " of " << compared << " outputs differ");
    CHECK(differing == 0);
  }
}
