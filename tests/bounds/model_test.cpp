// lib/bounds/model and sums: the constants every rule is built from, checked against values
// worked out by hand or with MPFR at high precision.
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include <doctest/doctest.h>
#include <mpfr.h>

#include "bounds/model.h"
#include "bounds/sums.h"
#include "bounds/transfer.h"
#include "core/reference_arithmetic.h"

using namespace fpaudit;
using namespace fpaudit::bounds;

namespace {

/// (1+u)^k - 1 at 256 bits, rounded down: the exact growth to compare rounding_growth with.
double exact_growth(long k, double u) {
  mpfr_t x;
  mpfr_init2(x, 256);
  mpfr_set_d(x, u, MPFR_RNDN);
  mpfr_add_ui(x, x, 1, MPFR_RNDN);
  mpfr_pow_si(x, x, k, MPFR_RNDN);
  mpfr_sub_ui(x, x, 1, MPFR_RNDN);
  const double r = mpfr_get_d(x, MPFR_RNDD);
  mpfr_clear(x);
  return r;
}

}  // namespace

TEST_CASE("rounding_growth bounds (1+u)^k - 1 from above, tightly, and never exceeds γ_k") {
  for (const double u : {0x1p-24, 0x1p-11, 0x1p-8, 0x1p-4}) {
    for (const long k : {1L, 2L, 3L, 10L, 100L, 784L, 1000L, 4096L, 65536L, 1L << 20}) {
      const double g = rounding_growth(k, u);
      const double e = exact_growth(k, u);
      CAPTURE(u);
      CAPTURE(k);
      if (std::isinf(e)) {
        CHECK(std::isinf(g));
        continue;
      }
      CHECK(g >= e);
      CHECK(g <= e * (1 + 1e-6) + 1e-300);  // tight to a relative 1e-6
      if (static_cast<double>(k) * u < 1) CHECK(g <= gamma(k, u) * (1 + 0x1p-50));
    }
  }
  // Finite where γ_k is not: bfloat16 at K = 784 (ku = 3.06) grows by e^3.05 - 1 ≈ 20.2.
  CHECK(std::isinf(gamma(784, 0x1p-8)));
  CHECK(rounding_growth(784, 0x1p-8) == doctest::Approx(20.16).epsilon(0.01));
  CHECK(rounding_growth(0, 0x1p-11) == 0);
}

TEST_CASE("one rounding: u·|z| + η, and the saturation of E4M3") {
  const RoundingTarget b16{0x1p-11, 0x1p-25, 65504, false};
  CHECK(b16.error(1.0) >= 0x1p-11 + 0x1p-25);
  CHECK(b16.error(1.0) <= (0x1p-11 + 0x1p-25) * (1 + 1e-14));
  CHECK(b16.error(0) >= 0x1p-25);
  // E4M3 saturates at 448: 1000 becomes 448, an error of 552 = 1000 - 448.
  const RoundingTarget e4m3{0x1p-4, 0x1p-10, 448, true};
  CHECK(e4m3.error(1000) >= 552);
  CHECK(e4m3.error(400) >= 25);  // u·400
  CHECK(e4m3.error(400) < 26);
  // A non-saturating format may overflow beyond its largest finite value: no finite bound there,
  // so that a rule's finite bound promises a finite output (theory/rounding-model.md, Lemma 1).
  CHECK(b16.error(65504) == doctest::Approx(65504 * 0x1p-11).epsilon(1e-9));
  CHECK(std::isinf(b16.error(std::nextafter(65504.0, 1e6))));
  CHECK(std::isinf(b16.error(80000)));
  CHECK(std::isinf(b16.error(NAN)));
  CHECK(std::isinf(b16.rounded_magnitude(1e5)));
}

