// The soundness fixes of issue 17, each on a case whose answer is known:
//   - a non-finite chain value under a finite bound is a violation, never skipped;
//   - a bound made too small on purpose (the test hook) is caught: counted, in first_violations;
//   - the observed certificate Γ > 2(δ + R) is evaluated with directed rounding;
//   - a probabilistic bound states the failure probability of every event it relies on: both
//     sums of a LayerNorm row, and every layer upstream of an a-posteriori bound.
#include <cmath>
#include <cstdlib>

#include <doctest/doctest.h>

#include "bounds/sums.h"
#include "graph/loader.h"
#include "graph/model_builder.h"
#include "report/audit_report.h"
#include "shadow/audit.h"
#include "shadow/audit_support.h"
#include "shadow/bound_check.h"

using namespace fpaudit;
using fpaudit::test::ModelBuilder;
using fpaudit::test::audit_model;
using fpaudit::test::chains;
using fpaudit::test::float_array;

namespace {

Tensor tensor(std::vector<double> v) {
  Tensor t;
  t.resize({static_cast<long>(v.size())});
  t.data = std::move(v);
  return t;
}

/// y = x·wᵀ for x = (2048, 1, 1, 1), w = (1, 1, 1, 1): fp16 returns 2048 (each 2048 + 1 is a
/// tie to even), the exact value is 2051 (tests/shadow/audit_test.cpp works it out).
ModelBuilder hand_worked_dot() {
  ModelBuilder mb;
  mb.input("x", test::kFloat, {1, 4}).output("y", test::kFloat, {1, 1});
  mb.initializer(test::float_tensor("w", {1, 4}, {1, 1, 1, 1}));
  test::set_attr(mb.node("Gemm", {"x", "w"}, {"y"}, "dot"), "transB", std::int64_t{1});
  return mb;
}

/// The per-element failure probability of the probabilistic bound of one sum of n terms in
/// `chain` (independent of the terms: sum_constants depends on the schedule, n, u and λ only).
double sum_failure(const char* chain, long n) {
  const auto arithmetic = make_chain_arithmetic(parse_chain(chain));
  return bounds::sum_error(bounds::ArithmeticModel::of(*arithmetic), n, 1.0, 7.0).failure;
}

}  // namespace

TEST_CASE("a non-finite value under a finite bound is a violation; under an infinite bound it is unbounded") {
  BoundStats b;
  // Elements: finite and within its bound; +Inf under a finite bound; NaN under a finite bound;
  // the same infinity as the reference; +Inf under an infinite bound; -Inf against a finite
  // reference with an infinite reference bound.
  const Tensor y = tensor({1.0, INFINITY, NAN, INFINITY, INFINITY, -INFINITY});
  const Tensor r = tensor({1.25, 3.0, 3.0, INFINITY, 3.0, 3.0});
  const Tensor det = tensor({0.5, 1.0, 1.0, 1.0, INFINITY, 1.0});
  const Tensor prob = tensor({0.5, 1.0, 1.0, 1.0, INFINITY, 1.0});
  const Tensor ref_err = tensor({0.0, 0.0, 0.0, 0.0, 0.0, INFINITY});
  check_bounds(b, y, r, det, prob, ref_err, 7, 100);
  CHECK(b.checked == 4);
  CHECK(b.unbounded == 2);
  CHECK(b.violations == 2);
  CHECK(b.prob_exceeded == 2);
  REQUIRE(b.kept == 2);
  CHECK(b.first[0].sample == 7);
  CHECK(b.first[0].element == 101);
  CHECK(std::isinf(b.first[0].observed));
  CHECK(b.first[0].bound == 1.0);
  CHECK(b.first[1].element == 102);
  CHECK(std::isinf(b.ratio.max));
}

