// Operators of issue #15's second round on runtime data: GatherElements and Trilu (exact
// selections), NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (dot products with
// constant coefficients), CumSum (a ReduceSum per prefix) and Hardmax (exact, discontinuous).
// Values hand-computed, checked in every arithmetic that holds them; bounds checked on every
// element in every chain.
#include <cmath>

#include <doctest/doctest.h>

#include "bound_check.h"
#include "core/reference_arithmetic.h"
#include "op_test_support.h"

using namespace fpaudit;
using namespace fpaudit::test;

namespace {

ModelBuilder gather_elements(std::int64_t axis) {
  ModelBuilder m(13);
  m.input("x", kFloat, {2, 3}).output("y");
  m.initializer(int64_tensor("i", {2, 2}, {2, -1, 0, 1}));
  set_attr(m.node("GatherElements", {"x", "i"}, {"y"}), "axis", axis);
  return m;
}

ModelBuilder trilu(bool upper, std::int64_t k) {
  ModelBuilder m(14);
  m.input("x", kFloat, {2, 3, 4}).output("y");
  m.initializer(int64_tensor("k", {}, {k}));
  set_attr(m.node("Trilu", {"x", "k"}, {"y"}), "upper", std::int64_t{upper ? 1 : 0});
  return m;
}

/// Input [2, 3, 2] (N = 2, C = 3, d1 = 2), target [2, 2], weights [3].
ModelBuilder loss(const std::string& op, const std::string& reduction, bool weighted, bool ignore) {
  ModelBuilder m(13);
  m.input("x", kFloat, {2, 3, 2}).output("y");
  m.initializer(int64_tensor("t", {2, 2}, {0, 2, 1, 1}));
  if (weighted) m.initializer(float_tensor("w", {3}, {0.5f, 2.0f, 1.0f}));
  auto& n = weighted ? m.node(op, {"x", "t", "w"}, {"y"}) : m.node(op, {"x", "t"}, {"y"});
  set_attr(n, "reduction", reduction);
  if (ignore) set_attr(n, "ignore_index", std::int64_t{1});
  return m;
}

ModelBuilder cumsum(std::int64_t axis, bool exclusive, bool reverse) {
  ModelBuilder m(14);
  m.input("x", kFloat, {2, 3}).output("y");
  m.initializer(int64_tensor("a", {}, {axis}));
  auto& n = m.node("CumSum", {"x", "a"}, {"y"});
  set_attr(n, "exclusive", std::int64_t{exclusive ? 1 : 0});
  set_attr(n, "reverse", std::int64_t{reverse ? 1 : 0});
  return m;
}

}  // namespace

TEST_CASE("GatherElements picks one element per index along the axis; negative indices count from the end") {
  const std::vector<Feed> x = {{{2, 3}, {1, 2, 3, 4, 5, 6}}};
  // axis 1: row 0 takes columns 2 and -1 = 2, row 1 columns 0 and 1.
  CHECK(first_output_shape(gather_elements(1), x) == Shape{2, 2});
  check_all_exact(gather_elements(1), x, {3, 3, 4, 5});
  // axis 0: index 2 is out of range for 2 rows: refused naming the index.
  CHECK(refusal(gather_elements(0), x).find("index 2 is out of range") != std::string::npos);
  check_bounds_every_chain(gather_elements(1), {{{2, 3}, sweep(6, 0.7, 4, -1)}});
}

TEST_CASE("Trilu keeps the upper or lower triangle of the last two axes, shifted by k") {
  std::vector<double> v(24);
  for (int i = 0; i < 24; ++i) v[static_cast<std::size_t>(i)] = i + 1;
  const std::vector<Feed> x = {{{2, 3, 4}, v}};
  check_all_exact(trilu(true, 0), x, {1, 2, 3, 4, 0, 6, 7, 8, 0, 0, 11, 12, 13, 14, 15, 16, 0, 18, 19, 20, 0, 0, 23, 24});
  check_all_exact(trilu(false, -1), x, {0, 0, 0, 0, 5, 0, 0, 0, 9, 10, 0, 0, 0, 0, 0, 0, 17, 0, 0, 0, 21, 22, 0, 0});
  check_all_exact(trilu(true, 4), x, std::vector<double>(24, 0.0));
  check_bounds_every_chain(trilu(false, 1), {{{2, 3, 4}, sweep(24, 0.7, 4, -1)}});
}

