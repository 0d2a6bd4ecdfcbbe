// The operators that once ran only on constants and now run on runtime data without rounding:
// Abs, Neg, Sign, Ceil, Floor, Round; comparisons, logic and Where; ReduceMax, ReduceMin,
// GlobalMaxPool, ArgMax, ArgMin; Tile, Expand, DepthToSpace, SpaceToDepth. Each gives its
// hand-computed values in every arithmetic whose storage holds them, and its bound holds on
// every element in every chain. The flips near a discontinuity (a comparison, a step, an index)
// are shown in binary16, with the bound saying so.
#include <cmath>

#include <doctest/doctest.h>

#include "bound_check.h"
#include "core/reference_arithmetic.h"
#include "op_test_support.h"

using namespace fpaudit;
using namespace fpaudit::test;

namespace {

const std::vector<double> kSteps = {-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, -0.75, 0.25, 3};

/// op(x) → y for x of `shape`.
ModelBuilder one_node(const std::string& op, const std::vector<std::int64_t>& shape, int opset = 13) {
  ModelBuilder m(opset);
  m.input("x", kFloat, shape).output("y");
  m.node(op, {"x"}, {"y"});
  return m;
}

/// x op c with a scalar constant c.
ModelBuilder against(const std::string& op, float c) {
  ModelBuilder m(13);
  m.input("x", kFloat, {-1}).output("y");
  m.initializer(float_tensor("c", {}, {c}));
  m.node(op, {"x", "c"}, {"y"});
  return m;
}

/// Values spread over several binades, near integers and halves, for the bound sweeps.
std::vector<double> sweep_values(int n) {
  std::vector<double> v;
  for (int i = 0; i < n; ++i) v.push_back(std::ldexp(std::sin(1.7 * i + 0.3), i % 5) + (i % 3 == 0 ? 0.5 : 0.0) + 1e-4 * i);
  return v;
}

}  // namespace

TEST_CASE("Abs, Neg, Sign, Ceil, Floor and Round (half to even) on runtime data") {
  const std::vector<Feed> in = {{{9}, kSteps}};
  check_all_exact(one_node("Abs", {9}), in, {2.5, 1.5, 0.5, 0.5, 1.5, 2.5, 0.75, 0.25, 3});
  check_all_exact(one_node("Neg", {9}), in, {2.5, 1.5, 0.5, -0.5, -1.5, -2.5, 0.75, -0.25, -3});
  check_all_exact(one_node("Sign", {9}), in, {-1, -1, -1, 1, 1, 1, -1, 1, 1});
  check_all_exact(one_node("Ceil", {9}), in, {-2, -1, 0, 1, 2, 3, 0, 1, 3});
  check_all_exact(one_node("Floor", {9}), in, {-3, -2, -1, 0, 1, 2, -1, 0, 3});
  check_all_exact(one_node("Round", {9}), in, {-2, -2, 0, 0, 2, 2, -1, 0, 3});
  for (const char* op : {"Abs", "Neg", "Sign", "Ceil", "Floor", "Round"}) {
    INFO(op);
    check_bounds_every_chain(one_node(op, {40}), {{{40}, sweep_values(40)}});
  }
}

TEST_CASE("a step function near its jump: binary16 rounds 2 - 2^-13 up to 2, Floor jumps by 1, and the bound says 1") {
  const auto fp16 = make_chain_arithmetic(parse_chain("fp16"));
  const std::vector<Feed> in = {{{3}, {2 - 0x1p-13, 2.75, -0.4}}};
  const ModelBuilder m = one_node("Floor", {3});
  CHECK(run_first(m, in, *fp16) == std::vector<double>{2, 2, -1});
  CHECK(run_first(m, in, *make_reference_arithmetic("exact")) == std::vector<double>{1, 2, -1});
  const BoundCheck b = check_bounds(m, in, *fp16);
  CHECK(b.violations == 0);
  CHECK(b.last_error[0] == 1);
  CHECK(b.last_bound[0] >= 1);
  CHECK(b.last_bound[0] < 1.001);
  CHECK(b.last_bound[1] == 0);  // 2.75 ± its rounding error stays inside [2, 3)
  CHECK(b.last_bound[2] == 0);
}

