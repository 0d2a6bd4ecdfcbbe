// The reference elementary functions against MPFR, bit for bit: random arguments over every
// binade that matters, hard cases (overflow and underflow thresholds, tiny arguments, the
// tails where the functions decide by bounds alone), IEEE special values, and the certified
// bounds (0 exactly when the value is exact). The oracle evaluates each function directly in
// MPFR at 200 and 300 bits with its own formula and rounds with mpfr_subnormalize; a case
// counts only when both precisions agree (they always have).
#include <cmath>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <xmmintrin.h>

#include <doctest/doctest.h>

#include "binary64_oracle.h"
#include "exact/elementary.h"
#include "exact/composite_functions.h"
#include "exact/erf_double_word.h"
#include "exact/exp_double_word.h"
#include "exact/erfc_continued_fraction.h"
#include "support/mpfr_oracle.h"

namespace exact = fpaudit::exact;
using fpaudit::testing::same_value;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kTiny = std::numeric_limits<double>::denorm_min();

/// f evaluated by MPFR into r (precision prec) with the last operation rounded toward zero;
/// returns that operation's ternary value (nonzero: the value is not exactly r).
using MpfrFormula = std::function<int(mpfr_ptr r, mpfr_srcptr x, mpfr_prec_t prec)>;

/// The oracle: f(x) at 200 and at 300 bits, each rounded to odd (truncation, last bit set when
/// inexact) and then to nearest binary64 with mpfr_subnormalize; they must agree.
struct Oracle {
  double value;
  bool decided;
  bool exact;  ///< the 300-bit evaluation was exact (ternary 0) and is this binary64 value
};
Oracle oracle(const MpfrFormula& f, double x) {
  mpfr_t a, r;
  mpfr_init2(a, 53);
  mpfr_set_d(a, x, MPFR_RNDN);
  double v[2];
  bool exact = false;
  const mpfr_prec_t precs[2] = {200, 300};
  for (int k = 0; k < 2; ++k) {
    mpfr_init2(r, precs[k]);
    const int inexact = f(r, a, precs[k]);
    exact = inexact == 0 && !mpfr_nan_p(r) && mpfr_cmp_d(r, fpaudit::testing::binary64_nearest(r)) == 0;
    if (inexact && mpfr_regular_p(r) && mpfr_min_prec(r) < precs[k]) {
      if (mpfr_signbit(r)) mpfr_nextbelow(r);
      else mpfr_nextabove(r);
    }
    v[k] = fpaudit::testing::binary64_nearest(r);
    mpfr_clear(r);
  }
  mpfr_clear(a);
  return {v[0], same_value(v[0], v[1]), exact};
}

struct Function {
  std::string name;
  std::function<exact::Certified(double)> ours;
  MpfrFormula reference;
};

