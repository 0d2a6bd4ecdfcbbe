// Kernels that take a vectorised path where the scalar definition would be slow, held to that
// definition: ReLU's vector lanes, and AveragePool with uniform windows summed as one product
// with a row of ones (lib/kernels/ops/pool.cpp). Registered once per instruction-set cap
// (FPAUDIT_ISA, tests/ops/CMakeLists.txt), so that an AVX-512 machine checks the AVX2 and
// plain x86-64 paths too.
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

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
