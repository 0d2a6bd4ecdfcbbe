// exact::gemm against exact::dot, bit for bit: every adversarial family of the dot-product
// tests (ties, near ties, cancellation, underflowing products, subnormal results, overflow,
// NaN-free random bit patterns), laid out as matrices whose diagonal holds the family's cases
// and whose other outputs mix them; widths that leave every vector tail, K = 0 and K = 1.
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include <doctest/doctest.h>

#include "exact/adversarial_vectors.h"
#include "exact/dot.h"
#include "exact/gemm.h"

using namespace fpaudit;
using namespace fpaudit::testing;

namespace {

bool same(double a, double b) {
  std::uint64_t x, y;
  std::memcpy(&x, &a, 8);
  std::memcpy(&y, &b, 8);
  return x == y || (std::isnan(a) && std::isnan(b));
}

/// M cases of one family as the rows of W (their w) and the columns of X (their x), padded
/// with exact zeros to one length; compares every output with exact::dot. Returns mismatches.
long check_family(Family f, bool f32, long cases, std::size_t length, std::mt19937_64& rng) {
  std::vector<DotCase> c;
  std::size_t K = 0;
  for (long i = 0; i < cases; ++i) {
    c.push_back(make_case(f, length, f32, rng));
    K = std::max(K, c.back().x.size());
  }
  const long M = cases, N = cases, k = static_cast<long>(K);
  std::vector<double> W(M * K, 0.0), X(K * N, 0.0), bias(M), Y(M * N);
  for (long i = 0; i < M; ++i) {
    for (std::size_t j = 0; j < c[i].w.size(); ++j) W[i * K + j] = c[i].w[j];
    for (std::size_t j = 0; j < c[i].x.size(); ++j) X[j * N + i] = c[i].x[j];
    bias[i] = c[i].bias;
  }
  exact::gemm(M, N, k, W.data(), k, X.data(), N, bias.data(), Y.data(), N);
  long mismatches = 0;
  std::vector<double> column(K);
  for (long m = 0; m < M; ++m)
    for (long n = 0; n < N; ++n) {
      for (long j = 0; j < k; ++j) column[j] = X[j * N + n];
      const double expected = exact::dot(std::span<const double>(W.data() + m * K, K), std::span<const double>(column), bias[m]);
      if (!same(Y[m * N + n], expected)) ++mismatches;
    }
  return mismatches;
}

}  // namespace

TEST_CASE("exact::gemm equals exact::dot for every adversarial family") {
  INFO("vector path: " << exact::gemm_vectorised());
  std::mt19937_64 rng(20240612);
  for (const Family f : kAllFamilies)
    for (const bool f32 : {false, true}) {
      if (f32 && !has_f32_variant(f)) continue;
      for (int round = 0; round < 5; ++round)
        for (const long cases : {1L, 7L, 13L, 33L}) {
          INFO(family_name(f) << (f32 ? " (binary32)" : "") << ", " << cases << " cases");
          CHECK(check_family(f, f32, cases, draw_length(rng, 300), rng) == 0);
        }
    }
}

TEST_CASE("exact::gemm: empty sums, one term, no bias, signed zeros") {
  const std::vector<double> W = {-0.0, 2.0, -3.0}, X = {-0.0, 0.0, 1.5, -0.0, 0.5, 1e300, -1e300, 4.0, -0.0};
  std::vector<double> Y(9);
  // K = 0: every output is the bias (or +0 without one), as exact::dot of empty vectors.
  const double bias[3] = {-0.0, 1.0, -2.5};
  exact::gemm(3, 3, 0, W.data(), 0, X.data(), 3, bias, Y.data(), 3);
  for (int m = 0; m < 3; ++m)
    for (int n = 0; n < 3; ++n) CHECK(same(Y[m * 3 + n], exact::dot(std::span<const double>(), std::span<const double>(), bias[m])));
  exact::gemm(3, 3, 0, W.data(), 0, X.data(), 3, nullptr, Y.data(), 3);
  for (const double y : Y) CHECK(same(y, 0.0));
  // K = 1: one product each, with signed zeros and huge values.
  exact::gemm(3, 9, 1, W.data(), 1, X.data(), 9, nullptr, Y.data(), 9);
  for (int m = 0; m < 3; ++m)
    for (int n = 0; n < 9; ++n)
      CHECK(same(Y[m * 9 + n], exact::dot(std::span<const double>(&W[m], 1), std::span<const double>(&X[n], 1))));
}

TEST_CASE("exact::gemm: NaN and infinities as exact::dot") {
  const double inf = INFINITY, nan = NAN;
  const std::vector<double> W = {1.0, inf, 0.0, -inf, 2.0, 3.0};
  const std::vector<double> X = {1.0, nan, inf, 0.0, -inf, 2.0, 5.0, 1.0, -1.0, 0.0, 7.0, 1e308};
  std::vector<double> Y(12);
  exact::gemm(3, 6, 2, W.data(), 2, X.data(), 6, nullptr, Y.data(), 6);
  for (int m = 0; m < 3; ++m)
    for (int n = 0; n < 6; ++n) {
      const double x[2] = {X[n], X[6 + n]};
      CHECK(same(Y[m * 6 + n], exact::dot(std::span<const double>(&W[2 * m], 2), std::span<const double>(x, 2))));
    }
}
