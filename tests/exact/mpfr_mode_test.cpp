// The mpfr:BITS mode: precision handling through Boost's mpfr_float, the certified bounds of
// its dot products and sums (the measured error never exceeds them, on adversarial data and
// at every precision), its agreement with the exact fast path wherever its bound decides the
// binary64 rounding, correctly rounded elementary functions at BITS, conversions, and the
// threading rule.
#include <cmath>
#include <limits>
#include <random>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "adversarial_vectors.h"
#include "binary64_oracle.h"
#include "exact/dot.h"
#include "exact/elementary.h"
#include "exact/mpfr_mode.h"
#include "format/round.h"
#include "support/mpfr_oracle.h"

namespace mp = fpaudit::exact::mp;
using fpaudit::testing::same_value;

namespace {

mpfr_srcptr raw(const mp::Real& r) { return r.backend().data(); }

/// |value - exact| ≤ bound, computed exactly in MPFR; exact is given at high precision.
bool within_bound(const mp::CertifiedReal& c, mpfr_srcptr exact) {
  if (mpfr_inf_p(raw(c.abs_error_bound))) return true;
  mpfr_t diff;
  mpfr_init2(diff, 9000);
  mpfr_sub(diff, raw(c.value), exact, MPFR_RNDN);  // exact: 9000 bits hold both
  mpfr_abs(diff, diff, MPFR_RNDN);
  const bool ok = mpfr_lessequal_p(diff, raw(c.abs_error_bound));
  mpfr_clear(diff);
  return ok;
}

}  // namespace

TEST_CASE("mode names and precision scopes") {
  CHECK(mp::parse_mode("mpfr:256") == 256);
  CHECK(mp::parse_mode("mpfr:64") == 64);
  CHECK(mp::parse_mode("mpfr:4096") == 4096);
  CHECK_FALSE(mp::parse_mode("mpfr:63").has_value());
  CHECK_FALSE(mp::parse_mode("mpfr:4097").has_value());
  CHECK_FALSE(mp::parse_mode("mpfr:12x").has_value());
  CHECK_FALSE(mp::parse_mode("fp16").has_value());
  CHECK_THROWS_AS(mp::PrecisionScope(32), std::invalid_argument);

  const unsigned before = mp::Real::default_precision();
  {
    mp::PrecisionScope scope(128);
    CHECK(scope.boost_bits() == 128);  // 38 decimal digits are exactly 128 bits in Boost
    const mp::Real third = mp::Real(1) / 3;  // a Boost-created value under the scope
    CHECK(mp::precision_bits(third) == 128);
    {
      mp::PrecisionScope inner(200);
      CHECK(inner.boost_bits() >= 200);
      CHECK(inner.boost_bits() <= 203);
      CHECK(mp::precision_bits(mp::Real(2) / 3) == inner.boost_bits());
    }
    CHECK(mp::precision_bits(mp::Real(1) / 7) == 128);  // the outer scope is back
  }
  CHECK(mp::Real::default_precision() == before);
}

TEST_CASE("conversions: exact from double, correctly rounded to double and to every Format") {
  const mp::Real x = mp::make_real(0.1, 300);
  CHECK(mp::precision_bits(x) == 300);
  CHECK(mp::to_double(x) == 0.1);
  // 1 + 2^-60 at 300 bits rounds to 1 in binary64; 2^-1075·3 rounds to 2^-1073 (ties to even).
  mp::Real y = mp::make_real(1.0, 300);
  mpfr_add_d(y.backend().data(), y.backend().data(), 0x1p-60, MPFR_RNDN);
  CHECK(mp::to_double(y) == 1.0);
  mp::Real z = mp::make_real(0x1p-1074, 300);
  mpfr_mul_d(z.backend().data(), z.backend().data(), 1.5, MPFR_RNDN);
  CHECK(mp::to_double(z) == 0x1p-1073);
  // Every named format, every deterministic mode: to_format equals the test oracle's rounding.
  std::mt19937_64 rng(3);
  int mismatches = 0;
  for (const fpaudit::Format& f : fpaudit::named_formats()) {
    for (const fpaudit::Round mode : {fpaudit::Round::NearestEven, fpaudit::Round::TowardZero, fpaudit::Round::Up,
                                      fpaudit::Round::Down}) {
      for (int k = 0; k < 300; ++k) {
        mp::Real v = mp::make_real(std::ldexp(std::uniform_real_distribution<double>(-2, 2)(rng),
                                              std::uniform_int_distribution<int>(-150, 130)(rng)),
                                   512);
        mpfr_add_d(v.backend().data(), v.backend().data(), std::ldexp(1.0, -400), MPFR_RNDN);  // beyond binary64
        const auto got = mp::to_format(f, v, mode);
        const auto want = fpaudit::testing::mpfr_oracle_round(f, raw(v), mode);
        if (!same_value(got.value, want.value)) ++mismatches;
      }
    }
  }
  CHECK(mismatches == 0);
}