TEST_CASE("NegativeLogLikelihoodLoss: -w[t]·x[n, t, d], summed or averaged over the weights") {
  // x[n, c, d] = 1 + n·6 + c·2 + d; targets (n, d): (0,0)→0, (0,1)→2, (1,0)→1, (1,1)→1.
  std::vector<double> v(12);
  for (int i = 0; i < 12; ++i) v[static_cast<std::size_t>(i)] = i + 1;
  const std::vector<Feed> x = {{{2, 3, 2}, v}};
  // Picked: x[0,0,0] = 1, x[0,2,1] = 6, x[1,1,0] = 9, x[1,1,1] = 10.
  check_all_exact(loss("NegativeLogLikelihoodLoss", "none", false, false), x, {-1, -6, -9, -10});
  check_all_exact(loss("NegativeLogLikelihoodLoss", "none", true, false), x, {-0.5, -6, -18, -20});
  check_all_exact(loss("NegativeLogLikelihoodLoss", "sum", true, false), x, {-44.5});
  // mean: Σ -w·x / Σ w = -44.5 / 5.5 = -8.0909...; -89/11 rounded once in the exact reference.
  CHECK(run_first(loss("NegativeLogLikelihoodLoss", "mean", true, false), x, *make_reference_arithmetic("exact"))[0] ==
        doctest::Approx(-89.0 / 11).epsilon(1e-15));
  // ignore_index 1 drops the two class-1 targets: none gives 0 there, mean averages the rest.
  check_all_exact(loss("NegativeLogLikelihoodLoss", "none", true, true), x, {-0.5, -6, 0, 0});
  check_all_exact(loss("NegativeLogLikelihoodLoss", "mean", false, true), x, {-3.5});
  CHECK(first_output_shape(loss("NegativeLogLikelihoodLoss", "mean", true, false), x) == Shape{});
  for (const char* reduction : {"none", "sum", "mean"}) {
    INFO(reduction);
    check_bounds_every_chain(loss("NegativeLogLikelihoodLoss", reduction, true, false), {{{2, 3, 2}, sweep(12, 0.7, 4, -1)}});
    check_bounds_every_chain(loss("SoftmaxCrossEntropyLoss", reduction, true, true), {{{2, 3, 2}, sweep(12, 0.7, 4, -1)}});
  }
}

TEST_CASE("SoftmaxCrossEntropyLoss is NegativeLogLikelihoodLoss of the log probabilities along axis 1") {
  // Equal scores: every log probability is -log 3, so the unweighted mean loss is log 3.
  const std::vector<Feed> x = {{{2, 3, 2}, std::vector<double>(12, 0.25)}};
  const auto exact = make_reference_arithmetic("exact");
  CHECK(run_first(loss("SoftmaxCrossEntropyLoss", "mean", false, false), x, *exact)[0] == doctest::Approx(std::log(3.0)).epsilon(1e-15));
  // Scores 0 and log 3 - ... : class 2 has score log 2 more than the others, p = 2/4.
  std::vector<double> v = {0, 0, 0, 0, std::log(2.0), std::log(2.0), 0, 0, 0, 0, 0, 0};
  const auto y = run_first(loss("SoftmaxCrossEntropyLoss", "none", false, false), {{{2, 3, 2}, v}}, *exact);
  CHECK(y[0] == doctest::Approx(std::log(4.0)).epsilon(1e-15));  // target 0: p = 1/4
  CHECK(y[1] == doctest::Approx(std::log(2.0)).epsilon(1e-15));  // target 2: p = 2/4
  CHECK(y[2] == doctest::Approx(std::log(3.0)).epsilon(1e-15));  // second sample: equal scores
  const BoundCheck b = check_bounds(loss("SoftmaxCrossEntropyLoss", "sum", false, false), {{{2, 3, 2}, sweep(12, 0.7, 4, -1)}},
                                    *make_chain_arithmetic(parse_chain("fp16")));
  CHECK(b.violations == 0);
  CHECK(b.last_bound[0] > 0);
  CHECK(b.last_bound[0] < 0.05);
}

