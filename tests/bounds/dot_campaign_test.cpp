// The verification campaign of the dot-product rule (theory/dot-product.md): every accumulator
// (binary16 FMA, bfloat16 FMA, binary32 FMA) and every schedule (sequential, two-lane,
// blocked-32, pairwise-8), random and adversarial data, n up to 65,536, through
// ChainArithmetic::dot against exact::dot, checked against bounds::sum_error; then through
// ChainArithmetic::gemm (bias, storage rounding, E4M3 saturation) against bounds::matmul_bound.
// Asserts zero violations; prints the tightness (observed/bound) and the probabilistic
// bound's exceedance rate against the failure probability it promised.
#include <cmath>
#include <random>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "bounds/linear.h"
#include "bounds/sums.h"
#include "campaign_data.h"
#include "exact/dot.h"
#include "core/chain_arithmetic.h"

using namespace fpaudit;
using namespace fpaudit::bounds;
using fpaudit::test::DataKind;

namespace {

constexpr double kLambda = 5.0;

/// |ŝ - Σ x_i w_i| computed exactly and rounded once (the extra term -ŝ in the exact dot
/// product), so the observation is the true error up to a factor 1 ± 2^-53.
double observed_error(const std::vector<double>& x, const std::vector<double>& w, double computed, double bias = 0) {
  std::vector<double> xs = x, ws = w;
  xs.push_back(computed);
  ws.push_back(-1.0);
  return std::fabs(exact::dot(xs, ws, bias));
}

/// Tally of one (chain, schedule, data kind) cell.
struct Tally {
  long cases = 0, overflow = 0, violations = 0, exceeded = 0;
  double promised = 0;  // Σ of the per-case failure probabilities: the expected exceedances
  std::vector<double> ratio;
  void add(double observed, double det, double prob, double failure) {
    ++cases;
    const double obs = observed * (1 - 0x1p-52);
    if (obs > det) ++violations;
    if (obs > prob) ++exceeded;
    promised += failure;
    ratio.push_back(det > 0 ? obs / det : (obs > 0 ? INFINITY : 0.0));
  }
};

void print(const std::string& chain, const DotSchedule& s, DataKind k, const Tally& t) {
  double mx = 0;
  for (double r : t.ratio) mx = std::fmax(mx, r);
  fmt::print("  {:<15} {:<11} {:<9} {:>6} {:>4} {:>4} {:>10.3g} {:>10.3g} {:>6} {:>9.3g}\n", chain, schedule_name(s),
             test::data_kind_name(k), t.cases, t.overflow, t.violations, test::median(t.ratio), mx, t.exceeded, t.promised);
}

const std::vector<DotSchedule> kSchedules = {DotSchedule::sequential(), DotSchedule::two_lane(), DotSchedule::blocked(32),
                                             DotSchedule::pairwise(8)};

}  // namespace

TEST_CASE("dot products of every accumulator and schedule stay within the deterministic bound") {
  fmt::print("dot campaign: chain, schedule, data, cases, overflowed, violations, median and max observed/bound,\n"
             "probabilistic exceedances and the number the failure probability allows (expected)\n");
  std::mt19937_64 rng(20240611);
  long total_cases = 0, total_violations = 0;
  for (const char* chain : {"fp16", "bf16", "fp32", "fp16-acc32", "bf16-acc32"}) {
    for (const DotSchedule& s : kSchedules) {
      ChainSpec spec = parse_chain(chain);
      spec.schedule = s;
      const ChainArithmetic a(spec);
      const ArithmeticModel m = ArithmeticModel::of(a);
      for (DataKind kind : test::kDataKinds) {
        Tally t;
        std::vector<double> x, w;
        std::uniform_real_distribution<double> logn(0.0, std::log(3000.0));
        for (int trial = 0; trial < 400; ++trial) {
          // Mostly log-uniform lengths up to 3000; a few at 65,536.
          const long n = trial < 3 ? 65536 : static_cast<long>(std::exp(logn(rng)));
          test::campaign_vectors(kind, spec.storage, spec.accumulator, n, rng, x, w);
          const double got = a.dot(x.data(), 1, w.data(), 1, n);
          if (!std::isfinite(got)) {
            ++t.overflow;
            continue;
          }
          double S = 0;
          for (long i = 0; i < n; ++i) S += std::fabs(x[i] * w[i]);
          S *= safety(n);
          const SumError e = sum_error(m, n, S, kLambda);
          t.add(observed_error(x, w, got), e.det, e.prob, e.failure);
        }
        print(chain, s, kind, t);
        total_cases += t.cases;
        total_violations += t.violations;
        CHECK_MESSAGE(t.violations == 0, chain, " ", schedule_name(s), " ", test::data_kind_name(kind));
        // Mean-zero data is the probabilistic model's home ground: the exceedances must stay
        // within what the promised failure probability allows (with a 5σ Poisson margin).
        if (kind == DataKind::Normal) CHECK(t.exceeded <= t.promised + 5 * std::sqrt(t.promised) + 2);
      }
    }
  }
  fmt::print("dot campaign: {} dot products, {} violations\n", total_cases, total_violations);
  CHECK(total_violations == 0);
}

