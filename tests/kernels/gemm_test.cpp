// The chains' dot products and GEMM: a dot product worked out by hand in binary16, the fast
// binary32-held accumulators against lib/format's generic correctly rounded operations, and the
// AVX2 GEMM against the scalar one, bit for bit, for every accumulator and schedule.
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "format/arithmetic.h"
#include "core/accumulators.h"
#include "core/chain_arithmetic.h"
#include "core/gemm_float.h"

using namespace fpaudit;

namespace {

const std::vector<DotSchedule> kSchedules = {DotSchedule::sequential(), DotSchedule::two_lane(),
                                             DotSchedule::blocked(16), DotSchedule::pairwise(4)};

bool same_bits(float a, float b) {
  std::uint32_t x, y;
  std::memcpy(&x, &a, 4);
  std::memcpy(&y, &b, 4);
  return x == y || (std::isnan(a) && std::isnan(b));
}

/// Values of a format spread over many binades, with zeros and a few huge ones.
std::vector<double> random_values(const Format& f, std::size_t n, std::mt19937_64& rng, double scale) {
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> v(n);
  for (double& x : v) {
    const double r = normal(rng) * scale * std::ldexp(1.0, static_cast<int>(rng() % 9) - 4);
    x = rng() % 17 == 0 ? 0.0 : round_to(f, r);
  }
  return v;
}

}  // namespace

TEST_CASE("a binary16 dot product worked out by hand") {
  // x = (2048, 1, 1, 1), w = (1, 1, 1, 1). In binary16 the spacing at 2048 is 2, so each
  // 2048 + 1 is a tie that rounds to even (2048): the sequential FMA chain returns 2048, while
  // the exact sum is 2051 and binary32 accumulation gets it.
  const std::vector<double> x = {2048, 1, 1, 1}, w = {1, 1, 1, 1};
  const ChainArithmetic fp16(parse_chain("fp16"));
  const ChainArithmetic mixed(parse_chain("fp16-acc32"));
  CHECK(fp16.dot(x.data(), 1, w.data(), 1, 4) == 2048.0);
  CHECK(mixed.dot(x.data(), 1, w.data(), 1, 4) == 2051.0);
  // Two lanes: lane 0 = 2048 + 1 → 2048, lane 1 = 1 + 1 = 2, 2048 + 2 = 2050.
  const ChainArithmetic fp16_2(parse_chain("fp16@two-lane"));
  CHECK(fp16_2.dot(x.data(), 1, w.data(), 1, 4) == 2050.0);
  // Pairwise(1): (2048 + 1) + (1 + 1) = 2048 + 2 = 2050.
  const ChainArithmetic fp16_p(parse_chain("fp16@pairwise-1"));
  CHECK(fp16_p.dot(x.data(), 1, w.data(), 1, 4) == 2050.0);
}

TEST_CASE("fast accumulator steps equal lib/format's generic fma and add") {
  std::mt19937_64 rng(5);
  long mismatches = 0;
  for (int k = 0; k < 300000; ++k) {
    for (const Format& f : {binary16(), bfloat16()}) {
      const auto v = random_values(f, 3, rng, k % 3 == 0 ? 1e-3 : 30.0);
      const double a = v[0], b = v[1];
      double c = v[2];
      if (k % 5 == 0) c = round_to(f, -a * b);  // cancellation
      const auto fa = static_cast<float>(a), fb = static_cast<float>(b), fc = static_cast<float>(c);
      const bool is16 = f == binary16();
      const float fast_fma = is16 ? acc::Binary16Fma{}.step(fc, {fa, fb}) : acc::Bfloat16Fma{}.step(fc, {fa, fb});
      const float fast_add = is16 ? acc::Binary16Fma{}.combine(fa, fb) : acc::Bfloat16Fma{}.combine(fa, fb);
      mismatches += !same_bits(fast_fma, static_cast<float>(fpaudit::fma(f, a, b, c).value));
      mismatches += !same_bits(fast_add, static_cast<float>(fpaudit::add(f, a, b).value));
    }
  }
  // bfloat16 products below 2^-126 take the binary64 path inside Bfloat16Fma: cover it.
  const float tiny = std::ldexp(1.0f, -70);
  CHECK(same_bits(acc::Bfloat16Fma{}.step(0.0f, {tiny, tiny}), static_cast<float>(fpaudit::fma(bfloat16(), tiny, tiny, 0.0).value)));
  CHECK(same_bits(acc::Bfloat16Fma{}.step(std::ldexp(1.0f, -133), {tiny, std::ldexp(1.5f, -64)}),
                  static_cast<float>(fpaudit::fma(bfloat16(), tiny, std::ldexp(1.5, -64), std::ldexp(1.0, -133)).value)));
  CHECK(mismatches == 0);
}

