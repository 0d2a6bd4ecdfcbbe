// The constants of lib/bounds/sum_constants.h: the IEEE schedules take theory/dot-product.md's
// Theorem 1 ((1+u)^d − 1, n·η·(1+u)^(d−1), failure over the n terms), and the
// tensor-core rule of theory/tensor-core.md holds on random and adversarial binary16 data
// against the exact error (exact::dot of the terms minus the computed value, rounded once),
// and is nearly attained by the adversarial case the proof's worst step describes.
#include <cmath>
#include <random>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "bounds/sum_constants.h"
#include "exact/dot.h"
#include "format/binary16.h"
#include "core/accumulators.h"

using namespace fpaudit;

namespace {

constexpr double kU32 = 0x1p-24, kEta32 = 0x1p-150, kU16 = 0x1p-11, kEta16 = 0x1p-25;

struct Case {
  std::vector<float> x, w;
};

/// The error of `computed` against the exact Σ x_i·w_i, correctly rounded (one rounding).
double exact_error(const Case& c, float computed) {
  return std::fabs(exact::dot(std::span<const float>(c.x), std::span<const float>(c.w), -static_cast<double>(computed)));
}
/// Σ |x_i·w_i|, rounded up by a relative 2^-52 so that it is no smaller than the exact value.
double abs_sum(const Case& c) {
  std::vector<float> ax(c.x.size()), aw(c.w.size());
  for (std::size_t i = 0; i < ax.size(); ++i) ax[i] = std::fabs(c.x[i]), aw[i] = std::fabs(c.w[i]);
  return exact::dot(std::span<const float>(ax), std::span<const float>(aw)) * (1 + 0x1p-52);
}

float tc_dot(const Case& c, const DotSchedule& s, bool binary16_acc) {
  auto terms = [&](long i) { return acc::Term{c.x[static_cast<std::size_t>(i)], c.w[static_cast<std::size_t>(i)]}; };
  const long n = static_cast<long>(c.x.size());
  return binary16_acc ? accumulate(acc::Binary16Fma{}, s, n, terms) : accumulate(acc::Binary32Fma{}, s, n, terms);
}

float binary16(double v) { return b16::round_f(static_cast<float>(v)); }

/// Random binary16 vectors of four kinds: centred normal, all positive, a wide exponent spread,
/// and pairs that cancel (x, −x) with small noise.
Case random_case(std::mt19937_64& rng, long n, int kind, double scale) {
  std::normal_distribution<double> normal(0.0, 1.0);
  Case c;
  for (long i = 0; i < n; ++i) {
    double a = normal(rng) * scale, b = normal(rng);
    if (kind == 1) a = std::fabs(a), b = std::fabs(b);
    if (kind == 2) a *= std::ldexp(1.0, static_cast<int>(rng() % 20) - 10);
    if (kind == 3 && i % 2 == 1) a = -c.x.back() * (1 + 1e-3 * normal(rng)), b = c.w.back();
    c.x.push_back(binary16(a));
    c.w.push_back(binary16(b));
  }
  return c;
}

}  // namespace

TEST_CASE("IEEE schedules take the proved constants of theory/dot-product.md") {
  for (const DotSchedule s : {DotSchedule::sequential(), DotSchedule::two_lane(), DotSchedule::pairwise(8)}) {
    const bounds::SumConstants c = bounds::sum_constants(s, 1024, kU16, kEta16, 5.0);
    CHECK(c.depth == rounding_depth(s, 1024));
    CHECK(c.gamma == bounds::rounding_growth(c.depth, kU16));
    CHECK(c.gamma <= bounds::gamma(c.depth, kU16));
    // Every one of the 1024 steps may underflow, whatever the depth.
    CHECK(c.eta == 1024 * kEta16 * (1 + bounds::rounding_growth(c.depth - 1, kU16)));
    const double gp = bounds::gamma_probabilistic(c.depth, kU16, 5.0);
    CHECK(c.gamma_prob == (gp < c.gamma ? gp : c.gamma));
    CHECK(c.failure == (gp < c.gamma ? bounds::probabilistic_failure(1024, kU16, 5.0) : 0.0));
  }
  CHECK(bounds::sum_constants(DotSchedule::sequential(), 100, 0.0, 0.0, 5.0).gamma == 0.0);  // exact sums
}

