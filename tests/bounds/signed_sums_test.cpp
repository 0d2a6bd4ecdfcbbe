// The signed-partial-sum bound of a sequential dot product (bounds/signed_sums.h,
// theory/probabilistic-signed.md): against the errors of replayed chain sums, its variance term
// against the exact partial sums of points and of boxes, where it applies, and what it gains over
// Higham–Mary's bound.
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "bounds/linear.h"
#include "bounds/signed_sums.h"
#include "bounds/sums.h"
#include "campaign_data.h"
#include "core/chain_arithmetic.h"
#include "exact/dot.h"

using namespace fpaudit;
using namespace fpaudit::bounds;
using fpaudit::test::DataKind;

namespace {

constexpr double kLambda = 5.0;

/// One dot product x·w as the rule sees it: a 1×K row A = x against a K×1 column B = w, both
/// enclosed in [lo, hi] (points unless hi is given).
struct OneSum {
  Tensor alo, ahi, blo, bhi, zero_a, zero_b;
  Enclosure a, b;
  MatmulBound g;
  OneSum(const std::vector<double>& x_lo, const std::vector<double>& x_hi, const std::vector<double>& w_lo,
         const std::vector<double>& w_hi) {
    const long K = static_cast<long>(x_lo.size());
    for (Tensor* t : {&alo, &ahi, &zero_a}) t->resize({1, K});
    for (Tensor* t : {&blo, &bhi, &zero_b}) t->resize({K, 1});
    alo.data = x_lo;
    ahi.data = x_hi;
    blo.data = w_lo;
    bhi.data = w_hi;
    const bool a_point = x_lo == x_hi, b_point = w_lo == w_hi;
    a = {&alo, a_point ? &alo : &ahi, &zero_a, &zero_a};
    b = {&blo, b_point ? &blo : &bhi, &zero_b, &zero_b};
    g.M = 1;
    g.K = K;
    g.N = 1;
    g.A = {&a, 0, K, 1};
    g.B = {&b, 0, 1, 1};
    g.ldo = 1;
  }
  /// Σ max|a|·max|b| as the rule's first sum.
  double S() const {
    double s = 0;
    for (long k = 0; k < g.K; ++k) s += a.magnitude(k) * b.magnitude(k);
    return s;
  }
  double bound(const ArithmeticModel& m) const {
    const double s = S();
    double alt = 0;
    std::vector<double> mid, rad;
    signed_sum_bounds(m, kLambda, g, signed_b(g, mid, rad), 0, 1, &s, &alt);
    return alt;
  }
};

/// λ·u·√(Σ_i s_i²) for the exact partial sums s_i of x·w (each rounded once): what the bound
/// must exceed by Theorem 1 (b ≥ λu√V and V ≥ Σ s_i²).
double variance_floor(const std::vector<double>& x, const std::vector<double>& w, double u) {
  double squares = 0;
  for (std::size_t i = 1; i <= x.size(); ++i) {
    const std::vector<double> xs(x.begin(), x.begin() + static_cast<long>(i)), ws(w.begin(), w.begin() + static_cast<long>(i));
    const double s = exact::dot(xs, ws, 0);
    squares += s * s;
  }
  return kLambda * u * std::sqrt(squares) * (1 - 0x1p-40);
}

}  // namespace