TEST_CASE("CumSum: running sums along the axis, exclusive and reversed") {
  const std::vector<Feed> x = {{{2, 3}, {1, 2, 3, 4, 5, 6}}};
  check_all_exact(cumsum(1, false, false), x, {1, 3, 6, 4, 9, 15});
  check_all_exact(cumsum(1, true, false), x, {0, 1, 3, 0, 4, 9});
  check_all_exact(cumsum(1, false, true), x, {6, 5, 3, 15, 11, 6});
  check_all_exact(cumsum(-2, true, true), x, {4, 5, 6, 0, 0, 0});
  // 2048 + 1 + 1: binary16 (11 bits) rounds 2048 + 1 back to 2048 (a tie, to even), and its
  // second prefix stays 2048; binary32 accumulation keeps 2049 and rounds it once, to 2048 too,
  // but reaches 2050 at the third.
  const std::vector<Feed> big = {{{1, 3}, {2048, 1, 1}}};
  ModelBuilder m(14);
  m.input("x", kFloat, {1, 3}).output("y");
  m.initializer(int64_tensor("a", {}, {1}));
  m.node("CumSum", {"x", "a"}, {"y"});
  CHECK(run_model(m, big, *make_chain_arithmetic(parse_chain("fp16")))[0] == std::vector<double>{2048, 2048, 2048});
  CHECK(run_model(m, big, *make_chain_arithmetic(parse_chain("fp16-acc32")))[0] == std::vector<double>{2048, 2048, 2050});
  for (bool exclusive : {false, true})
    for (bool reverse : {false, true}) check_bounds_every_chain(cumsum(0, exclusive, reverse), {{{2, 3}, sweep(6, 0.7, 4, -1)}});
}

TEST_CASE("Hardmax: 1 at the first largest element along the axis, and the bound says where it may move") {
  ModelBuilder m(13);
  m.input("x", kFloat, {2, 3}).output("y");
  m.node("Hardmax", {"x"}, {"y"});
  check_all_exact(m, {{{2, 3}, {1, 3, 2, 5, 5, 4}}}, {0, 1, 0, 1, 0, 0});
  // 1 + 2^-12 and 1: binary16 rounds the first to 1 (2^-12 is below half its ulp), its Hardmax picks index 0 where
  // the exact one picks 0 too; 1 and 1 + 2^-12 (second first) flip: the chain picks 0, the exact 1.
  const std::vector<Feed> close = {{{2, 3}, {1 + 0x1p-12, 1, 0, 1, 1 + 0x1p-12, 0}}};
  const BoundCheck b = check_bounds(m, close, *make_chain_arithmetic(parse_chain("fp16")));
  CHECK(b.violations == 0);
  CHECK(b.last_error == std::vector<double>{0, 0, 0, 1, 1, 0});
  CHECK(b.last_bound == std::vector<double>{1, 1, 0, 1, 1, 0});
  check_bounds_every_chain(m, {{{2, 3}, sweep(6, 0.7, 4, -1)}});
}

TEST_CASE("ReduceLogSum: the log of ReduceSum's sum, rounded once; a negative sum has no bound") {
  ModelBuilder m(13);
  m.input("x", kFloat, {2, 3}).output("y");
  set_attr(m.node("ReduceLogSum", {"x"}, {"y"}), "axes", std::vector<std::int64_t>{1});
  const auto exact = make_reference_arithmetic("exact");
  const auto y = run_first(m, {{{2, 3}, {1, 2, 5, 0.5, 0.25, 0.25}}}, *exact);
  CHECK(y == std::vector<double>{std::log(8.0), 0.0});
  check_bounds_every_chain(m, {{{2, 3}, {1, 2, 5, 0.5, 0.25, 0.25}}});
  std::vector<double> positive = sweep(6, 0.7, 4, -1);
  for (double& v : positive) v = std::fabs(v) + 0.1;
  check_bounds_every_chain(m, {{{2, 3}, positive}});
}

