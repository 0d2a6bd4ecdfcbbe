// Every bit pattern of binary16, bfloat16, TF32 and both FP8 formats, against MPFR set to the
// format's precision and exponent range (mpfr_subnormalize for gradual underflow):
//   - encoding round trips, classification, neighbours, ulp and ulp distance;
//   - conversion from binary64 and from 300-bit MPFR numbers of every value, every midpoint
//     between neighbours and the points just beside each midpoint, in all four modes;
//   - sqrt of every value in all four modes, with MPFR's ternary value.
#include <array>
#include <cmath>
#include <string>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "format/arithmetic.h"
#include "format/encoding.h"
#include "format/from_mpfr.h"
#include "format/inspect.h"
#include "support/mpfr_oracle.h"

using namespace fpaudit;
using namespace fpaudit::testing;

namespace {

constexpr std::array kModes = {Round::NearestEven, Round::TowardZero, Round::Up, Round::Down};

/// Counts mismatches and remembers the first few, so a failure says exactly where.
struct Tally {
  long checks = 0, mismatches = 0;
  std::string first;
  void expect(bool ok, const std::string& what) {
    ++checks;
    if (ok) return;
    if (++mismatches <= 5) first += what + "\n";
  }
};

void check_patterns(const Format& f) {
  Tally t;
  const std::uint32_t n = static_cast<std::uint32_t>(pattern_count(f));
  const std::uint32_t sign_bit = 1u << (f.storage_bits - 1);
  mpfr_t big;
  mpfr_init2(big, 300);
  for (std::uint32_t bits = 0; bits < n; ++bits) {
    const double x = decode(f, bits);
    const std::string at = fmt::format("{} pattern {:#x} ({:a})", f.name, bits, x);
    if (std::isnan(x)) {
      t.expect(classify(f, x) == ValueClass::NaN, at + " classify");
      continue;
    }
    // Encoding, exactness, class.
    t.expect(encode(f, x) == bits, at + " encode(decode)");
    const Rounded self = round_exact(f, x, 0, Round::NearestEven);
    t.expect(same_value(self.value, x) && !(self.flags & kInexact), at + " is a fixed point of rounding");
    t.expect(same_value(static_cast<double>(static_cast<float>(x)), x), at + " exact in binary32");
    const std::uint32_t exp_field = (bits & ~sign_bit) >> (f.precision - 1);
    const ValueClass expected_class = std::isinf(x) ? ValueClass::Infinity
                                      : x == 0      ? ValueClass::Zero
                                      : exp_field == 0 ? ValueClass::Subnormal
                                                       : ValueClass::Normal;
    t.expect(classify(f, x) == expected_class, at + " classify");
    if (std::isinf(x)) continue;

    // Neighbours along the encoding: for x ≥ 0 the next pattern is the next value up.
    if (!(bits & sign_bit)) {
      const double up = decode(f, bits + 1);  // may be Inf (IEEE) or NaN (E4M3 top)
      const double got_up = next_up(f, x);
      t.expect(same_value(got_up, up) || (x == max_finite(f) && std::isnan(up) && std::isnan(got_up)),
               at + " next_up");
      if (std::isfinite(up)) {
        // next_down is -next_up(-x): this sweeps next_up over the negative values.
        t.expect(same_value(next_down(f, up), x), at + " next_down(next_up(x))");
        t.expect(ulp(f, x) == up - x || x == 0, at + " ulp");
        t.expect(ulp_distance(f, x, up) == 1.0, at + " ulp_distance to next");
      }
    }

    // sqrt in all modes, against MPFR, with the ternary value.
    for (Round mode : kModes) {
      const Rounded got = fpaudit::sqrt(f, x, mode);
      const OracleResult want = mpfr_oracle(f, Op::Sqrt, mode, x);
      t.expect(same_value(got.value, want.value), at + fmt::format(" sqrt {}: {:a} want {:a}", round_name(mode), got.value, want.value));
      if (!std::isnan(want.value)) t.expect(got.ternary == want.ternary, at + " sqrt ternary " + std::string(round_name(mode)));
    }

    // Conversions of the points around x's upper neighbour gap, both signs, all modes.
    if (bits & sign_bit) continue;
    const double up = x < max_finite(f) ? decode(f, bits + 1) : max_finite(f) + ulp(f, max_finite(f));
    const double mid = 0.5 * (x + up);
    const double tiny = std::ldexp(std::fabs(mid), -60);
    const std::array points = {mid, mid + tiny, mid - tiny, x + 0.25 * (up - x), x + 0.75 * (up - x)};
    for (double p : points) {
      for (double s : {p, -p}) {
        for (Round mode : kModes) {
          const double got = round_to(f, s, mode);
          const OracleResult want = mpfr_oracle(f, Op::Convert, mode, s);
          t.expect(same_value(got, want.value), at + fmt::format(" convert {:a} {}: {:a} want {:a}", s, round_name(mode), got, want.value));
        }
      }
    }
    // From MPFR numbers that binary64 cannot hold: the midpoint ± 2^-200 relative.
    for (int side : {-1, 1}) {
      mpfr_set_d(big, mid, MPFR_RNDN);
      mpfr_t delta;
      mpfr_init2(delta, 64);
      mpfr_set_d(delta, std::fabs(mid), MPFR_RNDN);
      mpfr_mul_2si(delta, delta, -200, MPFR_RNDN);
      if (side > 0) mpfr_add(big, big, delta, MPFR_RNDN); else mpfr_sub(big, big, delta, MPFR_RNDN);
      mpfr_clear(delta);
      for (Round mode : kModes) {
        const double got = round_mpfr(f, big, mode).value;
        const double want = mpfr_oracle_round(f, big, mode).value;
        t.expect(same_value(got, want), at + fmt::format(" from MPFR midpoint{}2^-200 {}", side > 0 ? "+" : "-", round_name(mode)));
      }
    }
  }
  mpfr_clear(big);
  MESSAGE(fmt::format("{}: {} patterns, {} checks, {} mismatches", f.name, n, t.checks, t.mismatches));
  CHECK_MESSAGE(t.mismatches == 0, t.first);
  CHECK(t.checks > 20L * n);  // the sweep really ran over every pattern
}

}  // namespace

TEST_CASE("binary16: every pattern") { check_patterns(binary16()); }
TEST_CASE("bfloat16: every pattern") { check_patterns(bfloat16()); }
TEST_CASE("e4m3: every pattern") { check_patterns(e4m3()); }
TEST_CASE("e4m3-nosat: every pattern") { check_patterns(e4m3_nosat()); }
TEST_CASE("e5m2: every pattern") { check_patterns(e5m2()); }
TEST_CASE("tf32: every pattern") { check_patterns(tf32()); }
