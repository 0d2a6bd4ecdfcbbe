// MaxPool, AveragePool and GlobalAveragePool: windows, ceil_mode, padding and the divisor.
#include <cmath>

#include <doctest/doctest.h>

#include "core/reference_arithmetic.h"
#include "op_test_support.h"

using namespace fpaudit;
using namespace fpaudit::test;

namespace {

ModelBuilder pool(const std::string& op, const std::vector<std::int64_t>& x_shape, const std::vector<std::int64_t>& kernel) {
  ModelBuilder m(13);
  m.input("x", kFloat, x_shape).output("y");
  set_attr(m.node(op, {"x"}, {"y"}, "pool"), "kernel_shape", kernel);
  return m;
}

onnx::NodeProto& node_of(ModelBuilder& m) { return *m.model.mutable_graph()->mutable_node(0); }

std::vector<double> one_to(int n) {
  std::vector<double> v;
  for (int i = 1; i <= n; ++i) v.push_back(i);
  return v;
}

}  // namespace

TEST_CASE("MaxPool 2x2, stride 2, ceil_mode: the last row and column get windows of their own") {
  // x[r][c] = 5r + c + 1. Floor mode keeps 2x2 outputs; ceil mode 3x3, the extra windows
  // clipped to the input: each maximum is the window's bottom-right element inside the input.
  ModelBuilder m = pool("MaxPool", {1, 1, 5, 5}, {2, 2});
  set_attr(node_of(m), "strides", std::vector<std::int64_t>{2, 2});
  const std::vector<Feed> in = {{{1, 1, 5, 5}, one_to(25)}};
  check_all_exact(m, in, {7, 9, 17, 19});
  set_attr(node_of(m), "ceil_mode", std::int64_t{1});
  CHECK(first_output_shape(m, in) == Shape{1, 1, 3, 3});
  check_all_exact(m, in, {7, 9, 10, 17, 19, 20, 22, 24, 25});
}

TEST_CASE("MaxPool with dilations; a NaN in a window wins") {
  ModelBuilder m = pool("MaxPool", {1, 1, 5}, {2});
  set_attr(node_of(m), "dilations", std::vector<std::int64_t>{2});
  const auto exact = make_reference_arithmetic("exact");
  const std::vector<double> y = run_first(m, {{{1, 1, 5}, {1, NAN, 3, 0, 5}}}, *exact);
  REQUIRE(y.size() == 3);
  CHECK(y[0] == 3);  // max(x0, x2)
  CHECK(std::isnan(y[1]));  // max(x1, x3)
  CHECK(y[2] == 5);  // max(x2, x4)
}

TEST_CASE("AveragePool 3x3 with pads 1: count_include_pad decides the divisor") {
  // x = 1..9 in a 3x3. Corner (0,0) sees 1, 2, 4, 5 (sum 12), an edge six elements, the
  // centre all nine (45).
  ModelBuilder m = pool("AveragePool", {1, 1, 3, 3}, {3, 3});
  set_attr(node_of(m), "pads", std::vector<std::int64_t>{1, 1, 1, 1});
  const std::vector<Feed> in = {{{1, 1, 3, 3}, one_to(9)}};
  // Padding not counted: 12/4, 21/6, 16/4, 27/6, 45/9, 33/6, 24/4, 39/6, 28/4 — all exact.
  check_all_exact(m, in, {3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7});
  set_attr(node_of(m), "count_include_pad", std::int64_t{1});
  const std::vector<double> sums = {12, 21, 16, 27, 45, 33, 24, 39, 28};
  const std::vector<double> y = run_first(m, in, *make_reference_arithmetic("exact"));
  for (std::size_t i = 0; i < sums.size(); ++i) CHECK(y[i] == sums[i] / 9);  // one rounding of s/9
}

TEST_CASE("AveragePool ceil_mode windows are clipped to the padded input, as PyTorch counts them") {
  // 1-D, 6 inputs, kernel 3, stride 2, pads (1, 1), ceil_mode: 4 windows starting at −1, 1, 3,
  // 5. The last one covers 5 (input), 6 (right padding) and 7 (beyond the padded input).
  ModelBuilder m = pool("AveragePool", {1, 1, 6}, {3});
  set_attr(node_of(m), "strides", std::vector<std::int64_t>{2});
  set_attr(node_of(m), "pads", std::vector<std::int64_t>{1, 1});
  set_attr(node_of(m), "ceil_mode", std::int64_t{1});
  const std::vector<Feed> in = {{{1, 1, 6}, {2, 4, 6, 8, 10, 12}}};
  CHECK(first_output_shape(m, in) == Shape{1, 1, 4});
  check_all_exact(m, in, {3, 6, 10, 12});  // (2+4)/2, (4+6+8)/3, (8+10+12)/3, 12/1
  set_attr(node_of(m), "count_include_pad", std::int64_t{1});
  check_all_exact(m, in, {2, 6, 10, 6});  // 6/3, …, 12/2: position 7 is not counted
}

TEST_CASE("AveragePool refuses a window that lies entirely in the padding") {
  ModelBuilder m = pool("AveragePool", {1, 1, 2}, {1});
  set_attr(node_of(m), "pads", std::vector<std::int64_t>{2, 0});
  const std::string e = refusal(m, {{{1, 1, 2}, {1, 2}}});
  CHECK(e.find("node 'pool' (AveragePool)") != std::string::npos);
  CHECK(e.find("lies entirely in the padding") != std::string::npos);
}

TEST_CASE("MaxPool's Indices output is refused when something reads it") {
  ModelBuilder m(13);
  m.input("x", kFloat, {1, 1, 4}).output("y").output("i", kInt64);
  set_attr(m.node("MaxPool", {"x"}, {"y", "i"}, "pool"), "kernel_shape", std::vector<std::int64_t>{2});
  const std::string e = refusal(m, {{{1, 1, 4}, {1, 2, 3, 4}}});
  CHECK(e.find("node 'pool' (MaxPool)") != std::string::npos);
  CHECK(e.find("'i'") != std::string::npos);
}

TEST_CASE("GlobalAveragePool averages each plane; a sum that binary16 cannot hold overflows") {
  ModelBuilder m(13);
  m.input("x", kFloat, {1, 2, 2, 2}).output("y");
  m.node("GlobalAveragePool", {"x"}, {"y"});
  check_all_exact(m, {{{1, 2, 2, 2}, {1, 2, 3, 6, -1, -2, -3, -10}}}, {3, -4});
  // 4 × 40000 = 160000 exceeds binary16's 65504 in the sum, though the mean would fit.
  const std::vector<Feed> big = {{{1, 2, 2, 2}, {40000, 40000, 40000, 40000, 0, 0, 0, 0}}};
  CHECK(std::isinf(run_first(m, big, *make_chain_arithmetic(parse_chain("fp16")))[0]));
  CHECK(run_first(m, big, *make_chain_arithmetic(parse_chain("fp16-acc32")))[0] == 40000);
}