TEST_CASE("comparisons give 0 and 1 with broadcasting") {
  const std::vector<Feed> in = {{{3}, {1, 2, 3}}};
  check_all_exact(against("Equal", 2), in, {0, 1, 0});
  check_all_exact(against("Greater", 2), in, {0, 0, 1});
  check_all_exact(against("GreaterOrEqual", 2), in, {0, 1, 1});
  check_all_exact(against("Less", 2), in, {1, 0, 0});
  check_all_exact(against("LessOrEqual", 2), in, {1, 1, 0});
  for (const char* op : {"Equal", "Greater", "GreaterOrEqual", "Less", "LessOrEqual"}) {
    INFO(op);
    check_bounds_every_chain(against(op, 0.5f), {{{40}, sweep_values(40)}});
  }
}

TEST_CASE("a comparison flipped by rounding: 1 + 2^-12 > 1 is false in binary16, and its bound is 1, not the input's") {
  const auto fp16 = make_chain_arithmetic(parse_chain("fp16"));
  const std::vector<Feed> in = {{{3}, {1 + 0x1p-12, 1.5, 0.999}}};
  const ModelBuilder m = against("Greater", 1);
  CHECK(run_first(m, in, *fp16) == std::vector<double>{0, 1, 0});
  CHECK(run_first(m, in, *make_reference_arithmetic("exact")) == std::vector<double>{1, 1, 0});
  const BoundCheck b = check_bounds(m, in, *fp16);
  CHECK(b.violations == 0);
  CHECK(b.last_error == std::vector<double>{1, 0, 0});
  // Flippable where |x - 1| is within x's rounding error (2^-12 here), certain elsewhere.
  CHECK(b.last_bound == std::vector<double>{1, 0, 0});
}

TEST_CASE("Not, And, Or, Xor of comparisons, and Where") {
  ModelBuilder m(13);
  m.input("x", kFloat, {3}).output("and").output("or").output("xor").output("not").output("where");
  m.initializer(float_tensor("lo", {}, {1.5f})).initializer(float_tensor("hi", {}, {2.5f}));
  m.node("Greater", {"x", "lo"}, {"p"});  // 0 1 1
  m.node("Less", {"x", "hi"}, {"q"});     // 1 1 0
  m.node("And", {"p", "q"}, {"and"});
  m.node("Or", {"p", "q"}, {"or"});
  m.node("Xor", {"p", "q"}, {"xor"});
  m.node("Not", {"p"}, {"not"});
  m.node("Neg", {"x"}, {"n"});
  m.node("Where", {"p", "x", "n"}, {"where"});
  const std::vector<Feed> in = {{{3}, {1, 2, 3}}};
  for (const auto& a : exact_capable_arithmetics()) {
    INFO(a->name());
    const auto out = run_model(m, in, *a);
    CHECK(out[0] == std::vector<double>{0, 1, 0});
    CHECK(out[1] == std::vector<double>{1, 1, 1});
    CHECK(out[2] == std::vector<double>{1, 0, 1});
    CHECK(out[3] == std::vector<double>{1, 0, 0});
    CHECK(out[4] == std::vector<double>{-1, 2, 3});
  }
  check_bounds_every_chain(m, {{{3}, {1.5 + 0x1p-12, 2.5 - 0x1p-13, 0.3}}});
}

TEST_CASE("Where with a flipped condition: the bound covers the other branch") {
  ModelBuilder m(13);
  m.input("x", kFloat, {2}).output("y");
  m.initializer(float_tensor("one", {}, {1.0f}));
  m.node("Greater", {"x", "one"}, {"p"});
  m.node("Neg", {"x"}, {"n"});
  m.node("Where", {"p", "x", "n"}, {"y"});
  const auto fp16 = make_chain_arithmetic(parse_chain("fp16"));
  const std::vector<Feed> in = {{{2}, {1 + 0x1p-12, 3}}};
  CHECK(run_first(m, in, *fp16) == std::vector<double>{-1, 3});
  const BoundCheck b = check_bounds(m, in, *fp16);
  CHECK(b.violations == 0);
  CHECK(b.last_error[0] == 2 + 0x1p-12);
  CHECK(b.last_bound[0] >= 2 + 0x1p-12);
  CHECK(b.last_bound[0] < 2 + 0x1p-11);
  CHECK(b.last_bound[1] == 0);
}

