// ReduceSum and ReduceMean: axes as attribute or input, keepdims, noop_with_empty_axes, and the
// row-major order of the sum, which binary16 rounding makes visible.
#include <doctest/doctest.h>

#include "core/reference_arithmetic.h"
#include "op_test_support.h"

using namespace fpaudit;
using namespace fpaudit::test;

namespace {

// x [2, 3, 2] = 1..12: x[i][j][k] = 6i + 2j + k + 1.
const std::vector<Feed> k2x3x2 = {{{2, 3, 2}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}}};

}  // namespace

TEST_CASE("ReduceMean over axes (0, 2), axes as an attribute (opset 13), with and without keepdims") {
  for (const std::int64_t keep : {0, 1}) {
    ModelBuilder m(13);
    m.input("x", kFloat, {2, 3, 2}).output("y");
    auto& n = m.node("ReduceMean", {"x"}, {"y"});
    set_attr(n, "axes", std::vector<std::int64_t>{0, -1});
    set_attr(n, "keepdims", keep);
    CHECK(first_output_shape(m, k2x3x2) == (keep ? Shape{1, 3, 1} : Shape{3}));
    // j = 0: (1 + 2 + 7 + 8) / 4 = 4.5; j = 1: 6.5; j = 2: 8.5.
    check_all_exact(m, k2x3x2, {4.5, 6.5, 8.5});
  }
}

TEST_CASE("ReduceSum with axes as an input (opset 13), over all axes by default, or none") {
  SUBCASE("axes input (1)") {
    ModelBuilder m(13);
    m.input("x", kFloat, {2, 3, 2}).output("y");
    m.initializer(int64_tensor("axes", {1}, {1}));
    m.node("ReduceSum", {"x", "axes"}, {"y"});
    // Sums over j: (1+3+5, 2+4+6, 7+9+11, 8+10+12), keepdims: [2, 1, 2].
    CHECK(first_output_shape(m, k2x3x2) == Shape{2, 1, 2});
    check_all_exact(m, k2x3x2, {9, 12, 27, 30});
  }
  SUBCASE("no axes: everything") {
    ModelBuilder m(13);
    m.input("x", kFloat, {2, 3, 2}).output("y");
    set_attr(m.node("ReduceSum", {"x"}, {"y"}), "keepdims", std::int64_t{0});
    check_all_exact(m, k2x3x2, {78});
  }
  SUBCASE("no axes with noop_with_empty_axes: the input itself") {
    ModelBuilder m(13);
    m.input("x", kFloat, {2, 3, 2}).output("y");
    set_attr(m.node("ReduceSum", {"x"}, {"y"}), "noop_with_empty_axes", std::int64_t{1});
    check_all_exact(m, k2x3x2, k2x3x2[0].values);
  }
  SUBCASE("axes as an attribute before opset 13") {
    ModelBuilder m(11);
    m.input("x", kFloat, {2, 3, 2}).output("y");
    set_attr(m.node("ReduceSum", {"x"}, {"y"}), "axes", std::vector<std::int64_t>{2});
    check_all_exact(m, k2x3x2, {3, 7, 11, 15, 19, 23});
  }
}

TEST_CASE("a reduction sums its terms in row-major order, along a strided axis too") {
  // Reducing axis 0 of [4, 2]: column 0 holds (1, 1, 2048, 1) top to bottom. Sequential
  // binary16: 1+1 = 2, 2+2048 = 2050, +1 = 2051 → 2052 (tie to even). The reverse order would
  // give 1+2048 → 2048 (tie), +1 → 2048, +1 → 2048.
  ModelBuilder m(13);
  m.input("x", kFloat, {4, 2}).output("y");
  m.initializer(int64_tensor("axes", {1}, {0}));
  m.node("ReduceSum", {"x", "axes"}, {"y"});
  const std::vector<Feed> in = {{{4, 2}, {1, 0, 1, 0, 2048, 0, 1, 0}}};
  CHECK(run_first(m, in, *make_chain_arithmetic(parse_chain("fp16"))) == std::vector<double>{2052, 0});
  CHECK(run_first(m, in, *make_reference_arithmetic("exact")) == std::vector<double>{2051, 0});
}

TEST_CASE("ReduceMean divides with one rounding: 1/3 in binary16 storage") {
  ModelBuilder m(13);
  m.input("x", kFloat, {3}).output("y");
  m.node("ReduceMean", {"x"}, {"y"});
  const std::vector<Feed> in = {{{3}, {1, 0, 0}}};
  CHECK(run_first(m, in, *make_chain_arithmetic(parse_chain("fp16")))[0] == 0.333251953125);  // RN16(1/3)
  CHECK(run_first(m, in, *make_reference_arithmetic("exact"))[0] == 1.0 / 3);
}

TEST_CASE("Pow with exponent 0.5 is pow, not sqrt, at -0 and -Inf, in every arithmetic") {
  // C99 pow(-0, 0.5) = +0 and pow(-Inf, 0.5) = +Inf, where sqrt gives -0 and NaN.
  ModelBuilder m(13);
  m.input("x", kFloat, {4}).output("y", kFloat, {4});
  m.initializer(float_tensor("half", {}, {0.5f}));
  m.node("Pow", {"x", "half"}, {"y"});
  const std::vector<Feed> in = {{{4}, {-0.0, -INFINITY, 4.0, 0.25}}};
  check_all_exact(m, in, {0.0, INFINITY, 2.0, 0.5});
  for (const auto& a : exact_capable_arithmetics()) {
    INFO("arithmetic " << a->name());
    CHECK_FALSE(std::signbit(run_first(m, in, *a)[0]));
  }
}
