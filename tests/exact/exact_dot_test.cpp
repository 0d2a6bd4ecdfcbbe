// The fast exact dot product and sum against MPFR, bit for bit, on adversarial families
// (adversarial_vectors.h): the public functions, every kernel set the CPU has (each with the
// certificate alone, so a wrong certificate cannot hide behind the fallback), the binary32
// paths, strided access, order independence, and long vectors.
#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <xmmintrin.h>

#include "adversarial_vectors.h"
#include "binary64_oracle.h"
#include "exact/compensated_sum.h"
#include "exact/dot.h"
#include "exact/dot_kernels.h"
#include "support/mpfr_oracle.h"

namespace exact = fpaudit::exact;
using fpaudit::testing::DotCase;
using fpaudit::testing::Family;
using fpaudit::testing::same_value;

namespace {

// The unit build runs these counts; the exhaustive build (exact_dot_exhaustive_test) multiplies
// them, and uses a different seed so that it meets other vectors.
#ifndef FPAUDIT_EXACT_SCALE
#define FPAUDIT_EXACT_SCALE 1
#endif
constexpr int kScale = FPAUDIT_EXACT_SCALE;
constexpr std::uint64_t kSeedOffset = kScale == 1 ? 0 : 0x5eed;

std::vector<const exact::detail::DotKernels*> kernel_sets() {
  std::vector<const exact::detail::DotKernels*> sets{&exact::detail::scalar_kernels()};
  if (const auto* k = exact::detail::avx2_kernels()) sets.push_back(k);
  if (const auto* k = exact::detail::avx512_kernels()) sets.push_back(k);
  return sets;
}

std::vector<float> as_floats(const std::vector<double>& v) { return {v.begin(), v.end()}; }

/// Per family: cases, how many the certificate and its second chance decided, mismatches.
struct Tally {
  int cases = 0, certified = 0, second_chance = 0, mismatches = 0;
};

void report(const std::map<std::string, Tally>& tallies, const std::string& what) {
  int cases = 0;
  for (const auto& [name, t] : tallies) {
    MESSAGE(what, " ", name, ": ", t.cases, " cases, ", t.certified, " decided by the certificate, ",
            t.second_chance, " by its second chance, ", t.mismatches, " mismatches");
    cases += t.cases;
  }
  MESSAGE(what, ": ", cases, " cases in all");
}

// The grids the second chance needs, computed here from the definition (the exact quantum of
// each product), independently of the library's cheaper bound.
int quantum_exponent64(double v) { return std::max(std::ilogb(v), -1022) - 52; }
int quantum_exponent32(double v) { return std::max(std::ilogb(v), -126) - 23; }
int product_grid(const DotCase& c, int (*quantum)(double)) {
  int g = c.bias != 0 ? quantum_exponent64(c.bias) : 1 << 20;
  for (std::size_t i = 0; i < c.x.size(); ++i) {
    if (c.x[i] != 0 && c.w[i] != 0) g = std::min(g, quantum(c.x[i]) + quantum(c.w[i]));
  }
  return g;
}

/// What the certificate and then the second chance decide for a finished fast pass: 0 if
/// neither decided, 1 or 2 if the first or the second did; mismatch when either was wrong.
int judge(const exact::CompensatedSum& sum, bool split_exact, int grid, double expect, bool& mismatch) {
  if (!split_exact) return 0;
  if (const auto r = exact::certify_nearest(sum)) {
    mismatch = mismatch || !same_value(r->value, expect);
    return 1;
  }
  if (const auto r = exact::certify_exact_errors(sum, grid)) {
    mismatch = mismatch || !same_value(r->value, expect);
    return 2;
  }
  return 0;
}

/// Runs one kernel set with the certificates only: either they decline, or they are right.
bool kernel_certified_correctly(const exact::detail::DotKernels& k, const DotCase& c, double expect, int& decided) {
  exact::CompensatedSum sum;
  sum.add(c.bias);
  const bool split_exact = k.dot_f64(c.x.data(), c.w.data(), c.x.size(), sum);
  bool mismatch = false;
  decided = judge(sum, split_exact, product_grid(c, quantum_exponent64), expect, mismatch);
  return !mismatch;
}

}  // namespace

