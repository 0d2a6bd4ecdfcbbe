// Conv and ConvTranspose on small integers, where every chain with at least 8 significand bits
// is exact and must give the hand-computed result; then the order of the dot product, which
// binary16 rounding makes visible.
#include <doctest/doctest.h>

#include "core/reference_arithmetic.h"
#include "op_test_support.h"

using namespace fpaudit;
using namespace fpaudit::test;

namespace {

std::vector<double> iota(int n, double first = 1) {
  std::vector<double> v(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = first + i;
  return v;
}

}  // namespace

TEST_CASE("a 3x3 conv with pads 1, stride 2 and a bias, on the integers 1..25") {
  // x[r][c] = 5r + c + 1; W is asymmetric so that a flipped kernel would show.
  ModelBuilder m(13);
  m.input("x", kFloat, {1, 1, 5, 5}).output("y");
  m.initializer(float_tensor("W", {1, 1, 3, 3}, {1, 2, 0, 0, 1, 0, 0, 0, -1}));
  m.initializer(float_tensor("B", {1}, {10}));
  auto& n = m.node("Conv", {"x", "W", "B"}, {"y"});
  set_attr(n, "pads", std::vector<std::int64_t>{1, 1, 1, 1});
  set_attr(n, "strides", std::vector<std::int64_t>{2, 2});
  const std::vector<Feed> in = {{{1, 1, 5, 5}, iota(25)}};
  CHECK(first_output_shape(m, in) == Shape{1, 1, 3, 3});
  // y[0][0]: the window covers rows and columns −1..1; W[1][1]·x[0][0] + W[2][2]·x[1][1] =
  // 1 − 7, plus the bias: 4. y[1][1]: 7 + 2·8 + 13 − 19 + 10 = 27.
  check_all_exact(m, in, {4, 4, 15, 16, 27, 54, 63, 86, 94});
}

TEST_CASE("a depthwise conv: each channel with its own 2x2 kernel (group = channels)") {
  ModelBuilder m(13);
  m.input("x", kFloat, {1, 2, 3, 3}).output("y");
  m.initializer(float_tensor("W", {2, 1, 2, 2}, {1, 1, 0, 1, 2, 0, 0, -1}));
  set_attr(m.node("Conv", {"x", "W"}, {"y"}), "group", std::int64_t{2});
  const std::vector<Feed> in = {{{1, 2, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 0, 2, 0, 3, 0, 4, 0, 5}}};
  // Channel 0: x[i][j] + x[i][j+1] + x[i+1][j+1] = 1+2+5, 2+3+6, 4+5+8, 5+6+9.
  // Channel 1: 2·x[i][j] − x[i+1][j+1] = 2−3, 0−0, 0−0, 6−5.
  check_all_exact(m, in, {8, 11, 17, 20, -1, 0, 0, 1});
}

TEST_CASE("a grouped conv reads only its group's channels and adds its own bias") {
  // 4 input channels, 2 groups, 2 output channels, 1x1 kernels: out 0 = 1·c0 + 2·c1 + 100,
  // out 1 = 3·c2 + 4·c3 + 200. Each input plane is 1x2.
  ModelBuilder m(13);
  m.input("x", kFloat, {1, 4, 1, 2}).output("y");
  m.initializer(float_tensor("W", {2, 2, 1, 1}, {1, 2, 3, 4}));
  m.initializer(float_tensor("B", {2}, {100, 200}));
  set_attr(m.node("Conv", {"x", "W", "B"}, {"y"}), "group", std::int64_t{2});
  const std::vector<Feed> in = {{{1, 4, 1, 2}, {1, 2, 3, 4, 5, 6, 7, 8}}};
  check_all_exact(m, in, {1 + 2 * 3 + 100, 2 + 2 * 4 + 100, 3 * 5 + 4 * 7 + 200, 3 * 6 + 4 * 8 + 200});
}

TEST_CASE("1-D conv with dilation 2 and SAME padding: the odd pixel goes to the end or the beginning") {
  // Kernel 2 over 4 inputs with SAME padding keeps 4 outputs: a total padding of 1, at the end
  // for SAME_UPPER, at the beginning for SAME_LOWER.
  for (const char* mode : {"SAME_UPPER", "SAME_LOWER"}) {
    ModelBuilder m(13);
    m.input("x", kFloat, {1, 1, 4}).output("y");
    m.initializer(float_tensor("W", {1, 1, 2}, {1, 10}));
    set_attr(m.node("Conv", {"x", "W"}, {"y"}), "auto_pad", std::string(mode));
    const std::vector<Feed> in = {{{1, 1, 4}, {1, 2, 3, 4}}};
    INFO(mode);
    // UPPER: windows (1,2) (2,3) (3,4) (4,0): 21 32 43 4. LOWER: (0,1) (1,2) (2,3) (3,4): 10 21 32 43.
    check_all_exact(m, in, std::string(mode) == "SAME_UPPER" ? std::vector<double>{21, 32, 43, 4} : std::vector<double>{10, 21, 32, 43});
  }
  ModelBuilder m(13);
  m.input("x", kFloat, {1, 1, 5}).output("y");
  m.initializer(float_tensor("W", {1, 1, 2}, {1, 10}));
  set_attr(m.node("Conv", {"x", "W"}, {"y"}), "dilations", std::vector<std::int64_t>{2});
  // Taps 2 apart: x[i] + 10·x[i+2].
  check_all_exact(m, {{{1, 1, 5}, {1, 2, 3, 4, 5}}}, {31, 42, 53});
}

TEST_CASE("ConvTranspose scatters each input through the kernel: stride, pads, output_padding, groups") {
  SUBCASE("1-D, stride 2") {
    // x = (1, 2, 3), w = (1, 1, 1): x_i lands on positions 2i .. 2i+2.
    ModelBuilder m(13);
    m.input("x", kFloat, {1, 1, 3}).output("y");
    m.initializer(float_tensor("W", {1, 1, 3}, {1, 1, 1}));
    set_attr(m.node("ConvTranspose", {"x", "W"}, {"y"}), "strides", std::vector<std::int64_t>{2});
    check_all_exact(m, {{{1, 1, 3}, {1, 2, 3}}}, {1, 1, 3, 2, 5, 3, 3});
  }
  SUBCASE("1-D, an asymmetric kernel, pads 1 and output_padding 1") {
    // Full output of x = (1, 2) with w = (1, 10, 100), stride 2: 1, 10, 102, 20, 200; pads
    // (1, 1) crop one each side, output_padding adds one more at the end: 10, 102, 20, 200.
    ModelBuilder m(13);
    m.input("x", kFloat, {1, 1, 2}).output("y");
    m.initializer(float_tensor("W", {1, 1, 3}, {1, 10, 100}));
    auto& n = m.node("ConvTranspose", {"x", "W"}, {"y"});
    set_attr(n, "strides", std::vector<std::int64_t>{2});
    set_attr(n, "pads", std::vector<std::int64_t>{1, 1});
    set_attr(n, "output_padding", std::vector<std::int64_t>{1});
    check_all_exact(m, {{{1, 1, 2}, {1, 2}}}, {10, 102, 20, 200});
  }
  SUBCASE("output_shape: NOTSET puts the odd padding pixel at the beginning, SAME_UPPER at the end") {
    // Full output 1, 10, 102, 20, 200 (length 5); output_shape 4 means a total padding of 1.
    for (const char* mode : {"NOTSET", "SAME_UPPER"}) {
      ModelBuilder m(13);
      m.input("x", kFloat, {1, 1, 2}).output("y");
      m.initializer(float_tensor("W", {1, 1, 3}, {1, 10, 100}));
      auto& n = m.node("ConvTranspose", {"x", "W"}, {"y"});
      set_attr(n, "strides", std::vector<std::int64_t>{2});
      set_attr(n, "output_shape", std::vector<std::int64_t>{4});
      set_attr(n, "auto_pad", std::string(mode));
      INFO(mode);
      check_all_exact(m, {{{1, 1, 2}, {1, 2}}},
                      std::string(mode) == "NOTSET" ? std::vector<double>{10, 102, 20, 200} : std::vector<double>{1, 10, 102, 20});
    }
  }
  SUBCASE("two groups, bias, and W's channels transposed: W is [C_in, C_out/group, k]") {
    // Group 0: input channel 0 → output channels 0, 1 with kernels (1, 2) and (3, 4);
    // group 1: input channel 1 → output channels 2, 3 with kernels (5, 6) and (7, 8).
    ModelBuilder m(13);
    m.input("x", kFloat, {1, 2, 1}).output("y");
    m.initializer(float_tensor("W", {2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8}));
    m.initializer(float_tensor("B", {4}, {0, 100, 0, 100}));
    set_attr(m.node("ConvTranspose", {"x", "W", "B"}, {"y"}), "group", std::int64_t{2});
    check_all_exact(m, {{{1, 2, 1}, {1, 10}}}, {1, 2, 103, 104, 50, 60, 170, 180});
  }
}

TEST_CASE("a conv's dot product runs over (channel, kernel row, kernel column) in row-major order") {
  // Two channels, a 1x2 kernel, one output: the terms in that order are (1, 1, 2048, 1). In
  // binary16 a sequential sum gives 1+1 = 2, 2+2048 = 2050, 2050+1 = 2051, a tie that rounds to
  // even: 2052. Any other order that starts 1, 2048 gives 2048 (2049 ties down to 2048); the
  // pairwise schedule gives (1+1) + (2048+1 → 2048) = 2050; binary32 and the reference the
  // exact 2051 (which binary16 storage then rounds to 2052).
  ModelBuilder m(13);
  m.input("x", kFloat, {1, 2, 1, 2}).output("y");
  m.initializer(float_tensor("W", {1, 2, 1, 2}, {1, 1, 1, 1}));
  m.node("Conv", {"x", "W"}, {"y"});
  const std::vector<Feed> in = {{{1, 2, 1, 2}, {1, 1, 2048, 1}}};
  CHECK(run_first(m, in, *make_chain_arithmetic(parse_chain("fp16")))[0] == 2052);
  CHECK(run_first(m, in, *make_chain_arithmetic(parse_chain("fp16@pairwise-2")))[0] == 2050);
  CHECK(run_first(m, in, *make_chain_arithmetic(parse_chain("fp32")))[0] == 2051);
  CHECK(run_first(m, in, *make_chain_arithmetic(parse_chain("fp16-acc32")))[0] == 2052);  // 2051 into binary16
  CHECK(run_first(m, in, *make_reference_arithmetic("exact"))[0] == 2051);
}

TEST_CASE("padding zeros are terms of the dot product: they take places in the schedule") {
  // One output of a 4-tap kernel of ones whose first tap reads padding: terms (0, 1, 1, 2048).
  // pairwise-2 in binary16: (0+1) + (1+2048 → 2048, a tie to even) = 2049 → 2048. Had the
  // padding been skipped, (1+1) + 2048 = 2050. Sequentially: 0+1+1+2048 = 2050.
  ModelBuilder m(13);
  m.input("x", kFloat, {1, 1, 1, 3}).output("y");
  m.initializer(float_tensor("W", {1, 1, 1, 4}, {1, 1, 1, 1}));
  set_attr(m.node("Conv", {"x", "W"}, {"y"}), "pads", std::vector<std::int64_t>{0, 1, 0, 0});
  const std::vector<Feed> in = {{{1, 1, 1, 3}, {1, 1, 2048}}};
  CHECK(run_first(m, in, *make_chain_arithmetic(parse_chain("fp16@pairwise-2")))[0] == 2048);
  CHECK(run_first(m, in, *make_chain_arithmetic(parse_chain("fp16")))[0] == 2050);
}

TEST_CASE("a 1x1 conv reads its input directly (no unrolling) and still sums over channels in order") {
  ModelBuilder m(13);
  m.input("x", kFloat, {2, 3, 2, 2}).output("y");
  m.initializer(float_tensor("W", {2, 3, 1, 1}, {1, 2, 3, -1, 0, 1}));
  m.node("Conv", {"x", "W"}, {"y"});
  const std::vector<double> x = iota(24);
  std::vector<double> want;
  for (int n = 0; n < 2; ++n)
    for (int o = 0; o < 2; ++o)
      for (int p = 0; p < 4; ++p) {
        const double c0 = x[n * 12 + p], c1 = x[n * 12 + 4 + p], c2 = x[n * 12 + 8 + p];
        want.push_back(o == 0 ? c0 + 2 * c1 + 3 * c2 : c2 - c0);
      }
  check_all_exact(m, {{{2, 3, 2, 2}, x}}, want);
}
