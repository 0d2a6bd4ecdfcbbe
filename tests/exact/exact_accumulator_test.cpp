// ExactAccumulator: hand-worked roundings at every boundary binary64 has (subnormal ties,
// the overflow threshold), IEEE special values and signed zeros, rounding into MPFR numbers
// of many precisions in every mode against mpfr_sum, and order/merge independence.
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <doctest/doctest.h>

#include "adversarial_vectors.h"
#include "binary64_oracle.h"
#include "exact/exact_accumulator.h"
#include "support/mpfr_oracle.h"

using fpaudit::exact::ExactAccumulator;
using fpaudit::testing::same_value;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kMax = std::numeric_limits<double>::max();
constexpr double kTiny = std::numeric_limits<double>::denorm_min();  // 2^-1074

double sum_of(std::initializer_list<double> terms) {
  ExactAccumulator acc;
  for (const double t : terms) acc.add(t);
  return acc.round_nearest();
}

double products(std::initializer_list<std::pair<double, double>> terms) {
  ExactAccumulator acc;
  for (const auto& [a, b] : terms) acc.add_product(a, b);
  return acc.round_nearest();
}

}  // namespace

TEST_CASE("sums that binary64 gets wrong are exact here") {
  CHECK(sum_of({1e100, 1.0, -1e100}) == 1.0);
  CHECK(sum_of({0x1p53, 1.0, 1.0}) == 0x1p53 + 2.0);  // sequential binary64 gives 2^53
  CHECK(sum_of({1.0, 0x1p-60, -1.0}) == 0x1p-60);
  CHECK(products({{0x1p600, 0x1p600}, {-0x1p600, 0x1p600}, {3.0, 1.0}}) == 3.0);  // 2^1200 cancels
  CHECK(products({{0x1p-600, 0x1p-600}, {1.0, 0x1p-1074}}) == 0x1p-1074);        // 2^-1200 below half
  CHECK(sum_of({kMax, kMax, -kMax}) == kMax);  // intermediate overflow, finite result
}

TEST_CASE("round to nearest even at the subnormal and overflow boundaries") {
  // 2^-1075 is half the smallest subnormal: a tie between 0 (even) and 2^-1074.
  CHECK(same_value(products({{0x1p-1000, 0x1p-75}}), 0.0));
  CHECK(same_value(products({{-0x1p-1000, 0x1p-75}}), -0.0));  // tiny negative rounds to -0
  // Just above the tie: up.
  CHECK(products({{0x1p-1000, 0x1p-75}, {0x1p-1074, 0x1p-1074}}) == kTiny);
  // 3·2^-1075: between 2^-1074 (odd) and 2^-1073 (even): to 2^-1073.
  CHECK(products({{0x1p-1000, 0x1.8p-74}}) == 0x1p-1073);
  // Largest subnormal plus half its spacing: ties to even = 2^-1022 (the smallest normal).
  CHECK(products({{0x0.fffffffffffffp-1022, 1.0}, {0x1p-1000, 0x1p-75}}) == 0x1p-1022);
  // Overflow threshold 2^1024 - 2^970 is a tie between DBL_MAX (odd) and 2^1024: to Inf.
  CHECK(sum_of({kMax, 0x1p970}) == kInf);
  CHECK(products({{kMax, 1.0}, {0x1p970, 1.0}, {-0x1p-1000, 0x1p-1000}}) == kMax);
  CHECK(sum_of({-kMax, -0x1p970}) == -kInf);
  CHECK(sum_of({kMax, 0x1p969}) == kMax);
}

TEST_CASE("NaN, infinities and signed zeros follow IEEE 754 for the exact operation") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK(std::isnan(sum_of({1.0, nan})));
  CHECK(std::isnan(sum_of({kInf, -kInf})));
  CHECK(std::isnan(products({{0.0, kInf}})));
  CHECK(sum_of({kInf, -kMax, 1.0}) == kInf);
  CHECK(products({{-kInf, 2.0}, {kMax, kMax}}) == -kInf);
  CHECK(same_value(sum_of({}), 0.0));
  CHECK(same_value(sum_of({-0.0, -0.0}), -0.0));
  CHECK(same_value(sum_of({-0.0, 0.0}), 0.0));
  CHECK(same_value(sum_of({1.5, -1.5}), 0.0));
  CHECK(same_value(products({{-1.0, 0.0}, {0.0, -3.0}}), -0.0));  // both products are -0
  CHECK(same_value(products({{-1.0, 0.0}, {-0.0, -3.0}}), 0.0));
  // Rounding toward -Inf makes an exact cancellation -0 (IEEE 754 §6.3).
  ExactAccumulator acc;
  acc.add(2.0);
  acc.add(-2.0);
  mpfr_t r;
  mpfr_init2(r, 53);
  CHECK(acc.round_to(r, MPFR_RNDD) == 0);
  CHECK((mpfr_zero_p(r) && mpfr_signbit(r)));
  CHECK(acc.round_to(r, MPFR_RNDU) == 0);
  CHECK((mpfr_zero_p(r) && !mpfr_signbit(r)));
  mpfr_clear(r);
  CHECK(acc.sign() == 0);
}