TEST_CASE("Signed-sum bound: replayed sequential sums of every chain stay within it") {
  std::mt19937_64 rng(11);
  long cases = 0, exceeded = 0, tighter = 0;
  double promised = 0;
  std::vector<double> gain;
  for (const char* chain : {"fp16", "fp16-acc32", "bf16", "fp32"}) {
    const ChainSpec spec = parse_chain(chain);
    const ChainArithmetic a(spec);
    const ArithmeticModel m = ArithmeticModel::of(a);
    for (DataKind kind : {DataKind::Normal, DataKind::Cancellation, DataKind::Positive})
      for (long K : {64L, 144L, 600L, 784L, 2304L}) {
        const SumConstants c = sum_error_constants(m, K, kLambda);
        if (!signed_sum_applies(m, c, K, kLambda)) {
          // Only bfloat16 accumulation, where λu√K reaches 1/2 (tested below).
          CHECK(m.u_sum == 0x1p-8);
          continue;
        }
        long cell_exceeded = 0;
        for (int trial = 0; trial < 40; ++trial) {
          std::vector<double> x, w;
          test::campaign_vectors(kind, spec.storage, spec.accumulator, K, rng, x, w);
          const OneSum one(x, x, w, w);
          const double alt = one.bound(m);
          const double computed = a.dot(x.data(), 1, w.data(), 1, K);
          std::vector<double> xs = x, ws = w;
          xs.push_back(computed);
          ws.push_back(-1.0);
          const double observed = std::fabs(exact::dot(xs, ws, 0)) * (1 - 0x1p-52);
          const double hm = sum_error(m, K, c, safe_sum(one.S(), K + 4, K)).prob;
          ++cases;
          cell_exceeded += observed > alt;
          promised += 2 * std::exp(-kLambda * kLambda / 2);
          tighter += alt < hm;
          if (kind == DataKind::Normal && K == 784 && std::string(chain) == "fp16") gain.push_back(hm / alt);
        }
        CHECK_MESSAGE(cell_exceeded == 0, chain, " ", test::data_kind_name(kind), " K=", K);
        exceeded += cell_exceeded;
      }
  }
  fmt::print("signed-sum bound: {} sums, {} exceedances (promised {:.2g}), tighter than Higham-Mary in {}; "
             "fp16 K=784 mean-zero gain median {:.2f}\n",
             cases, exceeded, promised, tighter, test::median(gain));
  CHECK(exceeded == 0);
  // Mean-zero products cancel: the partial sums stay near √i·|t|, not i·|t|.
  CHECK(test::median(gain) > 4);
  CHECK(tighter > cases / 2);
}

TEST_CASE("Signed-sum bound: its variance term covers the exact partial sums of points and of boxes") {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const ChainArithmetic a(parse_chain("fp16"));
  const ArithmeticModel m = ArithmeticModel::of(a);
  long checked = 0;
  for (int trial = 0; trial < 60; ++trial) {
    const long K = 8 + static_cast<long>(rng() % 400);
    // Midpoints that cancel (mean zero) and radii of up to a quarter of them, on one side or both.
    std::vector<double> xm(K), wm(K), xr(K), wr(K);
    for (long k = 0; k < K; ++k) {
      xm[k] = a.round(normal(rng), Target::Storage);
      wm[k] = a.round(normal(rng), Target::Storage);
      xr[k] = trial % 3 == 1 ? 0.0 : a.round(0.25 * unit(rng) * std::fabs(xm[k]), Target::Storage);
      wr[k] = trial % 3 == 2 ? 0.0 : a.round(0.25 * unit(rng) * std::fabs(wm[k]), Target::Storage);
    }
    std::vector<double> xlo(K), xhi(K), wlo(K), whi(K);
    for (long k = 0; k < K; ++k) {
      xlo[k] = xm[k] - xr[k];
      xhi[k] = xm[k] + xr[k];
      wlo[k] = wm[k] - wr[k];
      whi[k] = wm[k] + wr[k];
    }
    const OneSum box(xlo, xhi, wlo, whi);
    const double alt = box.bound(m);
    // Operands inside the boxes: the ends that push every product away from zero in the
    // direction of its midpoint product (the largest partial sums), and random interior points.
    for (int pick = 0; pick < 3; ++pick) {
      std::vector<double> x(K), w(K);
      for (long k = 0; k < K; ++k) {
        const double sign = xm[k] * wm[k] < 0 ? -1.0 : 1.0;
        if (pick == 0) {
          x[k] = xm[k] >= 0 ? xhi[k] : xlo[k];
          w[k] = wm[k] * sign >= 0 ? (sign > 0 ? whi[k] : wlo[k]) : (sign > 0 ? wlo[k] : whi[k]);
        } else {
          x[k] = xlo[k] + unit(rng) * (xhi[k] - xlo[k]);
          w[k] = wlo[k] + unit(rng) * (whi[k] - wlo[k]);
          x[k] = std::fmin(std::fmax(x[k], xlo[k]), xhi[k]);
          w[k] = std::fmin(std::fmax(w[k], wlo[k]), whi[k]);
        }
      }
      CHECK(alt >= variance_floor(x, w, m.u_sum));
      ++checked;
    }
    // The midpoints as points: the bound of the point is no larger than the box's.
    const OneSum point(xm, xm, wm, wm);
    CHECK(point.bound(m) <= alt);
    CHECK(point.bound(m) >= variance_floor(xm, wm, m.u_sum));
  }
  CHECK(checked == 180);
}

