// TopK, ScatterND, NonZero, Pad's wrap mode, Mish and cubic Resize's bounds (issue #15): values
// hand-computed and checked in every arithmetic that holds them, refusals naming the problem,
// and every bound checked on every element in every chain (TopK's indices too: where two
// values are too close to tell apart, the chain's index may differ from the exact one, and the
// bound says by how much).
#include <cmath>

#include <doctest/doctest.h>

#include "bound_check.h"
#include "core/reference_arithmetic.h"
#include "op_test_support.h"

using namespace fpaudit;
using namespace fpaudit::test;

namespace {

using Ints = std::vector<std::int64_t>;

ModelBuilder topk(const Ints& x, std::int64_t k, std::int64_t axis, bool largest) {
  ModelBuilder m(11);
  m.input("x", kFloat, x).output("v").output("i", 7);
  m.initializer(int64_tensor("k", {1}, {k}));
  auto& n = m.node("TopK", {"x", "k"}, {"v", "i"});
  set_attr(n, "axis", axis);
  set_attr(n, "largest", std::int64_t{largest ? 1 : 0});
  return m;
}

ModelBuilder scatter(const std::string& reduction, const Ints& data, const Ints& ishape, const Ints& idx, const Ints& updates) {
  ModelBuilder m(reduction == "none" ? 13 : 18);
  m.input("d", kFloat, data).input("u", kFloat, updates).output("y");
  m.initializer(int64_tensor("i", ishape, idx));
  auto& n = m.node("ScatterND", {"d", "i", "u"}, {"y"});
  if (reduction != "none") set_attr(n, "reduction", reduction);
  return m;
}

}  // namespace

TEST_CASE("TopK: the K largest or smallest along the axis, sorted, ties by lower index, int64 indices") {
  const std::vector<Feed> x = {{{2, 4}, {3, 1, 4, 1, 5, 9, 2, 6}}};
  const auto exact = make_reference_arithmetic("exact");
  auto both = [&](const ModelBuilder& m) { return run_model(m, x, *exact); };
  CHECK(both(topk({2, 4}, 2, -1, true)) == std::vector<std::vector<double>>{{4, 3, 9, 6}, {2, 0, 1, 3}});
  CHECK(both(topk({2, 4}, 3, 1, false)) == std::vector<std::vector<double>>{{1, 1, 3, 2, 5, 6}, {1, 3, 0, 2, 0, 3}});
  CHECK(both(topk({2, 4}, 1, 0, true)) == std::vector<std::vector<double>>{{5, 9, 4, 6}, {1, 1, 0, 1}});
  check_all_exact(topk({2, 4}, 2, -1, true), x, {4, 3, 9, 6});
  CHECK(refusal(topk({2, 4}, 5, -1, true), x).find("K must be one value in [0, 4]") != std::string::npos);
}

TEST_CASE("TopK's bounds: values within the slice's largest error, indices within the candidates' spread") {
  // 1 at position 0 and 1 + 2^-12 at position 2: binary16 rounds the second to 1 and ties them,
  // so the chain lists index 0 first where the exact network lists 2: the indices differ by 2
  // at both ranks, and the indices' bound (checked with the values') must cover that.
  const auto fp16 = make_chain_arithmetic(parse_chain("fp16"));
  const BoundCheck b = check_bounds(topk({1, 3}, 2, -1, true), {{{1, 3}, {1, 0, 1 + 0x1p-12}}}, *fp16);
  CHECK(b.violations == 0);
  check_bounds_every_chain(topk({3, 8}, 3, 1, true), {{{3, 8}, sweep(24)}});
  check_bounds_every_chain(topk({4, 2, 3}, 2, 0, false), {{{4, 2, 3}, sweep(24, 0.1)}});
}

TEST_CASE("ScatterND writes slices or combines them with add, mul, max or min") {
  // data [4, 2]; indices [[1], [3], [1]] write rows 1, 3 and 1 again.
  // Values small enough for bfloat16's 8 bits, so every chain gives them exactly.
  const std::vector<Feed> in = {{{4, 2}, {1, 2, 3, 4, 5, 6, 7, 8}}, {{3, 2}, {2, 4, 30, 40, 8, 16}}};
  const Ints ishape = {3, 1}, idx = {1, 3, 1};
  check_all_exact(scatter("none", {4, 2}, ishape, idx, {3, 2}), in, {1, 2, 8, 16, 5, 6, 30, 40});
  check_all_exact(scatter("add", {4, 2}, ishape, idx, {3, 2}), in, {1, 2, 13, 24, 5, 6, 37, 48});
  check_all_exact(scatter("mul", {4, 2}, ishape, idx, {3, 2}), in, {1, 2, 48, 256, 5, 6, 210, 320});
  check_all_exact(scatter("max", {4, 2}, ishape, idx, {3, 2}), in, {1, 2, 8, 16, 5, 6, 30, 40});
  check_all_exact(scatter("min", {4, 2}, ishape, idx, {3, 2}), in, {1, 2, 2, 4, 5, 6, 7, 8});
  // Element indices (the last axis of indices = the data's rank), negative from the end.
  check_all_exact(scatter("none", {2, 2}, {2, 2}, {0, 1, -1, 0}, {2}), {{{2, 2}, {1, 2, 3, 4}}, {{2}, {7, 9}}}, {1, 7, 9, 4});
  CHECK(refusal(scatter("none", {2, 2}, {1, 2}, {2, 0}, {1}), {{{2, 2}, {1, 2, 3, 4}}, {{1}, {7}}}).find("index 2 is out of range") !=
        std::string::npos);
  CHECK(refusal(scatter("none", {4, 2}, ishape, idx, {3, 3}), {{{4, 2}, sweep(8)}, {{3, 3}, sweep(9)}}).find("updates [3, 3] must be [3, 2]") !=
        std::string::npos);
  for (const char* r : {"none", "add", "mul", "max", "min"}) {
    INFO(r);
    check_bounds_every_chain(scatter(r, {4, 3}, {4, 1}, {2, 0, 2, 2}, {4, 3}), {{{4, 3}, sweep(12)}, {{4, 3}, sweep(12, 2.1)}});
  }
}

