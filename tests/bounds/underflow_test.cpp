// The underflow allowance of theory/bounds-arithmetic.md §1(a) (Theorem U), against exact values
// computed with MPFR. Operands near 2^-540 make every product near 2^-1080: below half the
// smallest subnormal 2^-1074 (rounded to 0) or among the subnormals (rounded by up to 2^-1075,
// however small the relative error budget). A bound computed from such binary64 sums and only
// multiplied by a relative safety factor is 0 or short by up to K·2^-1075. Before the allowance
// was added, 437 of these checks failed: norm2_up fell short of the norm (to 2^-1074 where every square rounded to 0),
// the reference's dot-product bound missed up to K·2^-1080 of propagated error, dot_rounding
// returned 0. row_geometry's σ bounds held already (its variance is divided by n and then
// rounded up, which covers the n underflows): a guard.
// The allowance being normal (safe_sum, inflate, dot_rounding), the zero-keeping
// up_sum/down_sum and the midpoint-radius form mid_rad are checked the same way.
#include <cmath>
#include <vector>

#include <doctest/doctest.h>
#include <mpfr.h>

#include "support/test_values.h"

#include "bounds/linear.h"
#include "bounds/normalization_row.h"
#include "shadow/margin/rounding.h"

using namespace fpaudit;

namespace {

/// An MPFR number wide enough that every sum of products of the values below is exact
/// (products down to 2^-1200, sums up to 2^10: about 1300 bits).
struct Exact {
  mpfr_t v;
  Exact() {
    mpfr_init2(v, 2048);
    mpfr_set_zero(v, 1);
  }
  ~Exact() { mpfr_clear(v); }
  Exact(const Exact&) = delete;
  Exact& operator=(const Exact&) = delete;
  void add_product(double a, double b) {
    Exact p;
    mpfr_set_d(p.v, a, MPFR_RNDN);
    mpfr_mul_d(p.v, p.v, b, MPFR_RNDN);  // exact at 2048 bits
    mpfr_add(v, v, p.v, MPFR_RNDN);
  }
  /// true when |this - d| ≤ bound, decided exactly.
  bool within(double d, double bound) const {
    Exact diff;
    mpfr_sub_d(diff.v, v, d, MPFR_RNDN);
    mpfr_abs(diff.v, diff.v, MPFR_RNDN);
    return mpfr_cmp_d(diff.v, bound) <= 0;
  }
};

/// A value near 2^-540: 10-bit mantissa, exponent in [low, low + binades), either sign or
/// positive. With the defaults products of two lie between 2^-1096 and 2^-1064: most underflow
/// to 0, the rest are subnormal and rounded.
double tiny(std::uint64_t& s, bool sign = true, int low = -548, int binades = 16) {
  const std::uint64_t r = test::next_bits(s);
  const double m = std::ldexp(test::mantissa(r), static_cast<int>((r >> 10) % static_cast<std::uint64_t>(binades)) + low);
  return sign && (r >> 20) % 2 ? -m : m;
}
/// Positive, below 2^-538: products of two are below 2^-1076 and round to 0 in binary64.
double vanishing(std::uint64_t& s) { return tiny(s, false, -546, 8); }

}  // namespace

TEST_CASE("norm2_up bounds the 2-norm of vectors whose squares underflow (the LayerNorm drift's ‖E‖₂)") {
  std::uint64_t s = 17;
  for (long n : {1L, 2L, 3L, 8L, 64L, 1000L})
    for (int trial = 0; trial < 50; ++trial) {
      std::vector<double> w(static_cast<std::size_t>(n));
      Exact sum;  // Σ w²
      for (double& v : w) {
        v = tiny(s, false);
        sum.add_product(v, v);
      }
      const double up = bounds::norm2_up(w);
      // ‖w‖₂ ≤ up ⇔ Σ w² ≤ up² (exactly, at 2048 bits).
      Exact sq;
      sq.add_product(up, up);
      mpfr_sub(sq.v, sq.v, sum.v, MPFR_RNDN);
      CHECK_MESSAGE(mpfr_sgn(sq.v) >= 0, "n = ", n, ", trial ", trial, ": norm2_up = ", up);
    }
}

