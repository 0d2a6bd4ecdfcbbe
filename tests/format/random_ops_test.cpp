// add, sub, mul, div and fma in every format and every deterministic rounding mode, against
// MPFR: 10^6 random operand sets per (format, operation, mode) drawn across the whole exponent
// range, a share of them steered into cancellation and ties; every pair of values for the FP8
// formats; and a grid of constructed hard cases (exact ties, half an ulp from a binade edge,
// the overflow threshold, subnormal results, signed zeros, infinities, NaN).
#include <array>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "format/arithmetic.h"
#include "format/encoding.h"
#include "format/inspect.h"
#include "support/mpfr_oracle.h"

using namespace fpaudit;
using namespace fpaudit::testing;

namespace {

constexpr std::array kModes = {Round::NearestEven, Round::TowardZero, Round::Up, Round::Down};
constexpr std::array kOps = {Op::Add, Op::Sub, Op::Mul, Op::Div, Op::Fma};
constexpr long kRandomCases = 1'000'000;

std::string_view op_name(Op op) {
  switch (op) {
    case Op::Add: return "add";
    case Op::Sub: return "sub";
    case Op::Mul: return "mul";
    case Op::Div: return "div";
    case Op::Fma: return "fma";
    default: return "?";
  }
}

Rounded ours(const Format& f, Op op, Round mode, double a, double b, double c) {
  switch (op) {
    case Op::Add: return add(f, a, b, mode);
    case Op::Sub: return sub(f, a, b, mode);
    case Op::Mul: return mul(f, a, b, mode);
    case Op::Div: return div(f, a, b, mode);
    case Op::Fma: return fma(f, a, b, c, mode);
    default: return {};
  }
}

/// Random values of a format, uniform over its exponent range (all patterns equally likely
/// for encoded formats; sign, exponent and significand drawn separately otherwise).
class ValueSource {
 public:
  ValueSource(const Format& f, std::uint64_t seed) : f_(f), rng_(seed) {}
  double any() {
    if (f_.storage_bits > 0) {
      for (;;) {
        const auto bits = static_cast<std::uint32_t>(rng_() & (pattern_count(f_) - 1));
        const double x = decode(f_, bits);
        if (!std::isnan(x) || coin(64)) return x;
      }
    }
    const int e = std::uniform_int_distribution<int>(f_.emin - (f_.subnormals ? f_.precision : 1), f_.emax)(rng_);
    const double m = std::ldexp(1.0, f_.precision - 1) + static_cast<double>(rng_() % (1u << (f_.precision - 1)));
    const double x = round_to(f_, std::ldexp(m, e - f_.precision + 1));
    return coin(2) ? -x : x;
  }
  /// A value within a few ulps of target (for cancellation and near-ties).
  double near(double target) {
    double x = round_to(f_, target);
    const int steps = static_cast<int>(rng_() % 7) - 3;
    for (int i = 0; i < steps && std::isfinite(x); ++i) x = next_up(f_, x);
    for (int i = 0; i > steps && std::isfinite(x); --i) x = next_down(f_, x);
    return std::isnan(x) ? target : x;
  }
  bool coin(unsigned n) { return rng_() % n == 0; }