TEST_CASE("dot and sum at BITS: the measured error never exceeds the certified bound") {
  std::mt19937_64 rng(4096);
  const int precisions[] = {64, 100, 128, 256, 1024, 4096};
  int violations = 0, cases = 0, decided = 0, disagreements = 0;
  mpfr_t exact;
  mpfr_init2(exact, 4500);  // holds any sum of products of binary64 values exactly
  for (const auto family : fpaudit::testing::kAllFamilies) {
    for (int k = 0; k < 60; ++k) {
      const auto c = fpaudit::testing::make_case(family, fpaudit::testing::draw_length(rng, 300), false, rng);
      fpaudit::testing::oracle_dot_round(exact, MPFR_RNDN, c.x, c.w, c.bias);
      if (!mpfr_number_p(exact)) continue;  // NaN/Inf inputs: no error to bound
      for (const int bits : precisions) {
        const mp::CertifiedReal r = mp::dot(c.x, c.w, c.bias, bits);
        ++cases;
        if (!within_bound(r, exact)) ++violations;
        // Where the bound decides the binary64 rounding, it must agree with the exact path.
        mpfr_t lo, hi;
        mpfr_inits2(bits + 64, lo, hi, static_cast<mpfr_ptr>(nullptr));
        mpfr_sub(lo, raw(r.value), raw(r.abs_error_bound), MPFR_RNDD);
        mpfr_add(hi, raw(r.value), raw(r.abs_error_bound), MPFR_RNDU);
        const double dlo = fpaudit::testing::binary64_nearest(lo), dhi = fpaudit::testing::binary64_nearest(hi);
        if (same_value(dlo, dhi)) {
          ++decided;
          if (!same_value(dlo, fpaudit::exact::dot(c.x, c.w, c.bias))) ++disagreements;
        }
        mpfr_clears(lo, hi, static_cast<mpfr_ptr>(nullptr));
      }
      // The sum of the x values, at a few precisions.
      fpaudit::testing::oracle_dot_round(exact, MPFR_RNDN, c.x, std::vector<double>(c.x.size(), 1.0), 0.0);
      if (!mpfr_number_p(exact)) continue;
      for (const int bits : {64, 256}) {
        ++cases;
        if (!within_bound(mp::sum(c.x, bits), exact)) ++violations;
      }
    }
  }
  mpfr_clear(exact);
  MESSAGE(cases, " dot products and sums at BITS; ", decided, " decided the binary64 rounding through the bound");
  CHECK(violations == 0);
  CHECK(disagreements == 0);
  CHECK(decided > cases / 3);
}

TEST_CASE("every operation at BITS: the same as Boost operators at the scope's precision") {
  mp::PrecisionScope scope(128);  // Boost's temporaries are exactly 128 bits here
  std::mt19937_64 rng(128);
  int differing = 0;
  for (int k = 0; k < 200; ++k) {
    const auto c = fpaudit::testing::make_case(fpaudit::testing::Family::Typical, 1 + rng() % 100, false, rng);
    mp::Real acc = c.bias;
    for (std::size_t i = 0; i < c.x.size(); ++i) {
      const mp::Real p = mp::Real(c.x[i]) * mp::Real(c.w[i]);
      acc += p;
    }
    const mp::CertifiedReal r = mp::dot(c.x, c.w, c.bias, scope.bits());
    if (mpfr_cmp(raw(acc), raw(r.value)) != 0) ++differing;
  }
  CHECK(differing == 0);
}

