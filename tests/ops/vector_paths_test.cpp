// Kernels that take a vectorised path where the scalar definition would be slow, held to that
// definition: ReLU's vector lanes, AveragePool with uniform windows summed as one product with a
// row of ones and MaxPool's gathered taps (lib/kernels/ops/pool.cpp), and Conv's unrolled input
// (lib/core/ops/conv.cpp: plain loads of consecutive runs, gathers, padding). Registered once per instruction-set cap
// (FPAUDIT_ISA, tests/ops/CMakeLists.txt), so that an AVX-512 machine checks the AVX2 and
// plain x86-64 paths too.
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "common/cpu_features.h"
#include "core/reference_arithmetic.h"
#include "format/encoding.h"
#include "op_test_support.h"

using namespace fpaudit;
using namespace fpaudit::test;

namespace {

bool same_bits(double a, double b) { return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b); }

// The values one AveragePool test plane holds: k·2^e for odd k < 256 (exact in binary16 and
// bfloat16, but their sums round in both), with the special values placed in chosen windows.
std::vector<double> pool_input(int planes, int side) {
  std::vector<double> x;
  for (int i = 0; i < planes * side * side; ++i) {
    const int k = (37 * i + 11) % 255 + 1;
    x.push_back(std::ldexp(i % 2 ? k | 1 : -(k | 1), (7 * i) % 13 - 6));
  }
  return x;
}

}  // namespace

TEST_CASE("Relu in vector lanes: every binary16 value, NaNs and both zeros, as relu defines it") {
  // relu(x) = x for x > 0 and for NaN (payload kept), +0 otherwise (−0 included). 65,536 binary16
  // values and a few binary64 ones, an odd count so that the scalar tail runs too.
  const std::string level = cpu::level_name();
  CAPTURE(level);
  std::vector<double> x;
  for (std::uint32_t h = 0; h < 65536; ++h) x.push_back(decode(binary16(), h));
  for (double v : {-0.0, 0.0, std::numeric_limits<double>::denorm_min(), -std::numeric_limits<double>::denorm_min(),
                   std::bit_cast<double>(std::uint64_t{0xFFF8000000000123}), std::bit_cast<double>(std::uint64_t{0x7FF0000000000001}),
                   double{INFINITY}, -double{INFINITY}, 1e300})
    x.push_back(v);
  ModelBuilder m(13);
  m.input("x", kFloat, {static_cast<std::int64_t>(x.size())}).output("y");
  m.node("Relu", {"x"}, {"y"});
  const std::vector<double> y = run_first(m, {{{static_cast<std::int64_t>(x.size())}, x}}, *make_reference_arithmetic("exact"));
  REQUIRE(y.size() == x.size());
  long wrong = 0;
  for (std::size_t i = 0; i < x.size(); ++i) wrong += !same_bits(y[i], x[i] > 0 || std::isnan(x[i]) ? x[i] : 0.0);
  CHECK(wrong == 0);
}