 private:
  Format f_;
  std::mt19937_64 rng_;
};

struct Tally {
  long checks = 0, mismatches = 0;
  std::string first;
};

void compare(Tally& t, const Format& f, Op op, Round mode, double a, double b, double c) {
  const Rounded got = ours(f, op, mode, a, b, c);
  const OracleResult want = mpfr_oracle(f, op, mode, a, b, c);
  ++t.checks;
  const bool ok = same_value(got.value, want.value) && (std::isnan(want.value) || got.ternary == want.ternary);
  if (!ok && ++t.mismatches <= 5)
    t.first += fmt::format("{} {} {}({:a}, {:a}, {:a}) = {:a} (ternary {}), MPFR {:a} (ternary {})\n", f.name,
                           round_name(mode), op_name(op), a, b, c, got.value, got.ternary, want.value, want.ternary);
}

/// Constructed hard cases: a grid of special and boundary values, all combinations.
std::vector<double> hard_values(const Format& f) {
  const double u = unit_roundoff(f), mx = max_finite(f), mn = min_normal(f), ms = min_positive(f);
  std::vector<double> v = {0.0, 1.0, 1.0 + 2 * u, 1.0 - u, 1.5, 3.0, mx, mx - ulp(f, mx) , mn, mn - ms, ms, 2 * ms,
                           std::sqrt(mx), 0.5 * mx, 1.0 / 3.0, std::ldexp(1.0, f.emax), std::ldexp(1.0, f.emin / 2)};
  std::vector<double> out;
  for (double x : v) {
    const double r = round_to(f, x);
    out.push_back(r);
    out.push_back(-r);
  }
  if (has_infinity(f)) {
    out.push_back(INFINITY);
    out.push_back(-INFINITY);
  }
  out.push_back(NAN);
  return out;
}

void run_format(const Format& f, std::uint64_t seed) {
  const bool tiny_format = f.storage_bits > 0 && f.storage_bits <= 8;
  for (Op op : kOps) {
    Tally t;
    for (Round mode : kModes) {
      // 1. Hard-case grid: every pair (and, for fma, every triple) of boundary values.
      const std::vector<double> hv = hard_values(f);
      for (double a : hv)
        for (double b : hv) {
          if (op != Op::Fma) compare(t, f, op, mode, a, b, 0);
          else
            for (double c : hv) compare(t, f, op, mode, a, b, c);
        }
      // 2. FP8: every pair of values exhaustively (fma: every pair with random addends).
      if (tiny_format && op != Op::Fma) {
        for (std::uint32_t i = 0; i < pattern_count(f); ++i)
          for (std::uint32_t j = 0; j < pattern_count(f); ++j) compare(t, f, op, mode, decode(f, i), decode(f, j), 0);
      }
      // 3. Random operands, a quarter of them steered into cancellation or near-ties.
      ValueSource src(f, seed ^ (static_cast<std::uint64_t>(op) << 8) ^ static_cast<std::uint64_t>(mode));
      for (long k = 0; k < kRandomCases; ++k) {
        const double a = src.any();
        double b = src.any();
        double c = op == Op::Fma ? src.any() : 0.0;
        if (src.coin(4)) {
          switch (op) {
            case Op::Add: b = src.near(-a); break;  // cancellation
            case Op::Sub: b = src.near(a); break;
            case Op::Mul: b = src.near(1.0 + 0.5 * machine_epsilon(f)); break;  // products near ties
            case Op::Div: b = src.near(a); break;   // quotients near 1
            case Op::Fma: c = src.near(-a * b); break;  // the product cancels the addend
            default: break;
          }
        }
        compare(t, f, op, mode, a, b, c);
      }
    }
    MESSAGE(fmt::format("{} {}: {} cases in 4 modes, {} mismatches", f.name, op_name(op), t.checks, t.mismatches));
    CHECK_MESSAGE(t.mismatches == 0, t.first);
    CHECK(t.checks >= 4 * kRandomCases);
  }
}

}  // namespace

TEST_CASE("binary16") { run_format(binary16(), 16); }
TEST_CASE("bfloat16") { run_format(bfloat16(), 1616); }
TEST_CASE("binary32") { run_format(binary32(), 32); }
TEST_CASE("tf32") { run_format(tf32(), 19); }
TEST_CASE("e4m3") { run_format(e4m3(), 43); }
TEST_CASE("e4m3-nosat") { run_format(e4m3_nosat(), 4343); }
TEST_CASE("e5m2") { run_format(e5m2(), 52); }
TEST_CASE("generic p=5 without subnormals") { run_format(generic_format(5, -6, 7, false), 5); }
TEST_CASE("generic p=13 with subnormals") { run_format(generic_format(13, -20, 20, true), 13); }
