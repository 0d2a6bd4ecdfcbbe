// The chains' bit-level rounding paths (round_fast, fma_fast, and ChainArithmetic's add, sub,
// mul, div and sqrt built on them) against lib/format's generic correctly rounded operations,
// for every format they serve: random values over the whole range, every binary16/bfloat16
// midpoint and its binary64 neighbours, and the ends of each range (subnormals, overflow).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "format/arithmetic.h"
#include "format/binary16.h"
#include "format/round.h"
#include "core/chain_arithmetic.h"
#include "core/reference_arithmetic.h"

using namespace fpaudit;
using Fast = ChainArithmetic::FastFormat;

namespace {

struct Case {
  Fast fast;
  Format format;
};
const std::vector<Case> kCases = {{Fast::Binary16, binary16()}, {Fast::Bfloat16, bfloat16()}, {Fast::Binary32, binary32()}};

bool same(double a, double b) {
  std::uint64_t x, y;
  std::memcpy(&x, &a, 8);
  std::memcpy(&y, &b, 8);
  return x == y;
}

double from_bits(std::uint64_t b) {
  double v;
  std::memcpy(&v, &b, 8);
  return v;
}

/// Every representable value of a 16-bit format (as binary64), from its bit patterns.
std::vector<double> all_values(Fast f) {
  std::vector<double> out;
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    const double v = f == Fast::Binary16 ? static_cast<double>(b16::to_float(static_cast<std::uint16_t>(h)))
                                         : static_cast<double>(bits_float(h << 16));
    if (std::isfinite(v)) out.push_back(v);
  }
  return out;
}

}  // namespace

TEST_CASE("round_fast equals round_to: random binary64 values over the whole range") {
  std::mt19937_64 rng(11);
  for (const Case& c : kCases) {
    long mismatches = 0;
    for (int i = 0; i < 1000000; ++i) {
      // Exponents near the format's range are where rounding is interesting; mix in all of binary64.
      const double v = i % 4 == 0 ? from_bits(rng()) : std::ldexp(from_bits((rng() >> 12) | 0x3FF0000000000000ull) * (rng() & 1 ? 1 : -1),
                                                                   static_cast<int>(rng() % 300) - 160);
      if (std::isfinite(v) && !same(round_fast(c.fast, v), round_to(c.format, v))) ++mismatches;
    }
    INFO(c.format.name);
    CHECK(mismatches == 0);
  }
}

TEST_CASE("round_fast equals round_to at every 16-bit midpoint and its neighbours") {
  for (const Case& c : kCases) {
    if (c.fast == Fast::Binary32) continue;
    const std::vector<double> v = all_values(c.fast);
    long mismatches = 0, checked = 0;
    for (std::size_t i = 0; i + 1 < v.size(); ++i) {
      if (v[i] == v[i + 1]) continue;  // +0 and -0
      const double mid = 0.5 * (v[i] + v[i + 1]);  // exact: both are narrow values
      for (const double x : {mid, std::nextafter(mid, -INFINITY), std::nextafter(mid, INFINITY), v[i],
                             std::nextafter(v[i], -INFINITY), std::nextafter(v[i], INFINITY)}) {
        ++checked;
        if (!same(round_fast(c.fast, x), round_to(c.format, x))) ++mismatches;
      }
    }
    INFO(c.format.name);
    CHECK(checked > 6 * 60000);
    CHECK(mismatches == 0);
  }
}

TEST_CASE("fma_fast equals lib/format's fma on binary32 operands") {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> normal;
  for (const Case& c : kCases) {
    long mismatches = 0;
    for (int i = 0; i < 1000000; ++i) {
      // Operands of the format itself (the chains' values) and plain binary32 ones; c near -a·b
      // half of the time, where cancellation leaves only the low bits.
      auto value = [&](int spread) {
        const double x = std::ldexp(normal(rng), static_cast<int>(rng() % (2 * spread + 1)) - spread);
        return i % 2 ? round_to(c.format, x) : static_cast<double>(static_cast<float>(x));
      };
      const double a = value(20), b = value(20);
      const double cc = rng() % 2 ? static_cast<double>(static_cast<float>(-a * b * (1 + std::ldexp(normal(rng), -20)))) : value(30);
      const double fast = fma_fast(c.fast, a, b, cc);
      if (std::isfinite(fast) && !same(fast, fpaudit::fma(c.format, a, b, cc).value)) ++mismatches;
    }
    INFO(c.format.name);
    CHECK(mismatches == 0);
  }
}