std::vector<Function> functions() {
  return {
      {"exp", exact::exp_rn, [](mpfr_ptr r, mpfr_srcptr x, mpfr_prec_t) { return mpfr_exp(r, x, MPFR_RNDZ); }},
      {"log", exact::log_rn, [](mpfr_ptr r, mpfr_srcptr x, mpfr_prec_t) { return mpfr_log(r, x, MPFR_RNDZ); }},
      {"tanh", exact::tanh_rn, [](mpfr_ptr r, mpfr_srcptr x, mpfr_prec_t) { return mpfr_tanh(r, x, MPFR_RNDZ); }},
      {"erf", exact::erf_rn, [](mpfr_ptr r, mpfr_srcptr x, mpfr_prec_t) { return mpfr_erf(r, x, MPFR_RNDZ); }},
      {"sqrt", exact::sqrt_rn, [](mpfr_ptr r, mpfr_srcptr x, mpfr_prec_t) { return mpfr_sqrt(r, x, MPFR_RNDZ); }},
      {"rsqrt", exact::rsqrt_rn,
       [](mpfr_ptr r, mpfr_srcptr x, mpfr_prec_t) { return mpfr_rec_sqrt(r, x, MPFR_RNDZ); }},
      {"sigmoid", exact::sigmoid_rn,
       // 1/(1 + e^-x) for every x (no cancellation anywhere), 60 guard bits.
       [](mpfr_ptr r, mpfr_srcptr x, mpfr_prec_t prec) {
         mpfr_t h;
         mpfr_init2(h, prec + 60);
         mpfr_neg(h, x, MPFR_RNDN);
         mpfr_exp(h, h, MPFR_RNDN);
         mpfr_add_ui(h, h, 1, MPFR_RNDN);
         const int inexact = mpfr_ui_div(r, 1, h, MPFR_RNDZ);
         mpfr_clear(h);
         return inexact | 1;  // σ(x) is irrational for x ≠ 0 (x = 0 is special-cased below)
       }},
      {"gelu", exact::gelu_rn,
       // x > -1: x/2 + (x/2)·erf(x/√2), the exact x/2 plus a term computed with 100 guard bits
       // (the sum's truncation keeps tiny x/2-ties decidable); x ≤ -1: (x/2)·erfc(-x/√2).
       [](mpfr_ptr r, mpfr_srcptr x, mpfr_prec_t prec) {
         mpfr_t s, e, half;
         mpfr_inits2(prec + 100, s, e, half, static_cast<mpfr_ptr>(nullptr));
         mpfr_sqrt_ui(s, 2, MPFR_RNDN);
         mpfr_div(e, x, s, MPFR_RNDN);
         mpfr_div_2ui(half, x, 1, MPFR_RNDN);  // exact
         int inexact;
         if (mpfr_cmp_si(x, -1) > 0) {
           mpfr_erf(e, e, MPFR_RNDN);
           mpfr_mul(e, e, half, MPFR_RNDN);
           inexact = mpfr_add(r, half, e, MPFR_RNDZ);
         } else {
           mpfr_neg(e, e, MPFR_RNDN);
           mpfr_erfc(e, e, MPFR_RNDN);
           inexact = mpfr_mul(r, e, half, MPFR_RNDZ);
         }
         mpfr_clears(s, e, half, static_cast<mpfr_ptr>(nullptr));
         return inexact | 1;  // x·Φ(x) for x ≠ 0 is never a 200-bit number in these tests
       }},
  };
}

/// ±2^e·m with e uniform in [lo, hi] and m uniform in [1, 2).
double log_uniform(std::mt19937_64& rng, int lo, int hi, bool both_signs = true) {
  const double m = std::uniform_real_distribution<double>(1.0, 2.0)(rng);
  const double v = std::ldexp(m, std::uniform_int_distribution<int>(lo, hi)(rng));
  return both_signs && (rng() & 1) ? -v : v;
}

/// Compares ours with the oracle at x; counts mismatches and undecided oracles.
struct Tally {
  int cases = 0, mismatches = 0, undecided = 0, bad_bounds = 0;
};
void check_at(const Function& f, double x, Tally& t) {
  const Oracle o = oracle(f.reference, x);
  ++t.cases;
  if (!o.decided) {
    ++t.undecided;
    return;
  }
  const exact::Certified got = f.ours(x);
  if (!same_value(got.value, o.value)) {
    if (++t.mismatches <= 5) MESSAGE(f.name, "(", x, ") = ", got.value, ", MPFR says ", o.value);
  }
  // The bound: at most half an ulp, and 0 (exact) only where MPFR's value is exact too. (For the
  // composite formulas MPFR's flag covers the last operation only, which can only let a false
  // claim through, never flag a true one.)
  if (std::isfinite(got.value) && got.abs_error_bound > exact::half_ulp_bound(got.value)) ++t.bad_bounds;
  if (std::isfinite(got.value) && got.exact() && !o.exact) ++t.bad_bounds;
}

}  // namespace

TEST_CASE("random arguments: every function agrees with MPFR") {
  std::mt19937_64 rng(1234);
  for (const Function& f : functions()) {
    Tally t;
    const std::string& name = f.name;
    // The expensive ones (MPFR's erf/erfc take microseconds) get fewer cases.
    const int n = name == "gelu" ? 4000 : (name == "erf" ? 6000 : 20000);
    for (int k = 0; k < n; ++k) {
      double x;
      switch (k % 4) {
        case 0: x = log_uniform(rng, -30, 5); break;      // typical activations
        case 1: x = log_uniform(rng, -1074, 1023); break;  // the whole range
        case 2: x = std::uniform_real_distribution<double>(-12, 12)(rng); break;
        default: x = log_uniform(rng, -60, 10); break;
      }
      if (name == "gelu" && (k % 4) == 2) x = std::uniform_real_distribution<double>(-40, 10)(rng);
      if (name == "exp" && (k % 4) == 2) x = std::uniform_real_distribution<double>(-746, 710)(rng);
      check_at(f, x, t);
    }
    MESSAGE(f.name, ": ", t.cases, " random arguments, ", t.mismatches, " mismatches, ", t.undecided,
            " undecided by the oracle");
    CHECK_MESSAGE(t.mismatches == 0, f.name);
    CHECK_MESSAGE(t.undecided == 0, f.name);
    CHECK_MESSAGE(t.bad_bounds == 0, f.name);
  }
}