TEST_CASE("row_geometry's standard-deviation bounds enclose a row of subnormal-sized values") {
  // sd_hi from Σ(mid - c)², whose squares underflow: the LayerNorm rules' σ over the box.
  std::uint64_t s = 29;
  for (long n : {2L, 4L, 16L, 256L})
    for (int trial = 0; trial < 40; ++trial) {
      Tensor x(Shape{n});
      for (double& v : x.data) v = tiny(s);
      const bounds::Enclosure e{&x, &x, &x, &x};
      const bounds::RowGeometry g = bounds::row_geometry(e, 0, n);
      // n²·v = n·Σ x² - (Σ x)², exactly; σ ∈ [sd_lo, sd_hi] ⇔ n²·sd_lo² ≤ n²·v ≤ n²·sd_hi².
      Exact sum, squares, n2v;
      for (double v : x.data) {
        sum.add_product(v, 1.0);
        squares.add_product(v, v);
      }
      mpfr_mul_si(n2v.v, squares.v, n, MPFR_RNDN);
      Exact sum2;
      mpfr_sqr(sum2.v, sum.v, MPFR_RNDN);
      mpfr_sub(n2v.v, n2v.v, sum2.v, MPFR_RNDN);
      const double nn = static_cast<double>(n);
      Exact hi, lo;
      hi.add_product(g.sd_hi * nn, g.sd_hi * nn);  // n·sd_hi is exact (n a power of 2)
      lo.add_product(g.sd_lo * nn, g.sd_lo * nn);
      CHECK_MESSAGE(mpfr_cmp(n2v.v, hi.v) <= 0, "n = ", n, ", trial ", trial, ": sd_hi = ", g.sd_hi);
      CHECK_MESSAGE(mpfr_cmp(lo.v, n2v.v) <= 0, "n = ", n, ", trial ", trial, ": sd_lo = ", g.sd_lo);
    }
}

TEST_CASE("the dot-product rule covers propagated errors whose products underflow (exact reference)") {
  // y = Σ_k x_k·w_k with the chain's x_k = x̄_k + e_k, |e_k| ≤ err_k, the weights exact; the
  // reference evaluates RN64 of the exact sum. Every x·w, err·w is near 2^-1080.
  const bounds::ArithmeticModel model = bounds::ArithmeticModel::exact_reference();
  std::uint64_t s = 41;
  for (long K : {1L, 2L, 7L, 64L, 1000L, 4096L})
    for (int trial = 0; trial < 8; ++trial) {
      Tensor xc(Shape{1, K}), xerr(Shape{1, K}), w(Shape{K, 1}), werr(Shape{K, 1});
      Exact chain_sum, exact_sum;  // Σ x_c·w, Σ x̄·w
      std::vector<double> xbar(static_cast<std::size_t>(K));
      for (long k = 0; k < K; ++k) {
        // Every e·w rounds to 0: the binary64 sum of the propagated error is 0, while the exact
        // one grows like K·2^-1082.
        const double xb = tiny(s), e = vanishing(s);
        // x_c = x̄ + e is exact (multiples of 2^-558 below 2^-531), and so is err = |x_c - x̄|.
        xc.data[k] = xb + e;
        xbar[k] = xb;
        xerr.data[k] = std::fabs(xc.data[k] - xb);
        w.data[k] = vanishing(s);
        chain_sum.add_product(xc.data[k], w.data[k]);
        exact_sum.add_product(xb, w.data[k]);
      }
      const double chain_y = mpfr_get_d(chain_sum.v, MPFR_RNDN);  // what the reference computes
      bounds::Enclosure a{&xc, &xc, &xerr, &xerr}, b{&w, &w, &werr, &werr};
      bounds::MatmulBound g;
      g.M = 1, g.K = K, g.N = 1;
      g.A = {&a, 0, K, 1};
      g.B = {&b, 0, 1, 1};
      g.ldo = 1;
      Tensor det(Shape{1, 1}), prob(Shape{1, 1});
      bounds::matmul_bound(model, 5.0, g, det, prob);
      CHECK_MESSAGE(exact_sum.within(chain_y, det.data[0]), "K = ", K, ", trial ", trial, ": bound ", det.data[0]);
      CHECK_MESSAGE(exact_sum.within(chain_y, prob.data[0]), "K = ", K, ", trial ", trial, ": bound ", prob.data[0]);
    }
}

