// The binary16 fast paths (b16:: scalar bit arithmetic shared with the CUDA kernels, F16C
// vector conversions, the compiler's _Float16) give the same bits as the generic rounding of
// lib/format, which the exhaustive tests tie to MPFR.
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "format/arithmetic.h"
#include "format/binary16.h"
#include "format/binary16_batch.h"
#include "format/encoding.h"
#include "format/inspect.h"

using namespace fpaudit;

namespace {

std::uint16_t generic_bits(double x) { return static_cast<std::uint16_t>(encode(binary16(), round_to(binary16(), x))); }

bool same_half(std::uint16_t a, std::uint16_t b) {
  const bool nan_a = (a & 0x7C00) == 0x7C00 && (a & 0x3FF), nan_b = (b & 0x7C00) == 0x7C00 && (b & 0x3FF);
  return (nan_a && nan_b) || a == b;
}

/// Floats that probe every rounding boundary of binary16: each value, each midpoint between
/// neighbours, one and two binary32 ulps either side of it, plus specials and random floats.
std::vector<float> probe_floats() {
  std::vector<float> v;
  for (std::uint32_t bits = 0; bits < 0x7C00; ++bits) {
    const double x = decode(binary16(), bits), up = decode(binary16(), bits + 1);
    const auto mid = static_cast<float>(0.5 * (x + (std::isinf(up) ? 65536.0 : up)));  // exact in binary32
    for (float p : {static_cast<float>(x), mid, std::nextafter(mid, 0.f), std::nextafter(mid, 1e30f),
                    std::nextafter(std::nextafter(mid, 0.f), 0.f), std::nextafter(std::nextafter(mid, 1e30f), 1e30f)}) {
      v.push_back(p);
      v.push_back(-p);
    }
  }
  for (float s : {INFINITY, -INFINITY, NAN, 1e30f, -1e30f, 1e-30f, -1e-30f, 0.0f, -0.0f, 1e-45f})
    v.push_back(s);
  std::mt19937 rng(16);
  for (int i = 0; i < 1'000'000; ++i) {
    const std::uint32_t bits = rng();
    float f;
    std::memcpy(&f, &bits, sizeof f);
    v.push_back(f);
  }
  return v;
}

}  // namespace

TEST_CASE("to_float: every binary16 pattern, scalar and both bulk paths") {
  std::vector<std::uint16_t> all(65536);
  for (std::uint32_t i = 0; i < 65536; ++i) all[i] = static_cast<std::uint16_t>(i);
  std::vector<float> soft(65536), f16c(65536);
  b16::impl::to_float_soft(all.data(), soft.data(), all.size());
  b16::impl::to_float_f16c(all.data(), f16c.data(), all.size());
  long mismatches = 0;
  for (std::uint32_t i = 0; i < 65536; ++i) {
    const double want = decode(binary16(), i);
    const float scalar = b16::to_float(static_cast<std::uint16_t>(i));
    for (float got : {scalar, soft[i], f16c[i]}) {
      const bool ok = std::isnan(want) ? std::isnan(got)
                                       : (static_cast<double>(got) == want && std::signbit(got) == std::signbit(want));
      mismatches += !ok;
    }
  }
  MESSAGE("bulk backend in use: ", b16::batch_backend(), ", F16C present: ", b16::impl::cpu_has_f16c());
  CHECK(mismatches == 0);
}

TEST_CASE("from_float: every rounding boundary and 10^6 random floats, three paths") {
  const std::vector<float> probes = probe_floats();
  std::vector<std::uint16_t> soft(probes.size()), f16c(probes.size()), bulk(probes.size());
  b16::impl::from_float_soft(probes.data(), soft.data(), probes.size());
  b16::impl::from_float_f16c(probes.data(), f16c.data(), probes.size());
  b16::from_float(probes.data(), bulk.data(), probes.size());
  long mismatches = 0;
  std::string first;
  for (std::size_t i = 0; i < probes.size(); ++i) {
    const std::uint16_t want = generic_bits(probes[i]);
    const std::uint16_t scalar = b16::from_float(probes[i]);
    for (std::uint16_t got : {scalar, soft[i], f16c[i], bulk[i]}) {
      if (!same_half(got, want) && ++mismatches <= 5) first += fmt::format("{:a}: {:#x} want {:#x}\n", probes[i], got, want);
    }
  }
  CHECK(probes.size() > 1'300'000);
  CHECK_MESSAGE(mismatches == 0, first);
}

TEST_CASE("scalar arithmetic: sqrt of every value; add, mul, div, fma on 10^6 random operands") {
  long mismatches = 0;
  std::string first;
  auto expect = [&](std::uint16_t got, double want_value, const char* what, std::uint16_t a, std::uint16_t b, std::uint16_t c) {
    const auto want = static_cast<std::uint16_t>(encode(binary16(), want_value));
    if (!same_half(got, want) && ++mismatches <= 5)
      first += fmt::format("{}({:#x},{:#x},{:#x}) = {:#x} want {:#x}\n", what, a, b, c, got, want);
  };
  const Format h = binary16();
  for (std::uint32_t i = 0; i < 65536; ++i) {
    const auto a = static_cast<std::uint16_t>(i);
    expect(b16::sqrt(a), fpaudit::sqrt(h, decode(h, a)).value, "sqrt", a, 0, 0);
  }
  std::mt19937 rng(1616);
  for (int k = 0; k < 1'000'000; ++k) {
    const auto a = static_cast<std::uint16_t>(rng()), b = static_cast<std::uint16_t>(rng());
    auto c = static_cast<std::uint16_t>(rng());
    const double x = decode(h, a), y = decode(h, b);
    if (k % 4 == 0 && std::isfinite(x * y)) c = generic_bits(-x * y) ^ static_cast<std::uint16_t>(rng() % 3);  // cancellation
    const double z = decode(h, c);
    expect(b16::add(a, b), add(h, x, y).value, "add", a, b, 0);
    expect(b16::sub(a, b), sub(h, x, y).value, "sub", a, b, 0);
    expect(b16::mul(a, b), mul(h, x, y).value, "mul", a, b, 0);
    expect(b16::div(a, b), div(h, x, y).value, "div", a, b, 0);
    expect(b16::fma(a, b, c), fma(h, x, y, z).value, "fma", a, b, c);
    // The compiler's _Float16 arithmetic (evaluated in binary32, then rounded) for + - × ÷.
    _Float16 fa, fb;
    std::memcpy(&fa, &a, 2);
    std::memcpy(&fb, &b, 2);
    const _Float16 sum = fa + fb, prod = fa * fb, quot = fa / fb;
    std::uint16_t s, p, q;
    std::memcpy(&s, &sum, 2);
    std::memcpy(&p, &prod, 2);
    std::memcpy(&q, &quot, 2);
    expect(s, add(h, x, y).value, "_Float16 +", a, b, 0);
    expect(p, mul(h, x, y).value, "_Float16 *", a, b, 0);
    expect(q, div(h, x, y).value, "_Float16 /", a, b, 0);
  }
  CHECK_MESSAGE(mismatches == 0, first);
}