TEST_CASE("ChainArithmetic round and fma use the fast paths with the same results") {
  for (const char* name : {"fp16", "bf16", "fp32", "fp16-acc32"}) {
    const ChainArithmetic a(parse_chain(name));
    for (const double x : {0.0, -0.0, 1.0 / 3, -1e-9, 65519.0, 65520.0, 1e39, -1e-45, 3.4e38, 0x1p-149, 0x1p-150}) {
      CHECK(same(a.round(x, Target::Storage), round_to(a.storage(), x)));
      CHECK(same(a.round(x, Target::Accumulator), round_to(a.accumulator(), x)));
      CHECK(same(a.fma(x, 0.5, 1.0, Target::Storage), fpaudit::fma(a.storage(), x, 0.5, 1.0).value));
    }
  }
}

TEST_CASE("ChainArithmetic add, sub, mul, div and sqrt equal lib/format on their fast paths") {
  std::mt19937_64 rng(9);
  std::normal_distribution<double> normal;
  for (const char* name : {"fp16", "bf16", "fp32", "fp16-acc32", "bf16-acc32"}) {
    const ChainArithmetic a(parse_chain(name));
    for (const Target t : {Target::Storage, Target::Accumulator}) {
      const Format& f = t == Target::Storage ? a.storage() : a.accumulator();
      long mismatches = 0;
      for (int i = 0; i < 400000; ++i) {
        // Values of the format (what the chains hold), across its range and into its
        // subnormals and overflow; every 8th pair equal or opposite, for exact zeros.
        auto value = [&] {
          const int spread = f == binary16() ? 20 : 140;
          return round_to(f, std::ldexp(normal(rng), static_cast<int>(rng() % (2 * spread + 1)) - spread));
        };
        const double x = value();
        const double y = i % 8 == 0 ? (rng() & 1 ? x : -x) : value();
        mismatches += !same(a.add(x, y, t), fpaudit::add(f, x, y).value);
        mismatches += !same(a.sub(x, y, t), fpaudit::sub(f, x, y).value);
        mismatches += !same(a.mul(x, y, t), fpaudit::mul(f, x, y).value);
        if (y != 0) mismatches += !same(a.div(x, y, t), fpaudit::div(f, x, y).value);
        mismatches += !same(a.unary(UnaryFn::Sqrt, std::fabs(x), t), fpaudit::sqrt(f, std::fabs(x)).value);
      }
      INFO(name << (t == Target::Storage ? " storage" : " accumulator"));
      CHECK(mismatches == 0);
    }
  }
}

TEST_CASE("ChainArithmetic elementwise fast paths: signed zeros, infinities, NaN, overflow") {
  const double values[] = {0.0, -0.0, 1.0, -1.0, 65504.0, -65504.0, 3.4e38, 0x1p-24, 0x1p-133, 0x1p-149, INFINITY, -INFINITY, NAN};
  for (const char* name : {"fp16", "bf16", "fp32"}) {
    const ChainArithmetic a(parse_chain(name));
    const Format& f = a.storage();
    for (const double x : values)
      for (const double y : values) {
        const double xs = round_to(f, x), ys = round_to(f, y);
        CHECK(same(a.add(xs, ys, Target::Storage), fpaudit::add(f, xs, ys).value));
        CHECK(same(a.sub(xs, ys, Target::Storage), fpaudit::sub(f, xs, ys).value));
        CHECK(same(a.mul(xs, ys, Target::Storage), fpaudit::mul(f, xs, ys).value));
        CHECK(same(a.div(xs, ys, Target::Storage), fpaudit::div(f, xs, ys).value));
      }
  }
}

