// format/round_binary64.h, the one-rounding helpers the GPU kernels use (host and device
// code): a binary64 value, an exact binary64 sum, and a binary64 quotient rounded into
// binary16 or binary32, against lib/format's correctly rounded operations (themselves checked
// against MPFR). The inputs sit at and beside every kind of rounding boundary.
#include <cmath>
#include <random>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "format/arithmetic.h"
#include "format/round.h"
#include "format/round_binary64.h"

using namespace fpaudit;

namespace {
/// Binary16 midpoints (and their neighbours at binary64 precision) and random doubles.
std::vector<double> boundary_doubles(std::mt19937_64& rng) {
  std::vector<double> v;
  for (std::uint32_t h = 0; h < 0x7C00; ++h) {
    const double a = b16::to_float(static_cast<std::uint16_t>(h)), b = b16::to_float(static_cast<std::uint16_t>(h + 1));
    const double mid = (a + b) / 2;  // exact in binary64
    for (const double x : {mid, std::nextafter(mid, 0.0), std::nextafter(mid, 1e9), a}) v.push_back(x), v.push_back(-x);
  }
  std::uniform_real_distribution<double> u(-20.0, 20.0);
  for (int i = 0; i < 200000; ++i) v.push_back(std::ldexp(1.0 + std::fabs(u(rng)) / 20, static_cast<int>(u(rng) * 1.5)) * (i % 2 ? -1 : 1));
  v.push_back(70000.0);  // overflow
  v.push_back(65519.99999999999);
  v.push_back(65520.0);
  return v;
}
}  // namespace

TEST_CASE("b16::from_double rounds once, to nearest even") {
  std::mt19937_64 rng(1);
  long bad = 0;
  for (const double x : boundary_doubles(rng)) {
    const double want = round_to(binary16(), x);
    const double got = b16::to_float(b16::from_double(x));
    if (!(got == want) && bad++ < 5) FAIL_CHECK(fmt::format("x = {:a}: got {}, want {}", x, got, want));
  }
  CHECK(bad == 0);
  CHECK(std::isnan(b16::to_float(b16::from_double(std::nan("")))));
}

TEST_CASE("sums rounded once into binary16 and binary32") {
  std::mt19937_64 rng(2);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  long bad16 = 0, bad32 = 0;
  for (int i = 0; i < 300000; ++i) {
    // a: an accumulator value; b: a binary64 constant like LayerNorm's ε, or a binary16 value
    const float a = static_cast<float>(std::ldexp(u(rng), static_cast<int>(rng() % 30) - 20));
    const double b = i % 3 == 0 ? 1e-5 : i % 3 == 1 ? std::ldexp(u(rng), static_cast<int>(rng() % 60) - 40) : -static_cast<double>(a) * (1 + 0x1p-30);
    bad16 += b16::to_float(b16::sum_from_double(b16::round_f(a), b)) != add(binary16(), b16::round_f(a), b).value;
    bad32 += binary32_sum_from_double(a, b) != add(binary32(), a, b).value;
  }
  CHECK(bad16 == 0);
  CHECK(bad32 == 0);
}

TEST_CASE("a binary64 quotient rounded again equals the correctly rounded quotient (reduction.cuh)") {
  // x of ≤ 24 bits over y of ≤ 24 bits (binary32 values, integers up to 2^24), rounded into
  // binary16 or binary32 through binary64: never a double rounding error.
  std::mt19937_64 rng(3);
  std::uniform_int_distribution<std::uint32_t> mant(1, (1u << 24) - 1);
  long bad = 0;
  for (int i = 0; i < 500000; ++i) {
    const double x = std::ldexp(static_cast<double>(mant(rng)), static_cast<int>(rng() % 40) - 40);
    const double y = i % 2 ? static_cast<double>(1 + rng() % (1u << 24)) : std::ldexp(static_cast<double>(mant(rng)), -static_cast<int>(rng() % 20));
    const double q = x / y;
    bad += b16::to_float(b16::from_double(q)) != div(binary16(), x, y).value;
    bad += static_cast<double>(static_cast<float>(q)) != div(binary32(), x, y).value;
  }
  CHECK(bad == 0);
}