TEST_CASE("NonZero folds on constants and is refused on run-time data with one line") {
  ModelBuilder m(13);
  m.input("x", kFloat, {2, 3}).output("y");
  m.initializer(float_tensor("c", {2, 2}, {1, 0, 0, 3}));
  m.node("NonZero", {"c"}, {"n"});
  m.node("Cast", {"n"}, {"f"});
  set_attr(*m.model.mutable_graph()->mutable_node(1), "to", std::int64_t{1});
  m.node("ReduceSum", {"f"}, {"s"});
  m.node("Add", {"x", "s"}, {"y"});
  // Coordinates (0, 0) and (1, 1): rows [0, 1] and [0, 1], summing to 2.
  check_all_exact(m, {{{2, 3}, {0, 1, 2, 3, 4, 5}}}, {2, 3, 4, 5, 6, 7});
  ModelBuilder r(13);
  r.input("x", kFloat, {2, 3}).output("y", 7);
  r.node("NonZero", {"x"}, {"y"});
  CHECK(refusal(r, {{{2, 3}, sweep(6)}}).find("NonZero's output shape depends on its values") != std::string::npos);
}

TEST_CASE("Pad wrap repeats the axis periodically, also beyond one period") {
  ModelBuilder m(19);
  m.input("x", kFloat, {1, 3}).output("y");
  m.initializer(int64_tensor("p", {4}, {0, 4, 0, 2}));
  set_attr(m.node("Pad", {"x", "p"}, {"y"}), "mode", std::string("wrap"));
  check_all_exact(m, {{{1, 3}, {1, 2, 3}}}, {3, 1, 2, 3, 1, 2, 3, 1, 2});
  check_bounds_every_chain(m, {{{1, 3}, sweep(3)}});
  // A crop on one side and a pad on the other would change the period: refused.
  ModelBuilder mixed(19);
  mixed.input("x", kFloat, {1, 3}).output("y");
  mixed.initializer(int64_tensor("p", {4}, {0, -1, 0, 2}));
  set_attr(mixed.node("Pad", {"x", "p"}, {"y"}), "mode", std::string("wrap"));
  CHECK(refusal(mixed, {{{1, 3}, {1, 2, 3}}}).find("mix a crop with a pad") != std::string::npos);
}

TEST_CASE("Mish: x·tanh(softplus(x)) rounded once, bounded in every chain") {
  ModelBuilder m(18);
  m.input("x", kFloat, {40}).output("y");
  m.node("Mish", {"x"}, {"y"});
  const auto exact = make_reference_arithmetic("exact");
  CHECK(run_first(m, {{{40}, std::vector<double>(40, 0.0)}}, *exact)[0] == 0);
  std::vector<double> x = sweep(40);
  for (double& v : x) v *= 8;
  const std::vector<double> y = run_first(m, {{{40}, x}}, *exact);
  for (std::size_t i = 0; i < x.size(); ++i) CHECK(y[i] == doctest::Approx(x[i] * std::tanh(std::log1p(std::exp(x[i])))).epsilon(1e-14));
  check_bounds_every_chain(m, {{{40}, x}});
}

TEST_CASE("Resize cubic's bound (a dot product with rounded weights) holds in every chain") {
  for (const char* transform : {"half_pixel", "align_corners", "asymmetric", "pytorch_half_pixel"}) {
    INFO(transform);
    ModelBuilder m(13);
    m.input("x", kFloat, {1, 1, 4, 4}).output("y");
    m.initializer(float_tensor("roi", {0}, {}));
    m.initializer(float_tensor("scales", {4}, {1, 1, 1.5f, 0.75f}));
    auto& n = m.node("Resize", {"x", "roi", "scales"}, {"y"});
    set_attr(n, "mode", std::string("cubic"));
    set_attr(n, "coordinate_transformation_mode", std::string(transform));
    check_bounds_every_chain(m, {{{1, 1, 4, 4}, sweep(16)}});
  }
}
