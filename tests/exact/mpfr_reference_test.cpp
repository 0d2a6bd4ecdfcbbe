// The mpfr:BITS reference (MpfrArithmetic, lib/core/reference_arithmetic.h), the one
// implementation of the mode: its names, and its sums and dot products against an exact MPFR
// value, within the bound the rounding model states (every product and partial sum rounded at
// BITS, then once to binary64): |got - exact| ≤ γ_n(2^-BITS)·Σ|x_i·w_i| + 2^-53·(|exact| + that).
#include <mpfr.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

#include <doctest/doctest.h>

#include "core/reference_arithmetic.h"

using namespace fpaudit;

namespace {

/// Enough bits for any sum of up to 512 products of doubles in [2^-60, 2^60] to be exact.
constexpr mpfr_prec_t kExactBits = 2400;

struct Mpfr {
  mpfr_t v;
  explicit Mpfr(mpfr_prec_t bits = kExactBits) { mpfr_init2(v, bits); mpfr_set_zero(v, 1); }
  ~Mpfr() { mpfr_clear(v); }
  Mpfr(const Mpfr&) = delete;
  Mpfr& operator=(const Mpfr&) = delete;
};

/// Whether |got - Σ x_i·w_i| is within the bound above (all of it evaluated in MPFR, the bound
/// rounded upward).
bool within_bound(const std::vector<double>& x, const std::vector<double>& w, double got, int bits) {
  Mpfr exact, magnitude, term;
  for (std::size_t i = 0; i < x.size(); ++i) {
    mpfr_set_d(term.v, x[i], MPFR_RNDN);
    mpfr_mul_d(term.v, term.v, w[i], MPFR_RNDN);  // exact: 106 bits at most
    mpfr_add(exact.v, exact.v, term.v, MPFR_RNDN);  // exact at kExactBits
    mpfr_abs(term.v, term.v, MPFR_RNDN);
    mpfr_add(magnitude.v, magnitude.v, term.v, MPFR_RNDN);
  }
  const auto n = static_cast<long>(x.size());
  Mpfr gamma(64), bound(64), tail(64), error;
  // γ_n = n·u / (1 - n·u), u = 2^-bits, rounded up.
  mpfr_set_ui_2exp(gamma.v, static_cast<unsigned long>(n), -bits, MPFR_RNDU);
  mpfr_ui_sub(tail.v, 1, gamma.v, MPFR_RNDD);
  mpfr_div(gamma.v, gamma.v, tail.v, MPFR_RNDU);
  mpfr_mul(bound.v, gamma.v, magnitude.v, MPFR_RNDU);
  mpfr_abs(tail.v, exact.v, MPFR_RNDU);
  mpfr_add(tail.v, tail.v, bound.v, MPFR_RNDU);
  mpfr_mul_2si(tail.v, tail.v, -53, MPFR_RNDU);
  mpfr_add(bound.v, bound.v, tail.v, MPFR_RNDU);
  mpfr_set_d(error.v, got, MPFR_RNDN);
  mpfr_sub(error.v, error.v, exact.v, MPFR_RNDN);  // exact at kExactBits
  mpfr_abs(error.v, error.v, MPFR_RNDN);
  return mpfr_lessequal_p(error.v, bound.v) != 0;
}

/// Terms of mixed magnitude, with cancelling pairs so that the sum is much smaller than Σ|terms|.
std::vector<double> terms(std::mt19937_64& rng, long n) {
  std::uniform_real_distribution<double> mantissa(1.0, 2.0);
  std::uniform_int_distribution<int> exponent(-30, 30);
  std::bernoulli_distribution sign(0.5);
  std::vector<double> v(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) {
    const double t = std::ldexp(mantissa(rng), exponent(rng));
    v[static_cast<std::size_t>(i)] = i % 2 == 1 && sign(rng) ? -v[static_cast<std::size_t>(i - 1)] * (1 + 0x1p-40) : (sign(rng) ? t : -t);
  }
  return v;
}

}  // namespace

TEST_CASE("mpfr:BITS names: 64 to 4096 bits, anything else refused") {
  CHECK(make_reference_arithmetic("mpfr:64")->name() == "mpfr:64");
  CHECK(make_reference_arithmetic("mpfr:4096")->name() == "mpfr:4096");
  CHECK(MpfrArithmetic(256).bits() == 256);
  CHECK_THROWS_AS(make_reference_arithmetic("mpfr:63"), std::invalid_argument);
  CHECK_THROWS_AS(make_reference_arithmetic("mpfr:4097"), std::invalid_argument);
  CHECK_THROWS_AS(make_reference_arithmetic("mpfr:12x"), std::invalid_argument);
  CHECK_THROWS_AS(make_reference_arithmetic("mpfr:"), std::invalid_argument);
}

TEST_CASE("mpfr:BITS dot and sum: the measured error never exceeds the rounding model's bound") {
  std::mt19937_64 rng(20261204);
  const ExactArithmetic exact;
  long checked = 0, violations = 0, inexact = 0;
  for (int bits : {64, 100, 128, 256}) {
    const MpfrArithmetic a(bits);
    for (int trial = 0; trial < 150; ++trial) {
      const long n = 1 + static_cast<long>(rng() % 512);
      const std::vector<double> x = terms(rng, n), w = terms(rng, n), ones(static_cast<std::size_t>(n), 1.0);
      const double dot = a.dot(x.data(), 1, w.data(), 1, n);
      const double sum = a.sum(x.data(), 1, n);
      violations += !within_bound(x, w, dot, bits);
      violations += !within_bound(x, ones, sum, bits);
      checked += 2;
      inexact += dot != exact.dot(x.data(), 1, w.data(), 1, n);
    }
  }
  MESSAGE("mpfr:BITS sums checked: " << checked << ", differing from the exact reference at 64..256 bits: " << inexact);
  CHECK(checked == 1200);
  CHECK(violations == 0);
}

TEST_CASE("mpfr:4096 sums and dot products are exact here: the exact reference's bits") {
  std::mt19937_64 rng(7);
  const MpfrArithmetic a(4096);
  const ExactArithmetic exact;
  long differing = 0;
  for (int trial = 0; trial < 200; ++trial) {
    const long n = 1 + static_cast<long>(rng() % 512);
    const std::vector<double> x = terms(rng, n), w = terms(rng, n);
    differing += a.dot(x.data(), 1, w.data(), 1, n) != exact.dot(x.data(), 1, w.data(), 1, n);
    differing += a.sum(x.data(), 1, n) != exact.sum(x.data(), 1, n);
  }
  CHECK(differing == 0);
}