namespace {

/// The value of the positive binary16 number with these bits (below 0x7c00: finite).
double binary16_magnitude(std::uint32_t bits) {
  const bool normal = bits >= 0x400;
  return std::ldexp(static_cast<double>(bits & 0x3ff) + (normal ? 1024.0 : 0.0), (normal ? static_cast<int>(bits >> 10) : 1) - 25);
}

using FastPath = bool (*)(double, double&);

/// The oracle formula of a function of the table above.
MpfrFormula reference_of(const std::string& name) {
  for (const Function& f : functions())
    if (f.name == name) return f.reference;
  throw std::invalid_argument(name);
}

/// A double-word fast path (lib/exact/*_double_word.cpp, sigmoid.cpp) against the MPFR oracle,
/// on every binary16 value of either sign in its range and on `random` binary64 arguments drawn
/// by draw(rng, k): what it decides must be the oracle's correctly rounded value; it must decide
/// all but a thousandth (else the caller falls back to MPFR: correct, but slow); and it must
/// decline, leaving the value alone, at each of `outside`.
template <class InRange, class Draw>
void check_fast_path(const char* name, FastPath fast, const MpfrFormula& formula, InRange in_range, int random,
                     Draw draw, std::initializer_list<double> outside) {
  long cases = 0, decided = 0, mismatches = 0, undecided_oracle = 0;
  const auto check = [&](double x) {
    if (!in_range(x)) return;
    ++cases;
    double v = 0;
    if (!fast(x, v)) return;
    ++decided;
    const Oracle o = oracle(formula, x);
    if (!o.decided) {
      ++undecided_oracle;
      return;
    }
    if (!same_value(v, o.value) && ++mismatches <= 5) MESSAGE(name, "(", x, ") = ", v, ", MPFR says ", o.value);
  };
  for (std::uint32_t bits = 1; bits < 0x7c00; ++bits) {
    check(binary16_magnitude(bits));
    check(-binary16_magnitude(bits));
  }
  const long binary16_cases = cases;
  std::mt19937_64 rng(20261206);
  for (int k = 0; k < random; ++k) check(draw(rng, k));
  MESSAGE(std::string(name), ": ", binary16_cases, " binary16 arguments, ", cases - binary16_cases, " random binary64 arguments; ",
          decided, " decided, ", mismatches, " mismatches");
  CHECK(binary16_cases > 30000);
  CHECK(mismatches == 0);
  CHECK(undecided_oracle == 0);
  CHECK(decided >= cases - cases / 1000);
  for (double x : outside) {
    double v = 42;
    CHECK_FALSE(fast(x, v));
    CHECK(v == 42);
  }
}

}  // namespace

TEST_CASE("erf's double-word series (2^-30 <= |x| < 3): every binary16 value and random arguments agree with MPFR") {
  // Random arguments log-uniform over the range, and uniform near its top, where the series
  // cancels most (e^9 against erf ≈ 1).
  check_fast_path(
      "erf", fpaudit::exact::detail::erf_double_word,
      reference_of("erf"),
      [](double x) { return std::fabs(x) >= 0x1p-30 && std::fabs(x) < 3; }, 40000,
      [](std::mt19937_64& rng, int k) { return k % 2 ? log_uniform(rng, -30, 1) : std::uniform_real_distribution<double>(-3, 3)(rng); },
      {0.0, -0.0, 0x1p-31, 3.0, -3.0, 7.5, kInf, -kInf, kNaN, kTiny});
}