TEST_CASE("ReduceMax, ReduceMin and GlobalMaxPool select; the largest input bound passes") {
  const std::vector<Feed> x = {{{2, 3, 2}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}}};
  for (const char* op : {"ReduceMax", "ReduceMin"}) {
    ModelBuilder m(13);
    m.input("x", kFloat, {2, 3, 2}).output("y");
    set_attr(m.node(op, {"x"}, {"y"}), "axes", std::vector<std::int64_t>{1});
    CHECK(first_output_shape(m, x) == Shape{2, 1, 2});
    check_all_exact(m, x, std::string(op) == "ReduceMax" ? std::vector<double>{5, 6, 11, 12} : std::vector<double>{1, 2, 7, 8});
    ModelBuilder all(13);
    all.input("x", kFloat, {4, 10}).output("y");
    set_attr(all.node(op, {"x"}, {"y"}), "keepdims", std::int64_t{0});
    check_bounds_every_chain(all, {{{4, 10}, sweep_values(40)}});
  }
  const ModelBuilder g = one_node("GlobalMaxPool", {1, 2, 2, 2});
  check_all_exact(g, {{{1, 2, 2, 2}, {1, 4, 2, 3, -1, -5, -2, -3}}}, {4, -1});
  check_bounds_every_chain(one_node("GlobalMaxPool", {2, 2, 10}), {{{2, 2, 10}, sweep_values(40)}});
}

TEST_CASE("ArgMax and ArgMin: first or last index of the extremum") {
  const std::vector<Feed> x = {{{2, 3}, {1, 3, 3, 2, 0, 2}}};
  auto arg = [](const char* op, std::int64_t last) {
    ModelBuilder m(13);
    m.input("x", kFloat, {2, 3}).output("y");
    auto& n = m.node(op, {"x"}, {"y"});
    set_attr(n, "axis", std::int64_t{1});
    set_attr(n, "select_last_index", last);
    return m;
  };
  CHECK(first_output_shape(arg("ArgMax", 0), x) == Shape{2, 1});
  check_all_exact(arg("ArgMax", 0), x, {1, 0});
  check_all_exact(arg("ArgMax", 1), x, {2, 2});
  check_all_exact(arg("ArgMin", 0), x, {0, 1});
  check_all_exact(arg("ArgMin", 1), x, {0, 1});
  for (const char* op : {"ArgMax", "ArgMin"}) {
    ModelBuilder m(13);
    m.input("x", kFloat, {4, 10}).output("y");
    set_attr(m.node(op, {"x"}, {"y"}), "axis", std::int64_t{-1});
    check_bounds_every_chain(m, {{{4, 10}, sweep_values(40)}});
  }
}

TEST_CASE("ArgMax flipped by rounding: 1 and 1 + 2^-12 are equal in binary16, and the bound is the index spread") {
  const auto fp16 = make_chain_arithmetic(parse_chain("fp16"));
  ModelBuilder m(13);
  m.input("x", kFloat, {2, 3}).output("y");
  set_attr(m.node("ArgMax", {"x"}, {"y"}), "axis", std::int64_t{1});
  const std::vector<Feed> in = {{{2, 3}, {1, 0.5, 1 + 0x1p-12, 0.25, 2, 1}}};
  CHECK(run_first(m, in, *fp16) == std::vector<double>{0, 1});
  CHECK(run_first(m, in, *make_reference_arithmetic("exact")) == std::vector<double>{2, 1});
  const BoundCheck b = check_bounds(m, in, *fp16);
  CHECK(b.violations == 0);
  CHECK(b.last_bound == std::vector<double>{2, 0});  // candidates 0 and 2; row 1 is certain
}