TEST_CASE("binary64 dot products agree with MPFR bit for bit: every family, every kernel set") {
  std::mt19937_64 rng(20261125 + kSeedOffset);
  const auto sets = kernel_sets();
  std::map<std::string, Tally> tallies;
  int kernel_mismatches = 0;
  exact::reset_dot_path_counts();
  for (const Family f : fpaudit::testing::kAllFamilies) {
    Tally& t = tallies[family_name(f)];
    for (int k = 0; k < 1200 * kScale; ++k) {
      const DotCase c = make_case(f, fpaudit::testing::draw_length(rng, 1024), false, rng);
      const double expect = fpaudit::testing::oracle_dot(c.x, c.w, c.bias);
      const exact::Certified got = exact::dot_certified(c.x, c.w, c.bias);
      ++t.cases;
      if (!same_value(got.value, expect)) {
        if (++t.mismatches <= 3) MESSAGE(family_name(f), " n=", c.x.size(), " got ", got.value, " want ", expect);
      }
      // The bound is honest: zero only if exact, else at most half an ulp.
      if (std::isfinite(expect)) {
        CHECK(got.abs_error_bound <= exact::half_ulp_bound(expect));
      }
      for (const auto* set : sets) {
        int decided = 0;
        if (!kernel_certified_correctly(*set, c, expect, decided)) {
          if (++kernel_mismatches <= 3) MESSAGE(set->isa, " certified a wrong value on ", family_name(f));
        }
        if (set == &exact::detail::active_kernels()) {
          t.certified += decided == 1;
          t.second_chance += decided == 2;
        }
      }
    }
  }
  report(tallies, "binary64");
  const auto counts = exact::dot_path_counts();
  MESSAGE("public dot: ", counts.certified, " certified, ", counts.second_chance, " by the second chance, ",
          counts.fallback, " by the exact accumulator (", exact::detail::active_kernels().isa, " kernels)");
  for (const auto& [name, t] : tallies) CHECK_MESSAGE(t.mismatches == 0, name);
  CHECK(kernel_mismatches == 0);
  // Both paths were exercised.
  CHECK(counts.certified > 1000 * kScale);
  CHECK(counts.fallback > 1000 * kScale);
}

TEST_CASE("binary32 data: float x float and double x float paths agree with MPFR") {
  std::mt19937_64 rng(32 + kSeedOffset);
  std::map<std::string, Tally> tallies;
  const auto sets = kernel_sets();
  int kernel_mismatches = 0;
  for (const Family f : fpaudit::testing::kAllFamilies) {
    if (!fpaudit::testing::has_f32_variant(f)) continue;
    Tally& t = tallies[family_name(f)];
    for (int k = 0; k < 1000 * kScale; ++k) {
      const DotCase c = make_case(f, fpaudit::testing::draw_length(rng, 1024), true, rng);
      const auto xf = as_floats(c.x), wf = as_floats(c.w);
      REQUIRE(std::equal(c.x.begin(), c.x.end(), xf.begin()));  // the values are binary32 values
      const double expect = fpaudit::testing::oracle_dot(c.x, c.w, c.bias);
      ++t.cases;
      const double got32 = exact::dot(std::span<const float>(xf), std::span<const float>(wf), c.bias);
      const double got64 = exact::dot(std::span<const double>(c.x), std::span<const float>(wf), c.bias);
      if (!same_value(got32, expect) || !same_value(got64, expect)) ++t.mismatches;
      const int grid32 = product_grid(c, quantum_exponent32), grid64 = product_grid(c, quantum_exponent64);
      for (const auto* set : sets) {
        bool mismatch = false;
        exact::CompensatedSum s32;
        s32.add(c.bias);
        set->dot_f32(xf.data(), wf.data(), xf.size(), s32);
        const int decided = judge(s32, true, grid32, expect, mismatch);
        if (set == &exact::detail::active_kernels()) {
          t.certified += decided == 1;
          t.second_chance += decided == 2;
        }
        exact::CompensatedSum s64;
        s64.add(c.bias);
        const bool ok = set->dot_f64_f32(c.x.data(), wf.data(), wf.size(), s64);
        judge(s64, ok, grid64, expect, mismatch);
        kernel_mismatches += mismatch;
      }
    }
  }
  report(tallies, "binary32");
  for (const auto& [name, t] : tallies) CHECK_MESSAGE(t.mismatches == 0, name);
  CHECK(kernel_mismatches == 0);
}