TEST_CASE("exp's double-word series (0 < |x| <= 700): every binary16 value and random arguments agree with MPFR") {
  check_fast_path(
      "exp", fpaudit::exact::detail::exp_double_word,
      reference_of("exp"),
      [](double x) { return x != 0 && std::fabs(x) <= 700; }, 60000,
      [](std::mt19937_64& rng, int k) { return k % 2 ? log_uniform(rng, -60, 9) : std::uniform_real_distribution<double>(-700, 700)(rng); },
      {0.0, -0.0, 700.5, -700.5, 1e300, kInf, -kInf, kNaN});
}

TEST_CASE("sigmoid by double-words (-500 <= x < 40): every binary16 value and random arguments agree with MPFR") {
  check_fast_path(
      "sigmoid", fpaudit::exact::detail::sigmoid_double_word,
      reference_of("sigmoid"),
      [](double x) { return x >= -500 && x < 40 && x != 0; }, 40000,
      [](std::mt19937_64& rng, int k) { return k % 2 ? log_uniform(rng, -60, 5) : std::uniform_real_distribution<double>(-500, 40)(rng); },
      {0.0, -0.0, 40.0, 41.0, -500.5, -800.0, kInf, -kInf, kNaN});
}

TEST_CASE("tanh by double-words (2^-30 <= |x| <= 19): every binary16 value and random arguments agree with MPFR") {
  // Both branches (2|x| up to and beyond 0.36) and the top of the range, where tanh → 1.
  check_fast_path(
      "tanh", fpaudit::exact::detail::tanh_double_word,
      reference_of("tanh"),
      [](double x) { return std::fabs(x) >= 0x1p-30 && std::fabs(x) <= 19; }, 40000,
      [](std::mt19937_64& rng, int k) { return k % 2 ? log_uniform(rng, -30, 4) : std::uniform_real_distribution<double>(-19, 19)(rng); },
      {0.0, -0.0, 0x1p-31, 19.5, -20.0, kInf, -kInf, kNaN});
}

TEST_CASE("the double-word fast paths ignore the caller's floating-point environment: flush-to-zero, other roundings") {
  // Their proofs assume binary64 rounding to nearest with gradual underflow; each holds the
  // default environment for the call (exact/fp_environment.h) and gives the caller's back.
  const FastPath paths[] = {fpaudit::exact::detail::erf_double_word, fpaudit::exact::detail::exp_double_word,
                            fpaudit::exact::detail::sigmoid_double_word, fpaudit::exact::detail::tanh_double_word};
  std::mt19937_64 rng(20261210);
  std::vector<double> xs;
  for (int k = 0; k < 400; ++k) xs.push_back(k % 2 ? log_uniform(rng, -29, 0) : std::uniform_real_distribution<double>(-2.9, 2.9)(rng));
  std::vector<double> want;
  for (FastPath f : paths)
    for (double x : xs) {
      double v = NAN;
      REQUIRE(f(x, v));
      want.push_back(v);
    }
  const unsigned saved = _mm_getcsr();
  int mismatches = 0;
  for (const unsigned rc : {0x0000u, 0x2000u, 0x4000u, 0x6000u}) {
    _mm_setcsr((saved & ~0x6000u) | 0x8040u | rc);  // FTZ + DAZ, rounding direction rc
    std::size_t i = 0;
    for (FastPath f : paths)
      for (double x : xs) {
        double v = NAN;
        if (!f(x, v) || !same_value(v, want[i])) ++mismatches;
        ++i;
      }
    CHECK(_mm_getcsr() == ((saved & ~0x6000u) | 0x8040u | rc));  // the caller's setting is back
  }
  _mm_setcsr(saved);
  CHECK(mismatches == 0);
}