TEST_CASE("AveragePool with uniform windows: a.sum of each window, then a.div by the count, in every chain") {
  // 3 planes of 7×7, kernel 3×3, stride 2: 9 windows of 9 taps per plane, no padding, so the
  // kernel takes its tap-major product. Each output must be the scalar definition: the window's
  // stored values in row-major tap order summed by the chain's schedule, divided with one
  // rounding. Plane 1 holds a NaN, an Inf, an Inf − Inf and a window of −0; plane 2 sums that
  // overflow binary16 (4 × 32768) and a tiny term beside large ones.
  const std::string level = cpu::level_name();
  CAPTURE(level);
  const int planes = 3, side = 7, k = 3, stride = 2, out_side = 3;
  std::vector<double> x = pool_input(planes, side);
  auto at = [&](int plane, int r, int c) -> double& { return x[static_cast<std::size_t>((plane * side + r) * side + c)]; };
  at(1, 0, 0) = NAN;
  at(1, 0, 4) = INFINITY;
  at(1, 2, 6) = INFINITY;
  at(1, 3, 6) = -INFINITY;  // the window at output (1, 2) and (2, 2) reads both
  for (int r = 4; r < 7; ++r)
    for (int c = 0; c < 3; ++c) at(1, r, c) = -0.0;
  for (int c = 2; c < 6; ++c) at(2, 0, c) = 32768;
  at(2, 4, 4) = 0x1p-12;
  ModelBuilder m(13);
  m.input("x", kFloat, {1, planes, side, side}).output("y");
  auto& node = m.node("AveragePool", {"x"}, {"y"}, "pool");
  set_attr(node, "kernel_shape", std::vector<std::int64_t>{k, k});
  set_attr(node, "strides", std::vector<std::int64_t>{stride, stride});
  for (const std::string name : {"fp32", "fp16", "fp16-acc32", "bf16", "bf16-acc32", "fp8-e4m3-acc32", "fp16@pairwise-2",
                                 "bf16-acc32@pairwise-4", "ref", "mpfr:80"}) {
    CAPTURE(name);
    const auto a = name == "ref" ? make_reference_arithmetic("exact")
                   : name.starts_with("mpfr") ? make_reference_arithmetic(name)
                                              : make_chain_arithmetic(parse_chain(name));
    const std::vector<double> y = run_first(m, {{{1, planes, side, side}, x}}, *a);
    REQUIRE(y.size() == static_cast<std::size_t>(planes * out_side * out_side));
    long wrong = 0, infinite = 0, nan = 0;
    for (int plane = 0; plane < planes; ++plane)
      for (int i = 0; i < out_side; ++i)
        for (int j = 0; j < out_side; ++j) {
          std::vector<double> window;
          for (int r = 0; r < k; ++r)
            for (int c = 0; c < k; ++c) window.push_back(a->round(at(plane, i * stride + r, j * stride + c)));
          const double want = a->div(a->sum(window.data(), 1, k * k), k * k);
          const double got = y[static_cast<std::size_t>((plane * out_side + i) * out_side + j)];
          wrong += !(same_bits(got, want) || (std::isnan(got) && std::isnan(want)));
          infinite += std::isinf(got);
          nan += std::isnan(got);
        }
    CHECK(wrong == 0);
    if (name.starts_with("fp8")) continue;  // E4M3 has no Inf: it saturates, so only the sums are compared
    CHECK(nan >= 2);  // the NaN's window and Inf − Inf's
    CHECK(infinite >= 1);
  }
}

TEST_CASE("MaxPool tap-major with gathers: each window's in-range values by take-the-larger-or-NaN, in row-major order") {
  // 2 planes of 11×9, kernel 3×3, stride 2, padding 1: 30 outputs a plane (not a multiple of 4
  // or 8, so the scalar tail runs), border windows shorter than the longest. The definition:
  // m = −Inf, then m = v wherever v > m or v is NaN, over the window's positions in row-major
  // order. Planes hold NaNs with payloads, ±0, ±Inf and −Inf-only windows.
  const std::string level = cpu::level_name();
  CAPTURE(level);
  const int planes = 2, rows = 11, cols = 9, k = 3, stride = 2, pad = 1;
  const int out_rows = (rows + 2 * pad - k) / stride + 1, out_cols = (cols + 2 * pad - k) / stride + 1;
  std::vector<double> x;
  for (int i = 0; i < planes * rows * cols; ++i) x.push_back(std::ldexp(((37 * i + 11) % 255) - 127.0, (5 * i) % 9 - 4));
  auto at = [&](int plane, int r, int c) -> double& { return x[static_cast<std::size_t>((plane * rows + r) * cols + c)]; };
  at(0, 0, 0) = std::bit_cast<double>(std::uint64_t{0x7FF8000000000123});
  at(0, 1, 1) = std::bit_cast<double>(std::uint64_t{0xFFF8000000000456});  // a later NaN in the same windows
  at(0, 4, 4) = INFINITY;
  for (int r = 6; r < 9; ++r)
    for (int c = 0; c < 3; ++c) at(1, r, c) = -INFINITY;
  at(1, 2, 2) = -0.0;
  at(1, 2, 3) = 0.0;
  ModelBuilder m(13);
  m.input("x", kFloat, {1, planes, rows, cols}).output("y");
  auto& node = m.node("MaxPool", {"x"}, {"y"}, "pool");
  set_attr(node, "kernel_shape", std::vector<std::int64_t>{k, k});
  set_attr(node, "strides", std::vector<std::int64_t>{stride, stride});
  set_attr(node, "pads", std::vector<std::int64_t>{pad, pad, pad, pad});
  const auto a = make_reference_arithmetic("exact");
  const std::vector<double> y = run_first(m, {{{1, planes, rows, cols}, x}}, *a);
  REQUIRE(y.size() == static_cast<std::size_t>(planes * out_rows * out_cols));
  long wrong = 0;
  for (int plane = 0; plane < planes; ++plane)
    for (int i = 0; i < out_rows; ++i)
      for (int j = 0; j < out_cols; ++j) {
        double want = -INFINITY;
        for (int r = i * stride - pad; r < i * stride - pad + k; ++r)
          for (int c = j * stride - pad; c < j * stride - pad + k; ++c) {
            if (r < 0 || r >= rows || c < 0 || c >= cols) continue;
            const double v = at(plane, r, c);
            if (v > want || v != v) want = v;
          }
        wrong += !same_bits(y[static_cast<std::size_t>((plane * out_rows + i) * out_cols + j)], want);
      }
  CHECK(wrong == 0);
}