TEST_CASE("sums agree with MPFR; strided access equals contiguous") {
  std::mt19937_64 rng(5 + kSeedOffset);
  int mismatches = 0, strided_mismatches = 0, cases = 0;
  const auto sets = kernel_sets();
  for (int k = 0; k < 3000 * kScale; ++k) {
    const Family f = fpaudit::testing::kAllFamilies[k % std::size(fpaudit::testing::kAllFamilies)];
    const DotCase c = make_case(f, fpaudit::testing::draw_length(rng, 700), false, rng);
    // Sum the products' factors and the biases: the same adversarial structure, as values.
    std::vector<double> terms = c.x;
    terms.insert(terms.end(), c.w.begin(), c.w.end());
    if (k % 2) std::shuffle(terms.begin(), terms.end(), rng);
    const double expect = fpaudit::testing::oracle_sum(terms);
    ++cases;
    if (!same_value(exact::sum(terms), expect)) {
      ++mismatches;
      MESSAGE("sum ", family_name(f), " n=", terms.size(), " got ", exact::sum(terms), " want ", expect);
    }
    for (const auto* set : terms.empty() ? decltype(sets){} : sets) {  // the raw empty sum is -0
      exact::CompensatedSum s;
      set->sum_f64(terms.data(), terms.size(), s);
      int grid = 1 << 20;
      for (const double v : terms) {
        if (v != 0) grid = std::min(grid, quantum_exponent64(v));
      }
      bool mismatch = false;
      judge(s, true, grid, expect, mismatch);
      if (mismatch) {
        ++mismatches;
        MESSAGE(set->isa, " ", family_name(f), " n=", terms.size(), " want ", expect);
      }
    }
    // Interleave x and w in one array: strides 2, and walking backwards with stride -2.
    std::vector<double> xw(2 * c.x.size());
    for (std::size_t i = 0; i < c.x.size(); ++i) {
      xw[2 * i] = c.x[i];
      xw[2 * i + 1] = c.w[i];
    }
    const double want = exact::dot(c.x, c.w, c.bias);
    const std::size_t n = c.x.size();
    if (!same_value(exact::dot_strided(xw.data(), 2, xw.data() + 1, 2, n, c.bias), want)) ++strided_mismatches;
    if (!same_value(exact::dot_strided(xw.data() + 2 * (n - 1), -2, xw.data() + 2 * n - 1, -2, n, c.bias), want))
      ++strided_mismatches;
  }
  MESSAGE(cases, " sums compared");
  CHECK(mismatches == 0);
  CHECK(strided_mismatches == 0);
  CHECK(same_value(exact::sum({}), 0.0));
  const double negative_zeros[] = {-0.0, -0.0};
  CHECK(same_value(exact::sum(negative_zeros), -0.0));
  // A stride of 0 repeats one element: 1000 · (0.1 · 3) exactly, rounded once.
  const double a = 0.1, b = 3.0;
  CHECK(same_value(exact::dot_strided(&a, 0, &b, 0, 1000, 0.0),
                   fpaudit::testing::oracle_dot(std::vector<double>(1000, a), std::vector<double>(1000, b), 0.0)));
}

TEST_CASE("order independence: every permutation gives the same bits") {
  std::mt19937_64 rng(99 + kSeedOffset);
  int differing = 0;
  for (int k = 0; k < 400 * kScale; ++k) {
    const Family f = fpaudit::testing::kAllFamilies[k % std::size(fpaudit::testing::kAllFamilies)];
    DotCase c = make_case(f, fpaudit::testing::draw_length(rng, 300), false, rng);
    const double first = exact::dot(c.x, c.w, c.bias);
    for (int p = 0; p < 4; ++p) {
      std::vector<std::size_t> perm(c.x.size());
      for (std::size_t i = 0; i < perm.size(); ++i) perm[i] = i;
      std::shuffle(perm.begin(), perm.end(), rng);
      std::vector<double> x, w;
      for (const auto i : perm) {
        x.push_back(c.x[i]);
        w.push_back(c.w[i]);
      }
      if (!same_value(exact::dot(x, w, c.bias), first)) ++differing;
    }
  }
  CHECK(differing == 0);
}