TEST_CASE("Signed-sum bound: where it applies") {
  const long K = 784;
  auto applies = [&](const char* chain, DotSchedule s, long k, double lambda) {
    ChainSpec spec = parse_chain(chain);
    spec.schedule = s;
    const ArithmeticModel m = ArithmeticModel::of(ChainArithmetic(spec));
    return signed_sum_applies(m, sum_error_constants(m, k, lambda), k, lambda);
  };
  CHECK(applies("fp16", DotSchedule::sequential(), K, 5));
  CHECK(applies("fp32", DotSchedule::sequential(), K, 7));
  // Other orders keep Higham–Mary's bound (their partial sums are not prefixes).
  CHECK_FALSE(applies("fp16", DotSchedule::pairwise(8), K, 5));
  CHECK_FALSE(applies("fp16", DotSchedule::blocked(32), K, 5));
  CHECK_FALSE(applies("fp16", DotSchedule::two_lane(), K, 5));
  CHECK_FALSE(applies("fp16-acc32", DotSchedule::tensor_core(16), K, 5));
  // λu√K must stay below 1/2: bfloat16 accumulation at λ = 5 stops near K = 655.
  CHECK(applies("bf16", DotSchedule::sequential(), 600, 5));
  CHECK_FALSE(applies("bf16", DotSchedule::sequential(), 700, 5));
  // Short sums, where the deterministic bound is the smaller and nothing can fail: not needed.
  CHECK_FALSE(applies("fp16", DotSchedule::sequential(), 9, 5));
  // The references: exact sums, and sums rounded once more into binary64.
  const ArithmeticModel exact = ArithmeticModel::exact_reference();
  CHECK_FALSE(signed_sum_applies(exact, sum_error_constants(exact, K, 5), K, 5));
  const ArithmeticModel mpfr = ArithmeticModel::mpfr_reference(128);
  CHECK_FALSE(signed_sum_applies(mpfr, sum_error_constants(mpfr, K, 5), K, 5));
}

TEST_CASE("Signed-sum bound: a deterministic pass (prob_wanted false) skips it and keeps det bit for bit") {
  // AprioriState's deterministic pass discards the probabilistic output; matmul_bound then skips
  // the signed-sum variance. Its deterministic output must not move, and the probabilistic one it
  // writes instead must still be a bound (Higham–Mary's: never below the signed one taken).
  std::mt19937_64 rng(11);
  std::normal_distribution<double> normal(0.0, 1.0);
  const ChainArithmetic a(parse_chain("fp16"));
  const ArithmeticModel m = ArithmeticModel::of(a);
  long tighter = 0;
  for (int trial = 0; trial < 40; ++trial) {
    const long K = 64 + static_cast<long>(rng() % 900);
    std::vector<double> x(K), w(K), r(K);
    for (long k = 0; k < K; ++k) {
      x[k] = a.round(normal(rng), Target::Storage);
      w[k] = a.round(normal(rng), Target::Storage);
      r[k] = trial % 2 ? 0.0 : a.round(0.01 * std::fabs(x[k]), Target::Storage);
    }
    std::vector<double> lo(K), hi(K);
    for (long k = 0; k < K; ++k) {
      lo[k] = x[k] - r[k];
      hi[k] = x[k] + r[k];
    }
    OneSum s(lo, hi, w, w);
    Tensor det_all({1, 1}), prob_all({1, 1}), det_det({1, 1}), prob_det({1, 1});
    matmul_bound(m, kLambda, s.g, det_all, prob_all);
    s.g.prob_wanted = false;
    matmul_bound(m, kLambda, s.g, det_det, prob_det);
    CAPTURE(K);
    CHECK(std::memcmp(det_all.data.data(), det_det.data.data(), sizeof(double)) == 0);
    CHECK(prob_det.data[0] >= prob_all.data[0]);
    tighter += prob_det.data[0] > prob_all.data[0];
  }
  // The signed bound was taken (smaller) in most draws: the skipped work is real.
  CHECK(tighter > 20);
}