namespace {

/// A vector kernel against the scalar one on the columns it computes (all of them, or the
/// first N - N % 8 for AVX2), bit for bit, over shapes that leave every kind of vector tail.
void compare_with_scalar(void (*kernel)(kernels::AccPolicy, const DotSchedule&, const kernels::GemmFloat&),
                         bool every_column) {
  std::mt19937_64 rng(77);
  struct Shape { long M, N, K; };
  // The last four reach the row blocks: 8 rows on one vector of columns, 4 rows on wider panels,
  // and the rows left over (AVX2: 16- and 8-column panels; AVX-512: 64, 16 and masked).
  for (const Shape sh : {Shape{3, 40, 17}, Shape{5, 8, 1}, Shape{2, 33, 64}, Shape{4, 96, 300}, Shape{3, 7, 9},
                         Shape{2, 79, 33}, Shape{6, 196, 144}, Shape{1, 1, 5}, Shape{9, 8, 20}, Shape{13, 24, 37},
                         Shape{17, 90, 11}, Shape{12, 16, 70}}) {
    for (auto policy : {kernels::AccPolicy::Binary16Fma, kernels::AccPolicy::Bfloat16Fma, kernels::AccPolicy::Binary32Fma}) {
      const Format f = policy == kernels::AccPolicy::Bfloat16Fma ? bfloat16() : binary16();
      auto to_float = [](const std::vector<double>& d) { return std::vector<float>(d.begin(), d.end()); };
      std::vector<float> W = to_float(random_values(f, sh.M * sh.K, rng, 4.0));
      std::vector<float> X = to_float(random_values(f, sh.K * sh.N, rng, 4.0));
      std::vector<float> bias = to_float(random_values(f, sh.M, rng, 4.0));
      // Specials: an overflow-prone row and a NaN.
      X[0] = 60000.0f;
      if (sh.K > 1) X[sh.N] = 60000.0f;
      W[sh.K - 1] = std::nanf("");
      for (const DotSchedule& s : kSchedules) {
        const long columns = every_column ? sh.N : sh.N - sh.N % 8;
        std::vector<float> y_vec(sh.M * sh.N, -1.0f), y_ref(sh.M * sh.N, -1.0f);
        kernels::GemmFloat g{sh.M, sh.N, sh.K, W.data(), X.data(), bias.data(), y_vec.data(), sh.N, sh.N};
        kernel(policy, s, g);
        g.Y = y_ref.data();
        g.N = columns;
        kernels::gemm_float_scalar(policy, s, g);
        long diff = 0;
        for (long m = 0; m < sh.M; ++m)
          for (long n = 0; n < sh.N; ++n) diff += !same_bits(y_vec[m * sh.N + n], n < columns ? y_ref[m * sh.N + n] : -1.0f);
        INFO(fmt::format("M={} N={} K={} policy={} {}", sh.M, sh.N, sh.K, static_cast<int>(policy), schedule_name(s)));
        CHECK(diff == 0);
      }
    }
  }
}

}  // namespace

TEST_CASE("AVX2 GEMM equals scalar GEMM bit for bit: every accumulator and schedule") {
  if (!kernels::gemm_float_avx2_supported()) {
    MESSAGE("no AVX2 on this CPU: the vector kernel is not used here, nothing to compare");
    return;
  }
  compare_with_scalar(kernels::gemm_float_avx2, false);
}

TEST_CASE("AVX-512 GEMM equals scalar GEMM bit for bit: every accumulator, schedule and column tail") {
  if (!kernels::gemm_float_avx512_supported()) {
    MESSAGE("no AVX-512 on this CPU: the vector kernel is not used here, nothing to compare");
    return;
  }
  compare_with_scalar(kernels::gemm_float_avx512, true);
}

TEST_CASE("gemm_float (the dispatcher) equals scalar GEMM on every column") {
  compare_with_scalar(kernels::gemm_float, true);
}

TEST_CASE("ChainArithmetic::gemm equals its own dot products plus bias, for every named chain") {
  std::mt19937_64 rng(3);
  for (const ChainSpec& spec : named_chains()) {
    const ChainArithmetic a(spec);
    const long M = 3, N = 11, K = 29;
    std::vector<double> W = random_values(spec.storage, M * K, rng, 1.0), X = random_values(spec.storage, K * N, rng, 1.0),
                        b = random_values(spec.storage, M, rng, 1.0), Y(M * N);
    a.gemm({M, N, K, W.data(), K, X.data(), N, b.data(), Y.data(), N});
    long diff = 0;
    for (long m = 0; m < M; ++m)
      for (long n = 0; n < N; ++n) {
        const double acc = a.add(a.dot(W.data() + m * K, 1, X.data() + n, N, K), b[m], Target::Accumulator);
        const double want = a.round(acc, Target::Storage);
        diff += !(want == Y[m * N + n] || (std::isnan(want) && std::isnan(Y[m * N + n])));
      }
    INFO(spec.name);
    CHECK(diff == 0);
  }
}
