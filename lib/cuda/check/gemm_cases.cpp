#include "cuda/check/gemm_cases.h"

#include <cmath>
#include <random>
#include <tuple>

#include "bounds/sum_constants.h"
#include "exact/dot.h"
#include "format/binary16.h"

namespace fpaudit::cuda::check {

namespace {

float half(double v) { return b16::round_f(static_cast<float>(v)); }

GemmCase sized(std::string name, long M, long N, long K) {
  GemmCase c{std::move(name), M, N, K, {}, {}, {}};
  c.W.resize(static_cast<std::size_t>(M * K));
  c.X.resize(static_cast<std::size_t>(K * N));
  c.bias.resize(static_cast<std::size_t>(M));
  return c;
}

GemmCase exact_integers(std::mt19937_64& rng) {
  // |Σ| ≤ 64·16 + 4 < 2048: every partial sum is an integer binary16 holds exactly.
  GemmCase c = sized("exact-integers", 37, 45, 64);
  std::uniform_int_distribution<int> d(-4, 4);
  for (float& v : c.W) v = static_cast<float>(d(rng));
  for (float& v : c.X) v = static_cast<float>(d(rng));
  for (float& v : c.bias) v = static_cast<float>(d(rng));
  return c;
}

GemmCase random_normal(std::mt19937_64& rng, long M, long N, long K) {
  GemmCase c = sized("random-" + std::to_string(M) + "x" + std::to_string(N) + "x" + std::to_string(K), M, N, K);
  std::normal_distribution<double> d(0.0, 1.0);
  for (float& v : c.W) v = half(d(rng));
  for (float& v : c.X) v = half(d(rng));
  for (float& v : c.bias) v = half(d(rng));
  return c;
}

GemmCase wide_exponents(std::mt19937_64& rng) {
  GemmCase c = sized("wide-exponents", 96, 80, 256);
  std::uniform_real_distribution<double> mant(1.0, 2.0);
  std::uniform_int_distribution<int> e(-14, 6);
  auto draw = [&] { return half((rng() & 1 ? -1.0 : 1.0) * mant(rng) * std::ldexp(1.0, e(rng))); };
  for (float& v : c.W) v = draw();
  for (float& v : c.X) v = draw();
  for (float& v : c.bias) v = draw();
  return c;
}

GemmCase cancellation(std::mt19937_64& rng) {
  GemmCase c = sized("cancellation", 64, 64, 512);
  std::normal_distribution<double> d(0.0, 1.0);
  for (long m = 0; m < c.M; ++m)
    for (long k = 0; k < c.K; ++k) {
      const double a = d(rng) * 100.0;
      c.W[m * c.K + k] = half(k % 2 == 0 ? a : -c.W[m * c.K + k - 1] * (1.0 + 1e-3 * d(rng)));
    }
  for (float& v : c.X) v = half(1.0 + 0.01 * d(rng));
  for (float& v : c.bias) v = half(d(rng));
  return c;
}

GemmCase hfma_ties(std::mt19937_64& rng) {
  // Row m starts with 2048·2^(m%4) followed by ones: in binary16 every + 1 is a tie (or below
  // half an ulp), so the FMA chain's ties-to-even decide every output.
  GemmCase c = sized("hfma-ties", 16, 16, 33);
  for (long m = 0; m < c.M; ++m)
    for (long k = 0; k < c.K; ++k) c.W[m * c.K + k] = k == (m % 3) ? std::ldexp(1.0f, 11 + static_cast<int>(m % 4)) : 1.0f;
  std::uniform_int_distribution<int> d(1, 3);
  for (float& v : c.X) v = static_cast<float>(d(rng));
  for (float& v : c.bias) v = 1.0f;
  return c;
}

GemmCase alignment(std::mt19937_64& rng) {
  // W row m: 4096 at position (7m) mod K (none in every fourth row), 1.5·2^-12 elsewhere; X in
  // [2^-12, 2^-11). The big product lands in [1, 2), the small ones in [0.75, 1.5)·2^-23:
  // about half fall below the alignment cut 2^-23 of a block holding the big one, and where the
  // big one sits decides which blocks hold it.
  GemmCase c = sized("alignment", 32, 40, 64);
  std::uniform_int_distribution<int> mant(0, 1023);
  for (long m = 0; m < c.M; ++m)
    for (long k = 0; k < c.K; ++k)
      c.W[m * c.K + k] = (m % 4 != 3 && k == (7 * m) % c.K) ? 4096.0f : 1.5f * std::ldexp(1.0f, -12);
  for (float& v : c.X) v = std::ldexp(1.0f + static_cast<float>(mant(rng)) / 1024.0f, -12);
  for (float& v : c.bias) v = 0.0f;
  return c;
}

GemmCase subnormals(std::mt19937_64& rng) {
  GemmCase c = sized("subnormals", 48, 48, 96);
  std::uniform_int_distribution<int> sub(1, 1023);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (float& v : c.W) v = (rng() & 1 ? -1.0f : 1.0f) * static_cast<float>(sub(rng)) * std::ldexp(1.0f, -24);
  for (float& v : c.X) v = half(u(rng) * (rng() % 4 == 0 ? 1024.0 : 1.0));
  for (float& v : c.bias) v = static_cast<float>(sub(rng)) * std::ldexp(1.0f, -24);
  return c;
}

GemmCase overflow(std::mt19937_64& rng) {
  GemmCase c = sized("overflow", 8, 8, 64);
  std::uniform_real_distribution<double> u(1.0, 2.0);
  for (float& v : c.W) v = half(30000.0 * u(rng));
  for (float& v : c.X) v = half((rng() % 8 == 0 ? -1.0 : 1.0) * u(rng));
  for (float& v : c.bias) v = 1.0f;
  return c;
}

}  // namespace

std::vector<GemmCase> gemm_cases(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<GemmCase> cases;
  cases.push_back(exact_integers(rng));
  for (const auto& [M, N, K] : {std::tuple{1L, 1L, 1L}, {3L, 5L, 7L}, {64L, 64L, 64L}, {129L, 67L, 301L}, {200L, 130L, 1024L}})
    cases.push_back(random_normal(rng, M, N, K));
  cases.push_back(wide_exponents(rng));
  cases.push_back(cancellation(rng));
  cases.push_back(hfma_ties(rng));
  cases.push_back(alignment(rng));
  cases.push_back(subnormals(rng));
  cases.push_back(overflow(rng));
  return cases;
}

std::vector<std::uint16_t> to_binary16(const std::vector<float>& v) {
  std::vector<std::uint16_t> h(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) h[i] = b16::from_float(v[i]);
  return h;
}

std::vector<float> host_gemm(const GemmCase& c, kernels::AccPolicy policy, const DotSchedule& s) {
  std::vector<float> y(static_cast<std::size_t>(c.M * c.N));
  // The bias enters in the accumulator format; binary16 values are binary32 values too.
  const kernels::GemmFloat g{c.M, c.N, c.K, c.W.data(), c.X.data(), c.bias.empty() ? nullptr : c.bias.data(), y.data(), c.N, c.N};
  kernels::gemm_float_scalar(policy, s, g);
  return y;
}

BoundCheck bound_check(const GemmCase& c, long m, long n, float computed, const DotSchedule& s, double u_acc, double eta_acc) {
  std::vector<float> w(c.W.begin() + m * c.K, c.W.begin() + (m + 1) * c.K), x(static_cast<std::size_t>(c.K)), aw(w.size()),
      ax(x.size());
  for (long k = 0; k < c.K; ++k) x[k] = c.X[k * c.N + n];
  for (long k = 0; k < c.K; ++k) aw[k] = std::fabs(w[k]), ax[k] = std::fabs(x[k]);
  const double bias = c.bias.empty() ? 0.0 : c.bias[m];
  BoundCheck r;
  // The error rounded once from its exact value: the terms, the bias and computed × (−1) as one
  // more term, in one exact dot product.
  w.push_back(computed);
  x.push_back(-1.0f);
  r.error = std::fabs(exact::dot(std::span<const float>(w), std::span<const float>(x), bias));
  const double S = exact::dot(std::span<const float>(aw), std::span<const float>(ax)) * (1 + 0x1p-52);
  const bounds::SumConstants k = bounds::sum_constants(s, c.K, u_acc, eta_acc, 5.0);
  double bound = k.gamma * S + k.eta;
  if (!c.bias.empty()) {  // the finished sum, at most (1 + γ)S + η, plus the bias: one more rounding
    const double T = (1 + k.gamma) * S + k.eta;
    bound += u_acc * (T + std::fabs(bias)) + eta_acc;
  }
  r.bound = bound * (1 + 0x1p-50);  // the bound's own binary64 arithmetic
  return r;
}

}  // namespace fpaudit::cuda::check