TEST_CASE("hard arguments: thresholds, tails and tiny values") {
  std::vector<std::pair<std::string, double>> cases;
  auto around = [&](const std::string& fn, double x0, int ulps) {
    double x = x0;
    for (int i = 0; i < ulps; ++i) x = std::nextafter(x, -kInf);
    for (int i = 0; i <= 2 * ulps; ++i, x = std::nextafter(x, kInf)) cases.emplace_back(fn, x);
  };
  // exp: overflow threshold log(DBL_MAX) = 709.782712893384, the subnormal range and the
  // underflow-to-zero threshold log(2^-1075) = -745.1332191019411, tiny arguments.
  around("exp", 709.782712893384, 8);
  around("exp", -708.3964185322641, 8);  // log(2^-1022)
  around("exp", -745.1332191019411, 8);
  around("exp", -744.4400719213812, 8);  // log(2^-1074)
  for (int e = -60; e <= -20; ++e) cases.emplace_back("exp", std::ldexp(1.0, e)), cases.emplace_back("exp", -std::ldexp(1.0, e));
  // log near 1 (cancellation), of subnormals, and of the largest value.
  around("log", 1.0, 16);
  around("log", std::numeric_limits<double>::max(), 4);
  around("log", kTiny * 7, 4);
  // tanh and erf: tiny arguments (value ≈ x, 2x/√π), and where they reach ±1.
  for (int e = -1074; e <= -1; e += 7) {
    cases.emplace_back("tanh", std::ldexp(1.0, e));
    cases.emplace_back("erf", -std::ldexp(1.37, std::max(e, -1073)));
  }
  around("tanh", 19.0, 8);
  around("tanh", 19.061547465398498, 4);  // atanh(1 - 2^-54)
  around("erf", 5.9215871957945083, 4);  // erf reaches 1 - 2^-54 near here
  around("erf", 1e-300, 2);
  // sigmoid: the tails where the library decides from bounds (±40, -746) and their
  // neighbourhood, which goes through the Ziv loop; 37.43 is where 1 - σ = 2^-54.
  around("sigmoid", 40.0, 8);
  around("sigmoid", 37.429947750237, 8);
  around("sigmoid", -746.0, 8);
  around("sigmoid", -745.1332191019411, 8);
  around("sigmoid", -708.0, 4);
  for (int e = -1074; e <= 0; e += 9) cases.emplace_back("sigmoid", std::ldexp(1.0, e));
  // gelu: both tails decided by bounds (9, -40), the subnormal region (x ≈ -37.5), near 0.
  around("gelu", 9.0, 8);
  around("gelu", 8.5, 4);
  around("gelu", -40.0, 8);
  around("gelu", -37.5, 8);
  around("gelu", -38.56, 8);
  for (int e = -1074; e <= -1; e += 13) cases.emplace_back("gelu", std::ldexp(1.0, e)), cases.emplace_back("gelu", -std::ldexp(1.0, e));
  // Where the continued-fraction enclosures take over (erf at |x| = 3, gelu at |x| = 4).
  around("erf", 3.0, 16);
  around("erf", -3.0, 16);
  around("gelu", 4.0, 16);
  around("gelu", -4.0, 16);
  // rsqrt and sqrt of subnormals and of the extremes.
  for (int e = -1074; e <= 1023; e += 11) {
    cases.emplace_back("rsqrt", std::ldexp(1.5, std::min(e, 1022)));
    cases.emplace_back("sqrt", std::ldexp(1.0, e) * 3);
  }

  Tally total;
  for (const Function& f : functions()) {
    for (const auto& [name, x] : cases) {
      if (name == f.name) check_at(f, x, total);
    }
  }
  MESSAGE(total.cases, " hard arguments, ", total.mismatches, " mismatches");
  CHECK(total.mismatches == 0);
  CHECK(total.undecided == 0);
  CHECK(total.bad_bounds == 0);
}