TEST_CASE("regression: every step underflows by nearly η (the rule's former d·η was too small)") {
  // Found by the proof of theory/dot-product.md, Theorem 1: each of the n steps can add up to η,
  // not each of the d levels. Terms t = 2^-25 + 2^-35 (x = 2^-12(1 + 2^-10), w = 2^-13, both
  // binary16): every binary16 step acc + t rounds up to the next multiple of 2^-24, an error of
  // η - 2^-35 per step; two lanes halve the depth but not the number of steps.
  const long n = 1000;
  const std::vector<double> x(n, std::ldexp(1 + 0x1p-10, -12)), w(n, 0x1p-13);
  ChainSpec spec = parse_chain("fp16@two-lane");
  const ChainArithmetic a(spec);
  const ArithmeticModel m = ArithmeticModel::of(a);
  const double got = a.dot(x.data(), 1, w.data(), 1, n);
  const double observed = observed_error(x, w, got);
  const double S = static_cast<double>(n) * x[0] * w[0];
  const long d = rounding_depth(spec.schedule, n);
  const double former = gamma(d, m.u_sum) * S + static_cast<double>(d) * m.eta_sum;  // the rule before the proof
  CHECK(observed > former);  // the former rule is violated here
  CHECK(observed <= sum_error(m, n, S * safety(n), kLambda).det);
  fmt::print("underflow regression: observed {:.4g}, former rule {:.4g}, proved rule {:.4g}\n", observed, former,
             sum_error(m, n, S * safety(n), kLambda).det);
}

TEST_CASE("GEMM with bias and storage rounding stays within matmul_bound, E4M3 saturation included") {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal(0.0, 1.0);
  long cases = 0, violations = 0;
  std::vector<double> ratios;
  for (const char* chain : {"fp16", "bf16", "fp32", "fp16-acc32", "bf16-acc32", "fp8-e4m3-acc32"}) {
    for (const DotSchedule& s : kSchedules) {
      ChainSpec spec = parse_chain(chain);
      spec.schedule = s;
      const ChainArithmetic a(spec);
      const ArithmeticModel m = ArithmeticModel::of(a);
      for (int trial = 0; trial < 24; ++trial) {
        const long M = 1 + static_cast<long>(rng() % 9), K = 1 + static_cast<long>(rng() % 300), N = 1 + static_cast<long>(rng() % 12);
        // Scale so that some outputs saturate E4M3 (beyond 448) and some are tiny.
        const double scale = trial % 3 == 0 ? 30.0 : (trial % 3 == 1 ? 1.0 : 1e-3);
        Tensor W({M, K}), X({K, N}), bias({M}), Y({M, N});
        for (double& v : W.data) v = a.round(normal(rng) * scale, Target::Storage);
        for (double& v : X.data) v = a.round(normal(rng), Target::Storage);
        for (double& v : bias.data) v = a.round(normal(rng) * scale, Target::Storage);
        GemmArgs args;
        args.M = M;
        args.N = N;
        args.K = K;
        args.W = W.data.data();
        args.ldw = K;
        args.X = X.data.data();
        args.ldx = N;
        args.bias = bias.data.data();
        args.Y = Y.data.data();
        args.ldy = N;
        a.gemm(args);
        // Enclosures: the operands are known exactly (lo = hi, no input error).
        Tensor zw({M, K}), zx({K, N}), zb({M});
        const Enclosure ew{&W, &W, &zw, &zw}, ex{&X, &X, &zx, &zx}, eb{&bias, &bias, &zb, &zb};
        MatmulBound g;
        g.M = M;
        g.K = K;
        g.N = N;
        g.A = {&ew, 0, K, 1};
        g.B = {&ex, 0, N, 1};
        g.bias = &eb;
        g.bias_stride_m = 1;
        g.ldo = N;
        Tensor det({M, N}), prob({M, N});
        matmul_bound(m, kLambda, g, det, prob);
        for (long i = 0; i < M; ++i)
          for (long j = 0; j < N; ++j) {
            const double y = Y.data[i * N + j];
            if (!std::isfinite(y)) continue;
            std::vector<double> w(W.data.begin() + i * K, W.data.begin() + (i + 1) * K), x(K);
            for (long k = 0; k < K; ++k) x[k] = X.data[k * N + j];
            const double obs = observed_error(w, x, y, bias.data[i]) * (1 - 0x1p-52);
            ++cases;
            if (obs > det.data[i * N + j]) ++violations;
            ratios.push_back(obs / det.data[i * N + j]);
          }
      }
    }
  }
  double mx = 0;
  for (double r : ratios) mx = std::fmax(mx, r);
  fmt::print("gemm campaign: {} outputs, {} violations, observed/bound median {:.3g} max {:.3g}\n", cases, violations,
             test::median(ratios), mx);
  CHECK(violations == 0);
}