TEST_CASE("Conv's unrolled input (plain loads, gathers, padding): each output the chain's dot of its window and weights") {
  // 3 input channels of 13×12 into 2 output channels, kernel 3×3, padding 1, strides 1 (runs of
  // 8 consecutive inputs: plain loads) and 2 (gathers), no bias. Every output must be the chain's
  // a.dot over (channel, kernel row, kernel column) of the window, padding as exact zeros, rounded
  // into storage: fp32 (its binary32 GEMM reads the unrolled input as float), fp16-acc32 and the
  // exact reference. Values k·2^e with small odd k are exact in every one of them.
  const std::string level = cpu::level_name();
  CAPTURE(level);
  const int channels = 3, outs = 2, rows = 13, cols = 12, k = 3, pad = 1;
  std::vector<double> x, w;
  for (int i = 0; i < channels * rows * cols; ++i) x.push_back(std::ldexp(((29 * i + 3) % 61) - 30.0, (3 * i) % 7 - 3));
  for (int i = 0; i < outs * channels * k * k; ++i) w.push_back(std::ldexp(((17 * i + 5) % 31) - 15.0, -(i % 4)));
  std::vector<float> wf(w.begin(), w.end());
  for (const int stride : {1, 2}) {
    const int out_rows = (rows + 2 * pad - k) / stride + 1, out_cols = (cols + 2 * pad - k) / stride + 1;
    ModelBuilder m(13);
    m.input("x", kFloat, {1, channels, rows, cols}).output("y");
    m.initializer(test::float_tensor("w", {outs, channels, k, k}, wf));
    auto& node = m.node("Conv", {"x", "w"}, {"y"}, "conv");
    set_attr(node, "strides", std::vector<std::int64_t>{stride, stride});
    set_attr(node, "pads", std::vector<std::int64_t>{pad, pad, pad, pad});
    for (const std::string name : {"fp32", "fp16-acc32", "ref"}) {
      CAPTURE(stride);
      CAPTURE(name);
      const auto a = name == "ref" ? make_reference_arithmetic("exact") : make_chain_arithmetic(parse_chain(name));
      const std::vector<double> y = run_first(m, {{{1, channels, rows, cols}, x}}, *a);
      REQUIRE(y.size() == static_cast<std::size_t>(outs * out_rows * out_cols));
      long wrong = 0;
      for (int o = 0; o < outs; ++o)
        for (int i = 0; i < out_rows; ++i)
          for (int j = 0; j < out_cols; ++j) {
            std::vector<double> window;
            for (int c = 0; c < channels; ++c)
              for (int r = i * stride - pad; r < i * stride - pad + k; ++r)
                for (int q = j * stride - pad; q < j * stride - pad + k; ++q)
                  window.push_back(r < 0 || r >= rows || q < 0 || q >= cols ? 0.0 : x[static_cast<std::size_t>((c * rows + r) * cols + q)]);
            const double want = a->round(a->dot(window.data(), 1, w.data() + o * channels * k * k, 1, channels * k * k));
            wrong += !same_bits(y[static_cast<std::size_t>((o * out_rows + i) * out_cols + j)], want);
          }
      CHECK(wrong == 0);
    }
  }
}