TEST_CASE("the tensor-core constant, worked out") {
  // Blocks of 8, binary32 accumulators: ρ = 2^-23 (truncation), alignment (8 + 1)·2^-23,
  // u_tc = (1 + 2^-23)(1 + 9·2^-23) − 1; K = 1024 is 128 blocks: γ_128(u_tc) ≈ 1.53e-4.
  const double u_tc = (1 + 0x1p-23) * (1 + 9 * 0x1p-23) - 1;
  CHECK(bounds::tensor_core_unit_roundoff(8, 0, kU32) == u_tc);
  const bounds::SumConstants c = bounds::sum_constants(DotSchedule::tensor_core(8), 1024, kU32, kEta32, 5.0);
  CHECK(c.depth == 128);
  CHECK(c.gamma == bounds::rounding_growth(128, u_tc));
  CHECK(c.gamma <= bounds::gamma(128, u_tc));
  CHECK(c.gamma == doctest::Approx(1.526e-4).epsilon(1e-3));
  CHECK(c.gamma_prob == c.gamma);  // truncation errors are one-signed: no probabilistic bound
  CHECK(c.failure == 0.0);
  // binary16 accumulators: ρ = (1 + 2^-23)(1 + 2^-11) − 1, dominated by the output rounding.
  const double rho16 = (1 + 0x1p-23) * (1 + kU16) - 1;
  CHECK(bounds::tensor_core_unit_roundoff(8, 0, kU16) == (1 + rho16) * (1 + 9 * 0x1p-23) - 1);
  // Extra alignment bits shrink the alignment term: 2 bits, a quarter.
  CHECK(bounds::tensor_core_unit_roundoff(16, 2, kU32) == (1 + 0x1p-23) * (1 + 17 * 0x1p-25) - 1);
}

TEST_CASE("the tensor-core bound holds against the exact error on random binary16 data") {
  std::mt19937_64 rng(2021);
  double worst = 0;
  long cases = 0;
  for (const bool half_acc : {false, true}) {
    for (const DotSchedule s : {DotSchedule::tensor_core(4), DotSchedule::tensor_core(8), DotSchedule::tensor_core(16),
                                DotSchedule::tensor_core(8, 3)}) {
      for (const long n : {1L, 7L, 64L, 1000L, 4096L}) {
        const bounds::SumConstants k = bounds::sum_constants(s, n, half_acc ? kU16 : kU32, half_acc ? kEta16 : kEta32, 5.0);
        for (int kind = 0; kind < 4; ++kind) {
          for (int rep = 0; rep < 6; ++rep) {
            // binary16 accumulators overflow past 65504: keep their sums in range.
            const double scale = half_acc ? 4.0 / std::sqrt(static_cast<double>(n)) : 8.0;
            const Case c = random_case(rng, n, kind, scale * std::ldexp(1.0, rep - 3));
            const float computed = tc_dot(c, s, half_acc);
            REQUIRE(std::isfinite(computed));
            const double err = exact_error(c, computed), bound = k.gamma * abs_sum(c) + k.eta;
            INFO(fmt::format("{} n={} kind={} acc={}: error {:.3e} bound {:.3e}", schedule_name(s), n, kind,
                             half_acc ? "binary16" : "binary32", err, bound));
            CHECK(err <= bound);
            if (bound > 0) worst = std::max(worst, err / bound);
            ++cases;
          }
        }
      }
    }
  }
  MESSAGE(fmt::format("{} dot products; largest error / bound {:.3f}", cases, worst));
}

TEST_CASE("the tensor-core bound is nearly attained when every block cuts almost a full ulp") {
  // The accumulator sits in [1, 2) after the first product 1, so the last bit kept weighs
  // 2^-23; every later product is 2^-12 × (2^-11 − 2^-21) = 2^-23·(1 − 2^-10), just below it,
  // and is cut in every block. The exact error is (n − 1)·2^-23·(1 − 2^-10); the bound's
  // alignment term per block is (b + 1)·2^-23 times the block's addends (≈ 1): the ratio tends
  // to b/(b + 1) less the truncation term's share.
  for (const int b : {4, 8, 16}) {
    const long n = 1 + 64L * b;
    Case c;
    c.x.assign(static_cast<std::size_t>(n), std::ldexp(1.0f, -12));
    c.w.assign(static_cast<std::size_t>(n), std::ldexp(1.0f, -11) - std::ldexp(1.0f, -21));
    c.x[0] = c.w[0] = 1.0f;
    const DotSchedule s = DotSchedule::tensor_core(b);
    const float computed = tc_dot(c, s, false);
    CHECK(computed == 1.0f);
    const bounds::SumConstants k = bounds::sum_constants(s, n, kU32, kEta32, 5.0);
    const double err = exact_error(c, computed), bound = k.gamma * abs_sum(c) + k.eta;
    INFO("b = ", b, ": error / bound = ", err / bound);
    CHECK(err <= bound);
    CHECK(err / bound > 0.75 * b / (b + 1.0));
  }
}