TEST_CASE("elementary functions at BITS are correctly rounded") {
  std::mt19937_64 rng(9);
  using Ref = int (*)(mpfr_ptr, mpfr_srcptr, mpfr_rnd_t);
  int mismatches = 0, cases = 0;
  for (const int bits : {64, 200, 1000}) {
    for (int k = 0; k < 150; ++k) {
      const double xd = std::uniform_real_distribution<double>(-30, 10)(rng) * ((k % 3 == 0) ? 1e-5 : 1.0);
      const mp::Real x = mp::make_real(xd, bits);
      // Direct MPFR functions: identical to MPFR at bits.
      const std::pair<mp::CertifiedReal, Ref> direct[] = {
          {mp::exp(x, bits), mpfr_exp}, {mp::tanh(x, bits), mpfr_tanh}, {mp::erf(x, bits), mpfr_erf}};
      for (const auto& [got, ref] : direct) {
        mpfr_t want;
        mpfr_init2(want, bits);
        ref(want, raw(x), MPFR_RNDN);
        ++cases;
        if (!mpfr_equal_p(want, raw(got.value))) ++mismatches;
        mpfr_clear(want);
      }
      // sigmoid and GELU: the oracle rounds a 3·BITS-bit evaluation to odd, then to BITS.
      for (int which = 0; which < 2; ++which) {
        const mp::CertifiedReal got = which == 0 ? mp::sigmoid(x, bits) : mp::gelu(x, bits);
        mpfr_t hi, t, want;
        mpfr_inits2(3 * bits + 200, hi, t, static_cast<mpfr_ptr>(nullptr));
        mpfr_init2(want, bits);
        if (which == 0) {
          mpfr_neg(t, raw(x), MPFR_RNDN);
          mpfr_exp(t, t, MPFR_RNDN);
          mpfr_add_ui(t, t, 1, MPFR_RNDN);
          mpfr_ui_div(hi, 1, t, MPFR_RNDZ);
        } else {
          mpfr_sqrt_ui(t, 2, MPFR_RNDN);
          mpfr_div(t, raw(x), t, MPFR_RNDN);
          mpfr_neg(t, t, MPFR_RNDN);
          mpfr_erfc(t, t, MPFR_RNDN);
          mpfr_mul(t, t, raw(x), MPFR_RNDN);
          mpfr_div_2ui(hi, t, 1, MPFR_RNDZ);
        }
        // Round to odd (these values are irrational, so never exact), then to nearest at bits.
        if (mpfr_min_prec(hi) < mpfr_get_prec(hi)) {
          if (mpfr_signbit(hi)) mpfr_nextbelow(hi);
          else mpfr_nextabove(hi);
        }
        mpfr_set(want, hi, MPFR_RNDN);
        ++cases;
        if (!mpfr_equal_p(want, raw(got.value))) ++mismatches;
        // The bound: half an ulp at bits.
        mpfr_t half;
        mpfr_init2(half, 64);
        mpfr_set_ui_2exp(half, 1, mpfr_get_exp(want) - bits - 1, MPFR_RNDN);
        CHECK(mpfr_lessequal_p(raw(got.abs_error_bound), half));
        mpfr_clears(hi, t, want, half, static_cast<mpfr_ptr>(nullptr));
      }
    }
  }
  MESSAGE(cases, " function values at BITS compared");
  CHECK(mismatches == 0);
  // Rounded to binary64, the 200-bit values agree with the binary64 reference functions.
  const mp::Real x = mp::make_real(-1.25, 200);
  CHECK(mp::to_double(mp::gelu(x, 200).value) == fpaudit::exact::gelu_rn(-1.25).value);
  CHECK(mp::to_double(mp::sigmoid(x, 200).value) == fpaudit::exact::sigmoid_rn(-1.25).value);
  // Special values and the far tails.
  CHECK(mpfr_zero_p(raw(mp::gelu(mp::make_real(-1e300, 100), 100).value)));
  CHECK(mpfr_cmp_d(raw(mp::sigmoid(mp::make_real(-std::numeric_limits<double>::infinity(), 64), 64).value), 0) == 0);
  CHECK(mpfr_cmp_d(raw(mp::sigmoid(mp::make_real(0.0, 64), 64).value), 0.5) == 0);
  CHECK(mpfr_zero_p(raw(mp::sigmoid(mp::make_real(0.0, 64), 64).abs_error_bound)));
}

TEST_CASE("threading rule: concurrent mp:: calls under one scope give the single-threaded bits") {
  mp::PrecisionScope scope(256);  // created outside the parallel part, alive throughout
  const unsigned digits = mp::Real::default_precision();
  std::mt19937_64 rng(8);
  std::vector<fpaudit::testing::DotCase> cases;
  for (int k = 0; k < 16; ++k) cases.push_back(fpaudit::testing::make_case(fpaudit::testing::Family::Typical, 200, false, rng));
  std::vector<mp::Real> serial;
  for (const auto& c : cases) {
    serial.push_back(mp::dot(c.x, c.w, c.bias, 256).value);
    serial.push_back(mp::gelu(mp::make_real(c.bias, 256), 256).value);
  }
  std::vector<int> differing(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 3; ++rep) {
        for (std::size_t k = 0; k < cases.size(); ++k) {
          const auto& c = cases[k];
          if (mpfr_cmp(raw(mp::dot(c.x, c.w, c.bias, 256).value), raw(serial[2 * k])) != 0) ++differing[t];
          if (mpfr_cmp(raw(mp::gelu(mp::make_real(c.bias, 256), 256).value), raw(serial[2 * k + 1])) != 0) ++differing[t];
          // Boost operators on values of the scope's precision are allowed too.
          const mp::Real q = mp::make_real(c.x[0], 256) * mp::make_real(c.w[0], 256);
          if (mp::precision_bits(q) != scope.boost_bits()) ++differing[t];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const int d : differing) CHECK(d == 0);
  CHECK(mp::Real::default_precision() == digits);  // nobody wrote Boost's default
}