TEST_CASE("Sum and Mean of broadcast operands: one sum by the chain's schedule per element") {
  auto variadic = [](const std::string& op) {
    ModelBuilder m(13);
    m.input("a", kFloat, {2, 2}).input("b", kFloat, {2}).input("c", kFloat, {1, 1}).output("y");
    m.node(op, {"a", "b", "c"}, {"y"});
    return m;
  };
  const std::vector<Feed> x = {{{2, 2}, {1, 2, 3, 4}}, {{2}, {10, 20}}, {{1, 1}, {0.5}}};
  check_all_exact(variadic("Sum"), x, {11.5, 22.5, 13.5, 24.5});
  check_all_exact(variadic("Mean"), {{{2, 2}, {3, 6, 0, 9}}, {{2}, {0, 3}}, {{1, 1}, {0}}}, {1, 3, 0, 4});
  // 2048 + 1 + 1 in binary16 summed in order: 2048 + 1 is a tie and rounds to 2048, twice.
  const std::vector<Feed> big = {{{2, 2}, {2048, 2048, 2048, 2048}}, {{2}, {1, 1}}, {{1, 1}, {1}}};
  CHECK(run_first(variadic("Sum"), big, *make_chain_arithmetic(parse_chain("fp16")))[0] == 2048);
  CHECK(run_first(variadic("Sum"), big, *make_chain_arithmetic(parse_chain("fp16-acc32")))[0] == 2050);
  for (const char* op : {"Sum", "Mean"}) {
    INFO(op);
    check_bounds_every_chain(variadic(op), {{{2, 2}, sweep(4, 0.7, 4, -1)}, {{2}, {0.3, -0.7}}, {{1, 1}, {1.1}}});
  }
}

TEST_CASE("Pad: constant, edge and reflect modes; negative pads crop; the fill value rounded into storage") {
  auto pad = [](const std::string& mode, const std::vector<std::int64_t>& pads, float fill) {
    ModelBuilder m(13);
    m.input("x", kFloat, {2, 3}).output("y");
    m.initializer(int64_tensor("p", {4}, pads));
    m.initializer(float_tensor("c", {}, {fill}));
    set_attr(m.node("Pad", {"x", "p", "c"}, {"y"}), "mode", mode);
    return m;
  };
  const std::vector<Feed> x = {{{2, 3}, {1, 2, 3, 4, 5, 6}}};
  // Axis 1 padded by 2 before and 1 after; axis 0 by 0 and 1.
  const std::vector<std::int64_t> pads = {0, 2, 1, 1};
  CHECK(first_output_shape(pad("constant", pads, 0.5f), x) == Shape{3, 6});
  check_all_exact(pad("constant", pads, 0.5f), x, {.5, .5, 1, 2, 3, .5, .5, .5, 4, 5, 6, .5, .5, .5, .5, .5, .5, .5});
  check_all_exact(pad("edge", pads, 0), x, {1, 1, 1, 2, 3, 3, 4, 4, 4, 5, 6, 6, 4, 4, 4, 5, 6, 6});
  check_all_exact(pad("reflect", pads, 0), x, {3, 2, 1, 2, 3, 2, 6, 5, 4, 5, 6, 5, 3, 2, 1, 2, 3, 2});
  check_all_exact(pad("constant", {0, -1, 0, -1}, 0), x, {2, 5});
  CHECK(refusal(pad("reflect", {0, 3, 0, 0}, 0), x).find("must be less than its size 3") != std::string::npos);
  // A fill of 0.1 is not a binary16 value: its rounding is the padded elements' whole error.
  const BoundCheck b = check_bounds(pad("constant", pads, 0.1f), x, *make_chain_arithmetic(parse_chain("fp16")));
  CHECK(b.violations == 0);
  CHECK(b.last_error[0] > 0);
  CHECK(b.last_bound[0] >= b.last_error[0]);
  CHECK(b.last_bound[2] == 0);  // a copy of the exactly stored 1
  for (const char* mode : {"constant", "edge", "reflect"}) check_bounds_every_chain(pad(mode, pads, 0.1f), {{{2, 3}, sweep(6, 0.7, 4, -1)}});
}

TEST_CASE("OneHot: values[1] where the class equals the index (negative indices from the end), values[0] elsewhere") {
  ModelBuilder m(11);
  m.input("v", kFloat, {2}).output("y");
  m.initializer(int64_tensor("i", {3}, {0, -1, 7}));
  m.initializer(float_tensor("d", {}, {4.0f}));
  set_attr(m.node("OneHot", {"i", "d", "v"}, {"y"}), "axis", std::int64_t{0});
  const std::vector<Feed> v = {{{2}, {-1, 3}}};
  CHECK(first_output_shape(m, v) == Shape{4, 3});
  // Columns: index 0, index -1 = 3, index 7 (out of range: all off).
  check_all_exact(m, v, {3, -1, -1, -1, -1, -1, -1, -1, -1, -1, 3, -1});
  check_bounds_every_chain(m, {{{2}, {0.1, 0.7}}});
}