TEST_CASE("round_storage (AVX-512 or AVX2 vectors where the CPU has them) equals round_to element by element") {
  std::mt19937_64 rng(21);
  std::normal_distribution<double> normal;
  for (const char* name : {"fp16", "bf16", "fp32", "fp8-e4m3-acc32"}) {
    const ChainArithmetic a(parse_chain(name));
    for (const std::size_t n : {std::size_t{0}, std::size_t{5}, std::size_t{8}, std::size_t{61}, std::size_t{4096}}) {
      std::vector<double> v(n);
      for (std::size_t i = 0; i < n; ++i) {
        v[i] = std::ldexp(normal(rng), static_cast<int>(rng() % 300) - 150);
        if (i % 97 == 13) v[i] = i % 3 ? -INFINITY : NAN;  // vectors with a non-finite lane
        if (i % 89 == 7) v[i] = i % 2 ? 0.0 : -0.0;
        if (i % 3 == 1) {
          // A hair off a midpoint of the storage format, where binary64 → binary32 → the format
          // rounds twice: only the rounding to odd at 24 bits keeps the side (a lane that
          // truncated or rounded to nearest there fails).
          const Format& f = a.storage();
          const double x = round_to(f, std::ldexp(normal(rng), static_cast<int>(rng() % 8) - 4));
          if (x != 0 && std::isfinite(x)) {
            const double ulp = std::ldexp(1.0, std::ilogb(x) - (f.precision - 1));
            v[i] = (x + std::copysign(ulp / 2, x)) * (1 + (rng() % 2 ? 0x1p-35 : -0x1p-35));
          }
        }
      }
      std::vector<double> want = v;
      for (double& x : want) x = round_to(a.storage(), x);
      a.round_storage(v);
      long mismatches = 0;
      for (std::size_t i = 0; i < n; ++i) mismatches += !same(v[i], want[i]) && !(std::isnan(v[i]) && std::isnan(want[i]));
      INFO(name << " n=" << n);
      CHECK(mismatches == 0);
    }
  }
}

TEST_CASE("fma_scaled (BatchNormalization's AVX-512 or AVX2 lanes) equals fma element by element") {
  // Storage values of the chain with, scattered in, the lanes the vector path declines (a value
  // that is not a binary32 number, NaN, ±Inf) and the ends of the range: signed zeros,
  // subnormal results, and scales that overflow the format.
  std::mt19937_64 rng(31);
  std::normal_distribution<double> normal;
  for (const char* name : {"fp16", "bf16", "fp32", "fp8-e4m3-acc32"}) {
    const ChainArithmetic a(parse_chain(name));
    const Format& f = a.storage();
    for (const std::size_t n : {std::size_t{0}, std::size_t{7}, std::size_t{8}, std::size_t{61}, std::size_t{4096}}) {
      std::vector<double> x(n);
      for (std::size_t i = 0; i < n; ++i) {
        x[i] = round_to(f, std::ldexp(normal(rng), static_cast<int>(rng() % 40) - 20));
        if (i % 97 == 13) x[i] = i % 3 ? -INFINITY : NAN;
        if (i % 89 == 7) x[i] = i % 2 ? 0.0 : -0.0;
        if (i % 83 == 5) x[i] = 1.0 + 0x1p-40;  // not a binary32 value: the exact generic path
        if (i % 79 == 3) x[i] = round_to(f, 0x1p-14);
      }
      const double scales[][2] = {{round_to(f, 1.7), round_to(f, -0.3)}, {round_to(f, 0x1p-12), -0.0},
                                  {round_to(f, 0.5), round_to(f, 0x1p-14)}, {round_to(f, 60000.0), 1.0}, {-1.0, 0.0},
                                  // binary32 results in the subnormal range (binary32's own FMA path rounds them)
                                  {round_to(f, 0x1p-110), round_to(f, 0x1p-140)}, {round_to(f, -0x1p-127), -0.0}};
      for (const auto& st : scales) {
        std::vector<double> y(n), want(n);
        for (std::size_t i = 0; i < n; ++i) want[i] = a.fma(x[i], st[0], st[1], Target::Storage);
        a.fma_scaled(x.data(), st[0], st[1], y.data(), static_cast<long>(n));
        long mismatches = 0;
        for (std::size_t i = 0; i < n; ++i) mismatches += !same(y[i], want[i]) && !(std::isnan(y[i]) && std::isnan(want[i]));
        INFO(name << " n=" << n << " scale=" << st[0] << " shift=" << st[1]);
        CHECK(mismatches == 0);
      }
    }
  }
}