TEST_CASE("long vectors up to 65536 terms") {
  std::mt19937_64 rng(65536 + kSeedOffset);
  const Family families[] = {Family::Typical, Family::IllConditioned, Family::ExactZero, Family::RandomBits64,
                             Family::Tie, Family::Sparse};
  int mismatches = 0;
  for (const Family f : families) {
    for (const std::size_t n : {std::size_t{4097}, std::size_t{65536}}) {
      const DotCase c = make_case(f, n, f != Family::RandomBits64, rng);
      const double expect = fpaudit::testing::oracle_dot(c.x, c.w, c.bias);
      if (!same_value(exact::dot(c.x, c.w, c.bias), expect)) ++mismatches;
      const auto xf = as_floats(c.x), wf = as_floats(c.w);
      if (f != Family::RandomBits64 &&
          !same_value(exact::dot(std::span<const float>(xf), std::span<const float>(wf), c.bias), expect))
        ++mismatches;
    }
  }
  CHECK(mismatches == 0);
}

TEST_CASE("the certificate: decides easy sums, declines exact midpoints, refuses non-finite states") {
  exact::CompensatedSum easy;
  easy.add(1.0);
  easy.add(0x1p-30);
  easy.add(0x1p-80);  // TwoSum error term 2^-80: far from a rounding boundary
  const auto r = exact::certify_nearest(easy);
  REQUIRE(r.has_value());
  CHECK(r->value == 1.0 + 0x1p-30);
  CHECK(r->abs_error_bound == 0x1p-53);

  exact::CompensatedSum tie;  // 1 + 2^-53 exactly: the certificate cannot prove a tie
  tie.add(1.0);
  tie.add(0x1p-53);
  CHECK_FALSE(exact::certify_nearest(tie).has_value());

  exact::CompensatedSum exact_sum;  // no error term at all: s is the exact sum
  exact_sum.add(0.5);
  exact_sum.add(0.25);
  const auto e = exact::certify_nearest(exact_sum);
  REQUIRE(e.has_value());
  CHECK(e->value == 0.75);
  CHECK(e->exact());

  exact::CompensatedSum overflow;
  overflow.add(std::numeric_limits<double>::max());
  overflow.add(std::numeric_limits<double>::max());
  CHECK_FALSE(exact::certify_nearest(overflow).has_value());

  CHECK_THROWS_AS(exact::dot(std::vector<double>(3), std::vector<double>(4)), std::invalid_argument);
}

TEST_CASE("the caller's floating-point environment does not matter: flush-to-zero, other roundings") {
  std::mt19937_64 rng(31 + kSeedOffset);
  std::vector<DotCase> cases;
  std::vector<double> want;
  for (int k = 0; k < 600 * kScale; ++k) {
    const Family f = fpaudit::testing::kAllFamilies[k % std::size(fpaudit::testing::kAllFamilies)];
    cases.push_back(make_case(f, fpaudit::testing::draw_length(rng, 200), false, rng));
    want.push_back(fpaudit::testing::oracle_dot(cases.back().x, cases.back().w, cases.back().bias));
  }
  const unsigned saved = _mm_getcsr();
  int mismatches = 0;
  // FTZ + DAZ with each rounding direction (MXCSR bits 13-14).
  for (const unsigned rc : {0x0000u, 0x2000u, 0x4000u, 0x6000u}) {
    _mm_setcsr((saved & ~0x6000u) | 0x8040u | rc);
    for (std::size_t k = 0; k < cases.size(); ++k) {
      if (!same_value(exact::dot(cases[k].x, cases[k].w, cases[k].bias), want[k])) ++mismatches;
    }
    CHECK(_mm_getcsr() == ((saved & ~0x6000u) | 0x8040u | rc));  // the caller's setting is back
  }
  _mm_setcsr(saved);
  CHECK(mismatches == 0);
}