TEST_CASE("Tile, Expand, DepthToSpace (DCR and CRD) and SpaceToDepth move data") {
  {
    ModelBuilder m(13);
    m.input("x", kFloat, {2, 2}).output("y");
    m.initializer(int64_tensor("r", {2}, {1, 2}));
    m.node("Tile", {"x", "r"}, {"y"});
    check_all_exact(m, {{{2, 2}, {1, 2, 3, 4}}}, {1, 2, 1, 2, 3, 4, 3, 4});
    check_bounds_every_chain(m, {{{2, 2}, {0.1, 1.7, -3.3, 1e-3}}});
  }
  {
    ModelBuilder m(13);
    m.input("x", kFloat, {3, 1}).output("y");
    m.initializer(int64_tensor("s", {2}, {3, 4}));
    m.node("Expand", {"x", "s"}, {"y"});
    check_all_exact(m, {{{3, 1}, {1, 2, 3}}}, {1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3});
    check_bounds_every_chain(m, {{{3, 1}, {0.1, 1.7, -3.3}}});
  }
  std::vector<double> iota(48);
  for (std::size_t i = 0; i < iota.size(); ++i) iota[i] = static_cast<double>(i);
  // ONNX's own examples (x = 0..47 of shape [1, 8, 2, 3], blocksize 2).
  const std::vector<double> dcr = {0,  12, 1,  13, 2,  14, 24, 36, 25, 37, 26, 38, 3,  15, 4,  16, 5,  17, 27, 39, 28, 40, 29, 41,
                                   6,  18, 7,  19, 8,  20, 30, 42, 31, 43, 32, 44, 9,  21, 10, 22, 11, 23, 33, 45, 34, 46, 35, 47};
  const std::vector<double> crd = {0,  6,  1,  7,  2,  8,  12, 18, 13, 19, 14, 20, 3,  9,  4,  10, 5,  11, 15, 21, 16, 22, 17, 23,
                                   24, 30, 25, 31, 26, 32, 36, 42, 37, 43, 38, 44, 27, 33, 28, 34, 29, 35, 39, 45, 40, 46, 41, 47};
  for (const char* mode : {"DCR", "CRD"}) {
    ModelBuilder m(13);
    m.input("x", kFloat, {1, 8, 2, 3}).output("y");
    auto& n = m.node("DepthToSpace", {"x"}, {"y"});
    set_attr(n, "blocksize", std::int64_t{2});
    set_attr(n, "mode", std::string(mode));
    CHECK(first_output_shape(m, {{{1, 8, 2, 3}, iota}}) == Shape{1, 2, 4, 6});
    check_all_exact(m, {{{1, 8, 2, 3}, iota}}, std::string(mode) == "DCR" ? dcr : crd);
    check_bounds_every_chain(m, {{{1, 8, 2, 3}, sweep_values(48)}});
  }
  ModelBuilder s(13);
  s.input("x", kFloat, {1, 2, 4, 6}).output("y");
  set_attr(s.node("SpaceToDepth", {"x"}, {"y"}), "blocksize", std::int64_t{2});
  check_all_exact(s, {{{1, 2, 4, 6}, dcr}}, iota);  // the inverse of DCR
  check_bounds_every_chain(s, {{{1, 2, 4, 6}, sweep_values(48)}});
}

TEST_CASE("ArgMax's index cast to float is rounded to the chain's storage: 17 is 16 in fp8-e4m3") {
  ModelBuilder m(13);
  m.input("x", kFloat, {1, 20}).output("y");
  set_attr(m.node("ArgMax", {"x"}, {"i"}), "axis", std::int64_t{1});
  set_attr(m.node("Cast", {"i"}, {"y"}), "to", std::int64_t{1});
  std::vector<double> x(20, 0.0);
  x[17] = 1;
  const std::vector<Feed> in = {{{1, 20}, x}};
  CHECK(run_first(m, in, *make_reference_arithmetic("exact")) == std::vector<double>{17});
  CHECK(run_first(m, in, *make_chain_arithmetic(parse_chain("fp16"))) == std::vector<double>{17});
  CHECK(run_first(m, in, *make_chain_arithmetic(parse_chain("fp8-e4m3-acc32"))) == std::vector<double>{16});  // tie to even
  check_bounds_every_chain(m, in);
}