TEST_CASE("special values follow IEEE 754 / C99 and exact values carry a zero bound") {
  auto same = [](exact::Certified c, double v) { return same_value(c.value, v); };
  CHECK(same(exact::exp_rn(0.0), 1.0));
  CHECK(exact::exp_rn(0.0).exact());
  CHECK(same(exact::exp_rn(-kInf), 0.0));
  CHECK(same(exact::exp_rn(kInf), kInf));
  CHECK(same(exact::exp_rn(710.0), kInf));
  CHECK(exact::exp_rn(710.0).abs_error_bound == kInf);  // overflow
  CHECK(same(exact::exp_rn(-1e308), 0.0));
  CHECK(std::isnan(exact::exp_rn(kNaN).value));
  CHECK(same(exact::log_rn(1.0), 0.0));
  CHECK(exact::log_rn(1.0).exact());
  CHECK(same(exact::log_rn(0.0), -kInf));
  CHECK(same(exact::log_rn(-0.0), -kInf));
  CHECK(std::isnan(exact::log_rn(-1.0).value));
  CHECK(same(exact::tanh_rn(-0.0), -0.0));
  CHECK(same(exact::tanh_rn(kInf), 1.0));
  CHECK(same(exact::erf_rn(-kInf), -1.0));
  CHECK(same(exact::sigmoid_rn(0.0), 0.5));
  CHECK(exact::sigmoid_rn(0.0).exact());
  CHECK(same(exact::sigmoid_rn(-kInf), 0.0));
  CHECK(same(exact::gelu_rn(-0.0), -0.0));
  CHECK(same(exact::gelu_rn(-kInf), -0.0));
  CHECK(same(exact::gelu_rn(kInf), kInf));
  CHECK(same(exact::sqrt_rn(4.0), 2.0));
  CHECK(exact::sqrt_rn(4.0).exact());
  CHECK_FALSE(exact::sqrt_rn(2.0).exact());
  CHECK(same(exact::sqrt_rn(-0.0), -0.0));
  CHECK(exact::sqrt_rn(0x1p-1074).exact());  // 2^-537
  CHECK_FALSE(exact::sqrt_rn(0x1p-1073).exact());
  CHECK(same(exact::rsqrt_rn(0.25), 2.0));
  CHECK(exact::rsqrt_rn(0.25).exact());
  CHECK(same(exact::rsqrt_rn(-0.0), -kInf));
  CHECK(std::isnan(exact::rsqrt_rn(-1.0).value));
  CHECK(same(exact::div_rn(1.0, 4.0), 0.25));
  CHECK(exact::div_rn(1.0, 4.0).exact());
  CHECK_FALSE(exact::div_rn(1.0, 3.0).exact());
  CHECK(same(exact::div_rn(1.0, -0.0), -kInf));
  CHECK(exact::div_rn(1.0, 0.0).exact());
  CHECK(same(exact::div_rn(0x1p-1074, 2.0), 0.0));  // a tie below the smallest subnormal: to even
  CHECK(exact::div_rn(0x1p-1074, 2.0).abs_error_bound == kTiny);
  CHECK(exact::div_rn(0x1p-1073, 2.0).exact());     // decided by MPFR: the residual underflows
  CHECK(same(exact::pow_rn(-8.0, 1.0 / 3), kNaN));
  CHECK(same(exact::pow_rn(kNaN, 0.0), 1.0));
  CHECK(same(exact::pow_rn(-0.0, -3.0), -kInf));
  CHECK(same(exact::pow_rn(2.0, 0.5), exact::sqrt_rn(2.0).value));
}

TEST_CASE("pow with a constant exponent: every strategy agrees with MPFR's pow") {
  std::mt19937_64 rng(77);
  const double exponents[] = {0.0, -0.0, 1.0, 2.0, -1.0, 0.5, -0.5, 3.0, -2.0, 1.5, 0.25, 1.0 / 3};
  int mismatches = 0, cases = 0;
  const double specials[] = {0.0, -0.0, kInf, -kInf, kNaN, -2.0, 1.0, -1.0, kTiny, 0x1p-600, 0x1p600};
  for (const double c : exponents) {
    const exact::PowConstant pow_c(c);
    auto check = [&](double x) {
      const double want = exact::pow_rn(x, c).value;
      mpfr_t mx, mc, r;
      mpfr_inits2(300, mx, mc, r, static_cast<mpfr_ptr>(nullptr));
      mpfr_set_d(mx, x, MPFR_RNDN);
      mpfr_set_d(mc, c, MPFR_RNDN);
      mpfr_pow(r, mx, mc, MPFR_RNDN);
      const double mpfr_value = fpaudit::testing::binary64_nearest(r);
      mpfr_clears(mx, mc, r, static_cast<mpfr_ptr>(nullptr));
      ++cases;
      if (!same_value(pow_c(x).value, mpfr_value) || !same_value(want, mpfr_value)) {
        if (++mismatches <= 5) MESSAGE("pow(", x, ", ", c, ") = ", pow_c(x).value, ", MPFR says ", mpfr_value);
      }
    };
    for (const double x : specials) check(x);
    for (int k = 0; k < 400; ++k) check(log_uniform(rng, -1074, 1023));
  }
  MESSAGE(cases, " powers compared");
  CHECK(mismatches == 0);
}