TEST_CASE("dot_rounding bounds the binary64 error of a signed sum of underflowing products (margin bounds)") {
  std::uint64_t s = 53;
  for (long n : {1L, 2L, 5L, 32L, 500L, 4096L})
    for (int trial = 0; trial < 30; ++trial) {
      double sum = 0, abs_sum = 0;
      Exact exact;
      for (long i = 0; i < n; ++i) {
        const double a = tiny(s), b = tiny(s);
        sum += a * b;
        abs_sum += std::fabs(a * b);
        exact.add_product(a, b);
      }
      CHECK_MESSAGE(exact.within(sum, margin::dot_rounding(n, abs_sum)), "n = ", n, ", trial ", trial);
    }
}

TEST_CASE("safe_sum and safe_sum_down bracket sums of underflowing products") {
  std::uint64_t s = 67;
  for (long n : {1L, 3L, 100L, 3000L})
    for (int trial = 0; trial < 30; ++trial) {
      double sum = 0;
      Exact exact;
      for (long i = 0; i < n; ++i) {
        const double a = vanishing(s), b = vanishing(s);
        sum += a * b;
        exact.add_product(a, b);
      }
      const double hi = bounds::safe_sum(sum, n, n), lo = bounds::safe_sum_down(sum, n, n);
      CHECK(mpfr_cmp_d(exact.v, hi) <= 0);
      CHECK(mpfr_cmp_d(exact.v, lo) >= 0);
      // Every product rounded to 0: without the allowance the upper bound would be 0.
      CHECK(sum == 0);
      CHECK(bounds::safe_sum(sum, n, 0) == 0);
      // The allowance is one normal number: products of the bound by 2^-53 (up's relative term)
      // and by a weight of 2^-69 are still normal, so they cost no microcode assist.
      CHECK(hi * 0x1p-53 * 0x1p-69 >= 0x1p-1022);
    }
  CHECK(margin::inflate(0) * 0x1p-53 * 0x1p-69 >= 0x1p-1022);
  // One allowance covers every product's underflow term (2^-1074 each, with room) for up to 2^60
  // products, and dot_rounding's covers its n + 2 (theory/bounds-arithmetic.md §1(a)).
  for (long k : {1L, 1000L, 1L << 40, 1L << 60}) CHECK(bounds::underflow_allowance(k) >= static_cast<double>(k) * 0x1p-1074);
  for (long n : {1L, 784L, 1L << 40}) CHECK(margin::dot_rounding(n, 0) >= static_cast<double>(n + 2) * 0x1p-1074);
}