TEST_CASE("a binary16 overflow is unbounded, not skipped: the rule's bound is infinite there") {
  // (1, 2, 3) · (1, 40000, 1): 80000 overflows binary16, so Mul's rule (one rounding of a value
  // that may exceed 65504) returns +Inf for that element, and no violation is claimed.
  ModelBuilder mb;
  mb.input("x", test::kFloat, {1, 3}).output("y", test::kFloat, {1, 3});
  mb.initializer(test::float_tensor("s", {1, 3}, {1, 40000, 1}));
  mb.node("Mul", {"x", "s"}, {"y"}, "scale");
  const auto a = audit_model(mb, {1, 3}, float_array({2, 3}, {1, 2, 3, 1, 1, 1}), chains({"fp16", "fp32"}));
  const LayerChainStats& fp16 = a->result.stats.at(0).at(0);
  CHECK(fp16.events.overflow == 1);
  CHECK(fp16.propagated_bound.unbounded == 1);
  CHECK(fp16.propagated_bound.checked == 5);
  CHECK(fp16.propagated_bound.violations == 0);
  CHECK(fp16.local_bound.unbounded == 1);
  CHECK(fp16.local_bound.violations == 0);
}

TEST_CASE("the test hook parses LAYER:FACTOR and refuses anything else") {
  const BoundShrink s = parse_bound_shrink("3:0.25");
  CHECK(s.active());
  CHECK(s.layer == 3);
  CHECK(s.factor == 0.25);
  CHECK(parse_bound_shrink("0:0").factor == 0.0);
  CHECK_FALSE(BoundShrink{}.active());
  for (const char* bad : {"", "3", ":0.5", "3:", "-1:0.5", "3:1", "3:1.5", "3:-0.1", "x:0.5", "3:0.5x", "3.5:0.5"})
    CHECK_THROWS_AS(parse_bound_shrink(bad), std::invalid_argument);
}

TEST_CASE("a bound shrunk on purpose is caught: counted and reported in first_violations") {
  // The fp16 error is 3 (2048 against 2051); the rule's bound is above it. A quarter of the
  // bound is below it: one violation, at sample 0, element 0. fp32 is exact here: 0 ≤ any bound.
  const auto honest = audit_model(hand_worked_dot(), {1, 4}, float_array({1, 4}, {2048, 1, 1, 1}), chains({"fp16", "fp32"}));
  const BoundStats& before = honest->result.stats.at(0).at(0).propagated_bound;
  REQUIRE(before.violations == 0);
  REQUIRE(before.bound.max >= 3.0);
  REQUIRE(before.bound.max * 0.25 < 3.0);

  const auto mutant =
      audit_model(hand_worked_dot(), {1, 4}, float_array({1, 4}, {2048, 1, 1, 1}), chains({"fp16", "fp32"}), nullptr, 1, {0, 0.25});
  const BoundStats& b = mutant->result.stats.at(0).at(0).propagated_bound;
  CHECK(b.violations == 1);
  REQUIRE(b.kept == 1);
  CHECK(b.first[0].sample == 0);
  CHECK(b.first[0].element == 0);
  CHECK(b.first[0].observed == doctest::Approx(3.0));
  CHECK(b.first[0].bound == doctest::Approx(before.bound.max * 0.25));
  CHECK(mutant->result.stats.at(0).at(0).local_bound.violations == 1);
  CHECK(mutant->result.stats.at(0).at(1).propagated_bound.violations == 0);
  // The JSON carries it where a user (and --fail-on violation) looks.
  const nlohmann::json j = audit_to_json(mutant->result, *mutant->plan, {"m.onnx", "x.npy", "", "test"});
  const nlohmann::json& first = j["layers"][0]["chains"]["fp16"]["bounds"]["propagated"]["first_violations"];
  REQUIRE(first.size() == 1);
  CHECK(first[0]["element"] == 0);
  CHECK(first[0]["observed"].get<double>() > first[0]["bound"].get<double>());
}

TEST_CASE("the test hook reaches run_audit through FPAUDIT_TEST_SHRINK_BOUND; a bad value is refused") {
  ::setenv(kBoundShrinkVariable, "0:0.25", 1);
  const auto a = audit_model(hand_worked_dot(), {1, 4}, float_array({1, 4}, {2048, 1, 1, 1}), chains({"fp16"}));
  CHECK(a->result.stats.at(0).at(0).propagated_bound.violations == 1);
  ::setenv(kBoundShrinkVariable, "0:2", 1);
  CHECK_THROWS_AS(audit_model(hand_worked_dot(), {1, 4}, float_array({1, 4}, {2048, 1, 1, 1}), chains({"fp16"})), std::invalid_argument);
  ::unsetenv(kBoundShrinkVariable);
  const auto b = audit_model(hand_worked_dot(), {1, 4}, float_array({1, 4}, {2048, 1, 1, 1}), chains({"fp16"}));
  CHECK(b->result.stats.at(0).at(0).propagated_bound.violations == 0);
}