TEST_CASE("the models of the named chains and the references") {
  const auto fp16 = ArithmeticModel::of(*make_chain_arithmetic(parse_chain("fp16")));
  CHECK(fp16.storage.u == 0x1p-11);
  CHECK(fp16.u_sum == 0x1p-11);
  CHECK(fp16.eta_sum == 0x1p-25);
  CHECK_FALSE(fp16.storage_differs);
  const auto mixed = ArithmeticModel::of(*make_chain_arithmetic(parse_chain("fp16-acc32@pairwise-8")));
  CHECK(mixed.storage.u == 0x1p-11);
  CHECK(mixed.u_sum == 0x1p-24);
  CHECK(mixed.storage_differs);
  CHECK(mixed.schedule == DotSchedule::pairwise(8));
  const auto fp8 = ArithmeticModel::of(*make_chain_arithmetic(parse_chain("fp8-e4m3-acc32")));
  CHECK(fp8.storage.saturates);
  CHECK(fp8.storage.max_finite == 448);
  const auto exact = ArithmeticModel::of(ExactArithmetic{});
  CHECK(exact.exact_sums);
  CHECK(exact.storage.u == 0x1p-53);
  CHECK(exact.libm_rel == 0);
  const auto mpfr = ArithmeticModel::of(MpfrArithmetic(100));
  CHECK_FALSE(mpfr.exact_sums);
  CHECK(mpfr.sum_rounded_to_storage);
  CHECK(mpfr.u_sum == 0x1p-100);
}

TEST_CASE("sum_error: deterministic, probabilistic and the references") {
  ArithmeticModel m = ArithmeticModel::of(*make_chain_arithmetic(parse_chain("fp16")));
  // n = 4, S = 10: ((1+2^-11)^4 - 1)·10 + 4·2^-25·(1+2^-11)^3.
  const SumError s = sum_error(m, 4, 10, 5);
  const double expect = (std::pow(1 + 0x1p-11, 4) - 1) * 10 + 4 * 0x1p-25 * std::pow(1 + 0x1p-11, 3);
  CHECK(s.det >= expect);
  CHECK(s.det <= expect * (1 + 1e-6));
  // For four terms λ√4·u exceeds 4u: the probabilistic bound is no better and promises nothing.
  CHECK(s.prob == s.det);
  CHECK(s.failure == 0);
  // For K = 784, γ̃ = exp(5·28·2^-11 + ...) - 1 ≈ 0.0708 against 0.466 deterministic.
  const SumError big = sum_error(m, 784, 1, 5);
  CHECK(big.det == doctest::Approx(std::pow(1 + 0x1p-11, 784) - 1).epsilon(1e-3));
  CHECK(big.prob == doctest::Approx(std::expm1(5 * 28 * 0x1p-11 + 784 * 0x1p-22 / (1 - 0x1p-11))).epsilon(1e-3));
  CHECK(big.failure == doctest::Approx(2 * 784 * std::exp(-12.5 * (1 - 0x1p-11) * (1 - 0x1p-11))).epsilon(1e-6));
  // Two lanes halve the depth but keep 784 terms: the failure is charged per term.
  m.schedule = DotSchedule::two_lane();
  CHECK(sum_error(m, 784, 1, 5).failure == doctest::Approx(big.failure));
  CHECK(sum_error(m, 784, 1, 5).det < big.det / 1.9);
  // The exact reference rounds once: u·S + η.
  const auto exact = ArithmeticModel::of(ExactArithmetic{});
  CHECK(sum_error(exact, 1000, 3, 5).det == doctest::Approx(3 * 0x1p-53));
}

TEST_CASE("the bound code's own rounding: up/down bracket, safety grows with n") {
  for (const double x : {1.0, 1.5, 3.0, 1e-310, -2.5, 0x1.fffffffffffffp0}) {
    CHECK(up(x) > x);
    CHECK(down(x) < x);
  }
  CHECK(safety(1) > 1);
  CHECK(safety(1000) > safety(10));
  CHECK(safety(1000) < 1 + 1e-12);
}

TEST_CASE("max_num and min_num return what glibc's fmax and fmin return, NaN and signed zeros included") {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  const double values[] = {nan, -inf, -1.5, -0.0, 0.0, 0x1p-1074, 2.0, inf};
  for (double a : values)
    for (double b : values) {
      // volatile: compare with the library calls, not with what the compiler folds.
      volatile double va = a, vb = b;
      const double want_max = std::fmax(va, vb), want_min = std::fmin(va, vb);
      const double got_max = max_num(a, b), got_min = min_num(a, b);
      CHECK(std::isnan(got_max) == std::isnan(want_max));
      CHECK(std::isnan(got_min) == std::isnan(want_min));
      if (!std::isnan(want_max)) CHECK(std::bit_cast<std::uint64_t>(got_max) == std::bit_cast<std::uint64_t>(want_max));
      if (!std::isnan(want_min)) CHECK(std::bit_cast<std::uint64_t>(got_min) == std::bit_cast<std::uint64_t>(want_min));
    }
}