TEST_CASE("inflate covers eight binary64 roundings of a nonnegative expression, normal and subnormal x") {
  // inflate(x) ≥ x·(1 + 2^-53)^8 + 9·2^-1075, decided exactly. Its own addition x + x·2^-49 may
  // round down; with 2^-50 instead of 2^-49 about half of these x fell short (review, 2026-12-05).
  Exact power;  // (1 + 2^-53)^8, exact at 2048 bits
  Exact step;  // 1 + 2^-53 is not a binary64 number (it rounds to 1): built in MPFR
  mpfr_set_ui_2exp(step.v, 1, -53, MPFR_RNDN);
  mpfr_add_ui(step.v, step.v, 1, MPFR_RNDN);
  mpfr_set_ui(power.v, 1, MPFR_RNDN);
  for (int i = 0; i < 8; ++i) mpfr_mul(power.v, power.v, step.v, MPFR_RNDN);
  std::uint64_t s = 71;
  long short_with_2_50 = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    const std::uint64_t r = test::next_bits(s);
    // Every mantissa pattern's low bits matter for the rounding: draw all 52 of them.
    const double m = 1 + static_cast<double>(r >> 1) * 0x1p-52;  // next_bits gives 53 bits
    const int e = trial % 4 == 0 ? -1070 + static_cast<int>(r % 40) : static_cast<int>(r % 200) - 100;
    const double x = std::ldexp(m, e);
    Exact need;
    mpfr_mul_d(need.v, power.v, x, MPFR_RNDN);
    Exact underflows;  // 9·2^-1075: below binary64's smallest subnormal, so set in MPFR
    mpfr_set_ui_2exp(underflows.v, 9, -1075, MPFR_RNDN);
    mpfr_add(need.v, need.v, underflows.v, MPFR_RNDN);
    CHECK_MESSAGE(mpfr_cmp_d(need.v, margin::inflate(x)) <= 0, "x = ", x);
    short_with_2_50 += mpfr_cmp_d(need.v, x + x * 0x1p-50 + 0x1p-1071) > 0;
  }
  CHECK(short_with_2_50 > 0);  // the test sees the gap the old constant left
}

TEST_CASE("up_sum and down_sum enclose every sum, and leave an exact zero zero") {
  std::uint64_t s = 97;
  long zeros = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    // Subnormal, tiny and ordinary operands; a quarter of the pairs cancel exactly.
    const int kind = trial % 4;
    const double a = kind == 0 ? tiny(s, true, -1074, 40) : kind == 1 ? tiny(s) : tiny(s, true, -20, 40);
    const double b = trial % 8 == 3 ? -a : (kind == 2 ? tiny(s, true, -1074, 60) : tiny(s, true, -30, 40));
    const double x = a + b;
    Exact exact;
    exact.add_product(a, 1.0);
    exact.add_product(b, 1.0);
    CHECK_MESSAGE(mpfr_cmp_d(exact.v, bounds::up_sum(x)) <= 0, "a = ", a, ", b = ", b);
    CHECK_MESSAGE(mpfr_cmp_d(exact.v, bounds::down_sum(x)) >= 0, "a = ", a, ", b = ", b);
    if (x == 0) {
      ++zeros;
      CHECK(mpfr_zero_p(exact.v));
      CHECK(bounds::up_sum(x) == 0);
      CHECK(bounds::down_sum(x) == 0);
    }
  }
  CHECK(zeros >= 2000);
}

TEST_CASE("mid_rad encloses [lo, hi], and a point has radius exactly 0") {
  std::uint64_t s = 101;
  for (int trial = 0; trial < 20000; ++trial) {
    const double a = trial % 3 == 0 ? tiny(s, true, -1074, 60) : tiny(s, true, -40, 80);
    const double b = trial % 5 == 0 ? a : (trial % 3 == 1 ? tiny(s, true, -1074, 60) : tiny(s, true, -40, 80));
    const double lo = std::fmin(a, b), hi = std::fmax(a, b);
    const bounds::MidRad x = bounds::mid_rad(lo, hi);
    for (double end : {lo, hi}) {
      Exact d;  // |end − mid|, exactly
      d.add_product(end, 1.0);
      d.add_product(x.mid, -1.0);
      mpfr_abs(d.v, d.v, MPFR_RNDN);
      CHECK_MESSAGE(mpfr_cmp_d(d.v, x.rad) <= 0, "lo = ", lo, ", hi = ", hi);
    }
    if (lo == hi) {
      CHECK(x.rad == 0);
      CHECK(x.mid == lo);
    }
  }
}