TEST_CASE("the caller's MPFR exponent range and flags survive a call") {
  const double want = oracle([](mpfr_ptr r, mpfr_srcptr x, mpfr_prec_t) { return mpfr_exp(r, x, MPFR_RNDZ); }, -100.0).value;
  const mpfr_exp_t emin = mpfr_get_emin(), emax = mpfr_get_emax();
  mpfr_set_emin(-100);
  mpfr_set_emax(100);
  mpfr_clear_flags();
  // exp(-100) = 2^-144.3 is below this narrow range, yet must be computed exactly as usual.
  CHECK(exact::exp_rn(-100.0).value == want);
  CHECK(mpfr_get_emin() == -100);
  CHECK(mpfr_get_emax() == 100);
  CHECK(mpfr_flags_save() == 0);
  mpfr_set_emin(emin);
  mpfr_set_emax(emax);
}

TEST_CASE("mpfr_get_d rounds correctly into the subnormal range (the last step of every function)") {
  // binary64_from_rz64 relies on it: 64-bit values at, just above and just below every kind of
  // binary64 midpoint near and below 2^-1022, against the mpfr_subnormalize oracle.
  std::mt19937_64 rng(64);
  mpfr_t v;
  mpfr_init2(v, 64);
  int mismatches = 0;
  for (int k = 0; k < 20000; ++k) {
    // A random binary64 value around the subnormal range and half its spacing: a midpoint.
    const double y = std::ldexp(std::uniform_real_distribution<double>(0.0, 1.0)(rng), -1022 + static_cast<int>(rng() % 4));
    const double next = std::nextafter(y, kInf);
    mpfr_set_d(v, y, MPFR_RNDN);
    mpfr_t mid;
    mpfr_init2(mid, 64);
    mpfr_set_d(mid, next, MPFR_RNDN);
    mpfr_add(mid, mid, v, MPFR_RNDN);
    mpfr_div_2ui(mid, mid, 1, MPFR_RNDN);  // exact at 64 bits
    for (int step = -2; step <= 2; ++step) {
      mpfr_set(v, mid, MPFR_RNDN);
      for (int i = 0; i < std::abs(step); ++i) step < 0 ? mpfr_nextbelow(v) : mpfr_nextabove(v);
      if (!same_value(mpfr_get_d(v, MPFR_RNDN), fpaudit::testing::binary64_nearest(v))) ++mismatches;
    }
    mpfr_clear(mid);
  }
  mpfr_clear(v);
  CHECK(mismatches == 0);
}

TEST_CASE("continued-fraction enclosures contain MPFR's erfc and normal tail, and are narrow") {
  std::mt19937_64 rng(14);
  mpfr_t lo, hi, ref, width;
  mpfr_inits2(120, lo, hi, static_cast<mpfr_ptr>(nullptr));
  mpfr_inits2(300, ref, width, static_cast<mpfr_ptr>(nullptr));
  int outside = 0, wide = 0, refused = 0;
  for (int k = 0; k < 600; ++k) {
    const double t = std::uniform_real_distribution<double>(1.5, 40)(rng);
    for (int which = 0; which < 2; ++which) {
      const bool ok = which == 0 ? fpaudit::exact::detail::erfc_enclosure(t, lo, hi)
                                 : fpaudit::exact::detail::normal_tail_enclosure(t, lo, hi);
      if (!ok) {
        ++refused;
        continue;
      }
      mpfr_set_d(ref, t, MPFR_RNDN);
      if (which == 0) {
        mpfr_erfc(ref, ref, MPFR_RNDN);
      } else {  // 1 - Φ(t) = erfc(t/√2)/2, at 300 bits
        mpfr_t s2;
        mpfr_init2(s2, 300);
        mpfr_sqrt_ui(s2, 2, MPFR_RNDN);
        mpfr_div(ref, ref, s2, MPFR_RNDN);
        mpfr_erfc(ref, ref, MPFR_RNDN);
        mpfr_div_2ui(ref, ref, 1, MPFR_RNDN);
        mpfr_clear(s2);
      }
      if (mpfr_less_p(ref, lo) || mpfr_greater_p(ref, hi)) ++outside;
      mpfr_sub(width, hi, lo, MPFR_RNDU);
      mpfr_div(width, width, ref, MPFR_RNDU);
      if (mpfr_cmp_ui_2exp(width, 1, -84) > 0) ++wide;
    }
  }
  mpfr_clears(lo, hi, ref, width, static_cast<mpfr_ptr>(nullptr));
  CHECK(outside == 0);
  CHECK(wide == 0);
  CHECK(refused == 0);
}