namespace {

/// An M×K by K×N product for signed_sum_variance: A and B points or boxes (hi = lo + a radius),
/// B stored as K×N (unit column stride) or transposed as N×K (stride K: the strided path).
struct Product {
  Tensor alo, ahi, blo, bhi, zero;
  Enclosure a, b;
  MatmulBound g;
  std::vector<double> S;
  Product(long M, long K, long N, bool a_point, bool b_point, bool b_transposed, std::mt19937_64& rng) {
    std::normal_distribution<double> normal(0.0, 1.0);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    alo.resize({M, K});
    blo.resize(b_transposed ? Shape{N, K} : Shape{K, N});
    zero.resize({1});
    for (double& v : alo.data) v = rng() % 5 == 0 ? 0.0 : normal(rng);
    for (double& v : blo.data) v = rng() % 5 == 0 ? -0.0 : normal(rng);
    ahi = alo;
    bhi = blo;
    for (double& v : ahi.data) v += 0.1 * unit(rng);
    for (double& v : bhi.data) v += 0.1 * unit(rng);
    a = {&alo, a_point ? &alo : &ahi, &zero, &zero};
    b = {&blo, b_point ? &blo : &bhi, &zero, &zero};
    g.M = M;
    g.K = K;
    g.N = N;
    g.A = {&a, 0, K, 1};
    g.B = b_transposed ? MatrixOperand{&b, 0, 1, K} : MatrixOperand{&b, 0, N, 1};
    g.ldo = N;
    S.assign(static_cast<std::size_t>(M * N), 0.0);
    for (long m = 0; m < M; ++m)
      for (long n = 0; n < N; ++n)
        for (long k = 0; k < K; ++k) S[m * N + n] += a.magnitude(g.A.at(m, k)) * b.magnitude(g.B.at(k, n));
  }
};

}  // namespace

TEST_CASE("Signed-sum variance: the tiled kernels give the scalar definition's bits, in row blocks and single rows") {
  // Row blocks (rows > 1) and single rows run different kernels (AVX2: 4 × 4 and 1 × 12 register
  // tiles; AVX-512 and plain x86-64: the 4 × 8 and 1 × 32 array forms), each with array-form edges;
  // every element must take the definition's operations in its order. Shapes leave every tail of
  // those tiles; B contiguous or strided (transposed), points or boxes on either side. Registered
  // once per FPAUDIT_ISA cap.
  std::mt19937_64 rng(20261207);
  long compared = 0;
  for (const long M : {1L, 3L, 4L, 5L, 9L})
    for (const long N : {1L, 3L, 4L, 8L, 13L, 37L})
      for (const long K : {1L, 7L, 40L})
        for (int kind = 0; kind < 8; ++kind) {
          const bool a_point = kind & 1, b_point = kind & 2, b_transposed = kind & 4;
          const Product p(M, K, N, a_point, b_point, b_transposed, rng);
          std::vector<double> mid, rad;
          const SignedB sb = signed_b(p.g, mid, rad);
          std::vector<double> want(static_cast<std::size_t>(M * N)), block(want.size()), alone(want.size());
          signed_sum_variance_definition(p.g, sb, 0, M, p.S.data(), want.data());
          signed_sum_variance(p.g, sb, 0, M, p.S.data(), block.data());
          for (long m = 0; m < M; ++m) signed_sum_variance(p.g, sb, m, 1, p.S.data() + m * N, alone.data() + m * N);
          long differ = 0;
          for (std::size_t i = 0; i < want.size(); ++i)
            differ += (std::memcmp(&block[i], &want[i], sizeof(double)) != 0) + (std::memcmp(&alone[i], &want[i], sizeof(double)) != 0);
          CAPTURE(M);
          CAPTURE(N);
          CAPTURE(K);
          CAPTURE(kind);
          CHECK(differ == 0);
          compared += static_cast<long>(want.size());
        }
  CHECK(compared > 10000);
}