TEST_CASE("binary (Add, Sub, Mul, Div along a broadcast row) equals add, sub, mul and div element by element") {
  // Rows of storage values against a row or a broadcast scalar (increments 1 and 0), with the
  // lanes the vector path declines (non-binary32 values, NaN, ±Inf), signed zeros, products and
  // sums that underflow to subnormals or overflow.
  std::mt19937_64 rng(41);
  std::normal_distribution<double> normal;
  const BinaryOp ops[] = {BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div};
  for (const char* name : {"fp16", "bf16", "fp32", "fp8-e4m3-acc32"}) {
    const ChainArithmetic a(parse_chain(name));
    const Format& f = a.storage();
    const std::size_t n = 203;
    std::vector<double> x(n), w(n);
    for (std::size_t i = 0; i < n; ++i) {
      x[i] = round_to(f, std::ldexp(normal(rng), static_cast<int>(rng() % 60) - 30));
      w[i] = round_to(f, std::ldexp(normal(rng), static_cast<int>(rng() % 60) - 30));
      if (i % 37 == 11) x[i] = i % 2 ? -INFINITY : NAN;
      if (i % 31 == 7) w[i] = i % 2 ? 0.0 : -0.0;
      if (i % 29 == 5) x[i] = -w[i];  // exact cancellation: +0
      if (i % 23 == 3) w[i] = 1.0 + 0x1p-40;  // not a binary32 value
      if (i % 19 == 2) x[i] = round_to(f, i % 2 ? 60000.0 : 0x1p-14);
      if (i % 41 == 9) w[i] = i % 2 ? INFINITY : -INFINITY;  // a quotient of ±0
    }
    // Both operands as a row or as a broadcast scalar (scalar − tensor too), and the result
    // written over x (y == x, as an in-place Add of a residual would).
    for (const BinaryOp op : ops)
      for (const std::ptrdiff_t incx : {std::ptrdiff_t{1}, std::ptrdiff_t{0}})
        for (const std::ptrdiff_t incw : {std::ptrdiff_t{1}, std::ptrdiff_t{0}})
          for (const bool in_place : {false, true})
            for (const std::size_t count : {std::size_t{0}, std::size_t{5}, std::size_t{8}, n}) {
              if (in_place && incx == 0) continue;  // y == x needs x a whole row
              std::vector<double> y(count), want(count);
              for (std::size_t i = 0; i < count; ++i) {
                const double u = x[i * static_cast<std::size_t>(incx)], v = w[i * static_cast<std::size_t>(incw)];
                want[i] = op == BinaryOp::Add   ? a.add(u, v, Target::Storage)
                          : op == BinaryOp::Sub ? a.sub(u, v, Target::Storage)
                          : op == BinaryOp::Mul ? a.mul(u, v, Target::Storage)
                                                : a.div(u, v, Target::Storage);
              }
              if (in_place) {
                std::copy_n(x.begin(), count, y.begin());
                a.binary(op, y.data(), 1, w.data(), incw, y.data(), static_cast<long>(count));
              } else {
                a.binary(op, x.data(), incx, w.data(), incw, y.data(), static_cast<long>(count));
              }
              long mismatches = 0;
              for (std::size_t i = 0; i < count; ++i) mismatches += !same(y[i], want[i]) && !(std::isnan(y[i]) && std::isnan(want[i]));
              INFO(name << " op=" << static_cast<int>(op) << " incx=" << incx << " incw=" << incw << " in place=" << in_place << " n=" << count);
              CHECK(mismatches == 0);
            }
  }
}

TEST_CASE("pow(x, 2) equals mul(x, x) in every arithmetic (Pow of 2 runs as Mul)") {
  // The elementwise Pow kernel evaluates an exponent of 2 as a row of Mul: the same value only
  // if every arithmetic's pow(x, 2) is its mul(x, x), specials and the ends of the range included.
  std::mt19937_64 rng(53);
  std::normal_distribution<double> normal;
  std::vector<double> x = {0.0, -0.0, INFINITY, -INFINITY, NAN, 0x1p-149, -0x1p-140, 0x1p-24, 65504.0, 0x1p64, -0x1p100, 0x1.fffffep127};
  for (int i = 0; i < 2000; ++i) x.push_back(std::ldexp(normal(rng), static_cast<int>(rng() % 80) - 40));
  std::vector<std::unique_ptr<Arithmetic>> all;
  for (const char* name : {"fp16", "bf16", "fp32", "fp16-acc32", "fp8-e4m3-acc32"}) all.push_back(make_chain_arithmetic(parse_chain(name)));
  all.push_back(std::make_unique<ExactArithmetic>());
  all.push_back(std::make_unique<MpfrArithmetic>(64));
  all.push_back(std::make_unique<MpfrArithmetic>(200));
  for (const auto& a : all) {
    long mismatches = 0;
    for (double v0 : x) {
      const double v = a->round(v0, Target::Storage);
      const double p = a->pow(v, 2.0, Target::Storage), m = a->mul(v, v, Target::Storage);
      mismatches += !same(p, m) && !(std::isnan(p) && std::isnan(m));
    }
    INFO(a->name());
    CHECK(mismatches == 0);
  }
}