TEST_CASE("the observed certificates Γ > 2δ and Γ > 2(δ + R) are decided with Γ rounded down and δ + R rounded up") {
  CHECK(observed_certified(1.0, 0.25, 0.0));
  CHECK_FALSE(observed_certified(1.0, 0.5, 0.0));  // Γ = 2δ: a tie is possible
  // Γ > 2δ in binary64, but the reference's own error R closes the gap: not certified.
  CHECK(1.0 > 2 * (0.5 - 0x1p-40));
  CHECK_FALSE(observed_certified(1.0, 0.5 - 0x1p-40, 0x1p-39));
  // Γ = 2δ + one ulp of Γ: the rounding of Γ and δ could account for it, so no certificate.
  CHECK(std::nextafter(1.0, 2.0) > 2 * 0.5);
  CHECK_FALSE(observed_certified(std::nextafter(1.0, 2.0), 0.5, 0.0));
  CHECK(observed_certified(INFINITY, 0.5, 0.0));  // one logit: nothing to flip
  CHECK_FALSE(observed_certified(1.0, INFINITY, 0.0));
  CHECK_FALSE(observed_certified(1.0, 0.0, INFINITY));
  CHECK_FALSE(observed_certified(NAN, 0.0, 0.0));
  // The counts: Γ = 1, δ = 0.25 proves the reference's class; R = 0.5 leaves the exact one open.
  SampleRecord r;
  r.ref_top1 = 0;
  r.margin_ref = 1.0;
  r.ref_error = 0.5;
  ChainVerdict v;
  v.top1 = 0;
  v.delta_ref = 0.25;
  ChainClassification k;
  k.add(r, v);
  CHECK(k.certified_vs_ref == 1);
  CHECK(k.certified_vs_exact == 0);
  r.ref_error = 0x1p-50;
  k.add(r, v);
  CHECK(k.certified_vs_ref == 2);
  CHECK(k.certified_vs_exact == 1);
  CHECK(probability_sum(0, 0) == 0.0);
  CHECK(probability_sum(0.25, 0.5) > 0.75);
  CHECK(probability_sum(0.25, 0.5) < 0.75 * (1 + 0x1p-50));
  CHECK(probability_sum(0.75, 0.5) == 1.0);
}

TEST_CASE("a LayerNorm row's probabilistic bound fails with the sum of both sums' probabilities") {
  // Width 64 in fp16: the mean's sum and the sum of squares have 64 terms each, long enough for
  // the probabilistic bound to beat the deterministic one (λ√64 < 64), so each fails w.p. p.
  const long width = 64;
  ModelBuilder mb(17);
  mb.input("x", test::kFloat, {1, width});
  mb.initializer(test::float_tensor("g", {width}, std::vector<float>(width, 1.0f)));
  mb.initializer(test::float_tensor("b", {width}, std::vector<float>(width, 0.0f)));
  mb.node("LayerNormalization", {"x", "g", "b"}, {"y"});
  mb.output("y");
  std::vector<double> x(width);
  for (long j = 0; j < width; ++j) x[j] = std::sin(0.7 * static_cast<double>(j)) + 0.01 * static_cast<double>(j);
  const auto a = audit_model(mb, {1, width}, float_array({1, width}, x), chains({"fp16"}));
  const double p = sum_failure("fp16", width);
  REQUIRE(p > 0);
  const double reported = a->result.stats.at(0).at(0).local_bound.max_failure_probability;
  CHECK(reported >= 2 * p);
  CHECK(reported <= 2 * p * (1 + 0x1p-50));
  CHECK(a->result.stats.at(0).at(0).local_bound.violations == 0);
}