TEST_CASE("certified bounds: zero when exact, half an ulp otherwise, Inf on overflow") {
  ExactAccumulator acc;
  acc.add(1.0);
  acc.add(0x1p-80);
  auto c = acc.round_nearest_certified();
  CHECK(c.value == 1.0);
  CHECK(c.abs_error_bound == 0x1p-53);
  acc.add(-0x1p-80);
  CHECK(acc.round_nearest_certified().abs_error_bound == 0);
  acc.clear();
  acc.add(kMax);
  acc.add(kMax);
  c = acc.round_nearest_certified();
  CHECK(c.value == kInf);
  CHECK(c.abs_error_bound == kInf);
}

TEST_CASE("rounding into MPFR numbers: every precision and mode agrees with mpfr_sum") {
  std::mt19937_64 rng(7);
  const mpfr_rnd_t modes[] = {MPFR_RNDN, MPFR_RNDZ, MPFR_RNDU, MPFR_RNDD, MPFR_RNDA};
  const mpfr_prec_t precisions[] = {2, 11, 24, 53, 64, 113, 300, 4096};
  mpfr_t got, want;
  mpfr_init2(got, 2);
  mpfr_init2(want, 2);
  int mismatches = 0, cases = 0;
  for (int k = 0; k < 600; ++k) {
    const auto family = fpaudit::testing::kAllFamilies[k % std::size(fpaudit::testing::kAllFamilies)];
    const auto c = fpaudit::testing::make_case(family, fpaudit::testing::draw_length(rng, 64), false, rng);
    ExactAccumulator acc;
    acc.add(c.bias);
    for (std::size_t i = 0; i < c.x.size(); ++i) acc.add_product(c.x[i], c.w[i]);
    for (const auto prec : precisions) {
      mpfr_set_prec(got, prec);
      mpfr_set_prec(want, prec);
      for (const auto rnd : modes) {
        ++cases;
        const int t_got = acc.round_to(got, rnd);
        const int t_want = fpaudit::testing::oracle_dot_round(want, rnd, c.x, c.w, c.bias);
        const bool same = (mpfr_nan_p(got) && mpfr_nan_p(want)) ||
                          (mpfr_equal_p(got, want) && mpfr_signbit(got) == mpfr_signbit(want) &&
                           (t_got > 0) == (t_want > 0) && (t_got < 0) == (t_want < 0));
        if (!same && ++mismatches <= 3) {
          MESSAGE(family_name(family), " prec ", prec, " mode ", mpfr_print_rnd_mode(rnd));
        }
      }
    }
  }
  mpfr_clear(got);
  mpfr_clear(want);
  MESSAGE(cases, " roundings into MPFR numbers compared");
  CHECK(mismatches == 0);
}

TEST_CASE("the sum does not depend on order or on how it was split and merged") {
  std::mt19937_64 rng(11);
  int differing = 0;
  for (int k = 0; k < 300; ++k) {
    const auto family = fpaudit::testing::kAllFamilies[k % std::size(fpaudit::testing::kAllFamilies)];
    auto c = fpaudit::testing::make_case(family, fpaudit::testing::draw_length(rng, 512), false, rng);
    ExactAccumulator whole;
    for (std::size_t i = 0; i < c.x.size(); ++i) whole.add_product(c.x[i], c.w[i]);
    const double reference = whole.round_nearest();
    // The oracle's bias -0 is the identity of IEEE addition, as the empty accumulator's +0 is
    // not: compare only when there is a term.
    if (!c.x.empty()) CHECK(same_value(reference, fpaudit::testing::oracle_dot(c.x, c.w, -0.0)));
    // Reversed, and split at random points into parts merged in reverse order.
    ExactAccumulator reversed;
    for (std::size_t i = c.x.size(); i-- > 0;) reversed.add_product(c.x[i], c.w[i]);
    std::vector<ExactAccumulator> parts(1 + rng() % 5);
    for (std::size_t i = 0; i < c.x.size(); ++i) parts[rng() % parts.size()].add_product(c.x[i], c.w[i]);
    ExactAccumulator merged;
    for (std::size_t p = parts.size(); p-- > 0;) merged.merge(parts[p]);
    if (!same_value(reversed.round_nearest(), reference) || !same_value(merged.round_nearest(), reference)) ++differing;
    CHECK(merged.terms() == c.x.size());
  }
  CHECK(differing == 0);
}

TEST_CASE("many terms of the largest magnitude: carries through every limb") {
  ExactAccumulator acc;
  for (int i = 0; i < 100000; ++i) acc.add_product(kMax, kMax);  // ~2^2064.6 in all
  CHECK(acc.sign() == 1);
  CHECK(acc.round_nearest() == kInf);
  for (int i = 0; i < 100000; ++i) acc.add_product(-kMax, kMax);
  acc.add_product(0x1p-1074, 0x1p-1074);  // the smallest product: 2^-2148
  CHECK(acc.sign() == 1);
  CHECK(same_value(acc.round_nearest(), 0.0));
  mpfr_t r;
  mpfr_init2(r, 10);
  CHECK(acc.round_to(r, MPFR_RNDN) == 0);
  CHECK(mpfr_cmp_si_2exp(r, 1, -2148) == 0);
  acc.add_product(-0x1p-1074, 0x1p-1073);  // now exactly -2^-2148
  CHECK(acc.sign() == -1);
  CHECK(same_value(acc.round_nearest(), -0.0));
  mpfr_clear(r);
}
