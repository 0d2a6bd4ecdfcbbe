// Stochastic rounding: results are always one of the two neighbours, representable values are
// left alone, the streams are reproducible, and the rounding is unbiased: the mean of N
// roundings equals the exact value.
//
// The tolerance, derived: each rounding of x between neighbours lo < x < hi = lo + q is lo + qB
// with B ~ Bernoulli(p), p = (x - lo)/q. The mean of N roundings is lo + q·K/N with K ~
// Binomial(N, p), so |mean - x| = q·|K/N - p| with standard deviation q·sqrt(p(1-p)/N). The
// checks allow 6 standard deviations (a false alarm has probability < 2·10^-9 per check for a
// truly unbiased rounding; with fixed seeds the test is deterministic anyway). The generator's
// resolution adds at most q·2^-53 of bias per draw, far below that.
#include <cmath>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "format/arithmetic.h"
#include "format/inspect.h"
#include "format/round.h"

using namespace fpaudit;

namespace {

struct MeanCheck {
  double mean_error;   // |mean of roundings - x|
  double tolerance;    // 6 standard deviations of that mean
  bool only_neighbours;
};

MeanCheck mean_of_roundings(const Format& f, double x, long n, std::uint64_t seed) {
  const double lo = round_to(f, x, Round::Down), hi = round_to(f, x, Round::Up);
  const double q = hi - lo;
  const double p = (x - lo) / q;
  StochasticStream stream(seed);
  double sum = 0;
  bool neighbours = true;
  for (long i = 0; i < n; ++i) {
    const double r = round_exact(f, x, 0, Round::Stochastic, stream.next()).value;
    neighbours = neighbours && (r == lo || r == hi);
    sum += r - lo;  // accumulate offsets: exact in binary64 for these sizes
  }
  const double mean = lo + sum / static_cast<double>(n);
  return {std::fabs(mean - x), 6.0 * q * std::sqrt(p * (1 - p) / static_cast<double>(n)), neighbours};
}

}  // namespace

TEST_CASE("unbiased: the mean of many roundings is the exact value") {
  const long n = 200'000;
  struct Case { Format f; double x; };
  const std::vector<Case> cases = {
      {binary16(), 1.0 + std::ldexp(1.0, -12)},        // p = 1/2 ... of the spacing 2^-10: 1/4
      {binary16(), 1.0 + 0.9 * std::ldexp(1.0, -10)},  // p = 0.9
      {binary16(), 0.1},
      {binary16(), 3.0e-6},                             // subnormal range
      {binary16(), -1234.567},
      {bfloat16(), 3.14159265358979},
      {e4m3(), 0.3},
      {e5m2(), -7.77},
  };
  for (const Case& c : cases) {
    const MeanCheck m = mean_of_roundings(c.f, c.x, n, 2024);
    INFO(fmt::format("{} x={}: |mean-x|={:.3g} tolerance={:.3g}", c.f.name, c.x, m.mean_error, m.tolerance));
    CHECK(m.only_neighbours);
    CHECK(m.mean_error <= m.tolerance);
  }
}

TEST_CASE("a probability far below 2^-11 (value far below half the smallest spacing)") {
  // 2^-40 in binary16 rounds to 2^-24 with probability 2^-16: expect N/2^16 = 64 of 2^22.
  const long n = 1L << 22;
  StochasticStream stream(7);
  long ups = 0;
  for (long i = 0; i < n; ++i)
    ups += round_exact(binary16(), std::ldexp(1.0, -40), 0, Round::Stochastic, stream.next()).value != 0;
  // Binomial(2^22, 2^-16): mean 64, standard deviation 8; 6σ = 48.
  CHECK(std::abs(ups - 64) <= 48);
}

TEST_CASE("representable values never move; streams are reproducible") {
  StochasticStream s1(99, 3), s2(99, 3), s3(99, 4);
  bool same = true, differ = false;
  for (int i = 0; i < 1000; ++i) {
    const std::uint64_t a = s1.next(), b = s2.next(), c = s3.next();
    same = same && a == b;
    differ = differ || a != c;
    CHECK(round_exact(binary16(), 1.5, 0, Round::Stochastic, a).value == 1.5);
  }
  CHECK(same);
  CHECK(differ);
  CHECK(StochasticStream::draw(99, 3, 10) == [] { StochasticStream s(99, 3); for (int i = 0; i < 10; ++i) s.next(); return s.next(); }());
}

TEST_CASE("stochastic arithmetic: 1 + 2^-13 in binary16 rounds up with probability 1/8") {
  const long n = 400'000;
  StochasticStream stream(11);
  long ups = 0;
  for (long i = 0; i < n; ++i) ups += add(binary16(), 1.0, std::ldexp(1.0, -13), Round::Stochastic, stream.next()).value > 1.0;
  const double sd = std::sqrt(n * 0.125 * 0.875);
  CHECK(std::fabs(ups - n * 0.125) <= 6 * sd);
}