TEST_CASE("an a-posteriori probabilistic bound carries the failure probability of every layer upstream") {
  // x [1, 64] -> Gemm (64 outputs of 64 terms) -> Gemm (4 outputs of 64 terms), fp16: each output
  // element's sum fails w.p. p. The second layer's bound relies on its own sum and on all 64 of
  // the first layer's; the logits' certificate on all 68.
  const long k = 64;
  ModelBuilder mb;
  mb.input("x", test::kFloat, {1, k}).output("y", test::kFloat, {1, 4});
  std::vector<float> w1(static_cast<std::size_t>(k * k)), w2(static_cast<std::size_t>(4 * k));
  for (std::size_t i = 0; i < w1.size(); ++i) w1[i] = static_cast<float>(std::cos(0.37 * static_cast<double>(i)) / 8);
  for (std::size_t i = 0; i < w2.size(); ++i) w2[i] = static_cast<float>(std::sin(0.53 * static_cast<double>(i)) / 8);
  mb.initializer(test::float_tensor("w1", {k, k}, w1));
  mb.initializer(test::float_tensor("w2", {4, k}, w2));
  test::set_attr(mb.node("Gemm", {"x", "w1"}, {"h"}, "first"), "transB", std::int64_t{1});
  test::set_attr(mb.node("Gemm", {"h", "w2"}, {"y"}, "second"), "transB", std::int64_t{1});
  std::vector<double> x(static_cast<std::size_t>(k));
  for (long j = 0; j < k; ++j) x[j] = std::cos(1.3 * static_cast<double>(j));
  // The a-priori enclosures with the elementwise rule alone: the concentrated form of the second
  // Gemm (theory/apriori-concentrated.md) adds its own events, checked below.
  const auto a = audit_model(mb, {1, k}, float_array({1, k}, x), chains({"fp16"}), nullptr, 1, {}, false);
  const double p = sum_failure("fp16", k);
  REQUIRE(p > 0);
  const auto& stats = a->result.stats;
  auto within = [](double got, double want) { return got >= want && got <= want * (1 + 0x1p-48); };
  CHECK(within(stats.at(0).at(0).propagated_bound.max_failure_probability, p));
  CHECK(within(stats.at(1).at(0).local_bound.max_failure_probability, p));             // its own sum only
  CHECK(within(stats.at(1).at(0).propagated_bound.max_failure_probability, 65 * p));   // 64 upstream + its own
  const ChainVerdict& v = a->result.records.at(0).chains.at(0);
  CHECK(within(v.a_posteriori_failure, 68 * p));
  // The a-priori certificate relies on the chain's propagation (all 68 elements) ...
  CHECK(within(v.a_priori_failure, 68 * p));
  CHECK(within(a->result.classification.at(0).run_a_posteriori_failure, 68 * p));
  // ... and, with the fp32 chain audited too, on fp32's as well (all 68 elements each): the
  // certificate that the chain, fp32 and the exact network agree needs both propagations.
  const auto b = audit_model(mb, {1, k}, float_array({1, k}, x), chains({"fp16", "fp32"}), nullptr, 1, {}, false);
  CHECK(b->result.apriori_fp32);
  CHECK(!a->result.apriori_fp32);
  CHECK(within(b->result.records.at(0).chains.at(0).a_priori_failure, 68 * (p + sum_failure("fp32", k))));
  // With it: one Azuma–Hoeffding event per output of the second Gemm that takes the form (at
  // most 4) and one per output of the first Gemm whose q is Lemma 2′'s (at most 64); the second
  // Gemm's rule runs once, with exact input, on the same sums' events as before.
  const auto c = audit_model(mb, {1, k}, float_array({1, k}, x), chains({"fp16"}));
  const ChainVerdict& w = c->result.records.at(0).chains.at(0);
  const double event = 2 * std::exp(-0.5 * 7.0 * 7.0);
  CHECK(w.a_posteriori_failure == v.a_posteriori_failure);
  CHECK(w.a_priori_failure > v.a_priori_failure);  // the form is taken here
  CHECK(w.a_priori_failure <= (v.a_priori_failure + 68 * event) * (1 + 0x1p-45));
}
