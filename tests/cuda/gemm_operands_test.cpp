// The device GEMM's operand packing, on the host: ChainArithmetic::gemm addresses W and X
// through row strides and element steps (Gemm with transA/transB, MatMul on transposed views,
// im2col columns); the packed dense binary16 operands must hold exactly the elements w_at/x_at
// address, so that the host GEMM on the packed operands gives the same bits as on the strided
// ones. (device_chain.cpp once read both operands as if their steps were 1.)
#include <cstdint>
#include <random>
#include <vector>

#include <doctest/doctest.h>

#include "cuda/gemm_operands.h"
#include "format/binary16.h"
#include "core/arithmetic.h"

using namespace fpaudit;

namespace {

// A binary16 value, stored as binary64 (what the fp16 chains hold).
double random_half(std::mt19937_64& rng) {
  std::uniform_real_distribution<float> d(-4.0f, 4.0f);
  return static_cast<double>(b16::to_float(b16::from_float(d(rng))));
}

struct Layout {
  bool w_transposed, x_transposed;
};

}  // namespace

TEST_CASE("packed GEMM operands are the strided ones, for every transposition") {
  const long M = 5, N = 7, K = 11;
  std::mt19937_64 rng(20261204);
  const auto arithmetic = make_chain_arithmetic(parse_chain("fp16-acc32"));
  for (const Layout layout : {Layout{false, false}, Layout{true, false}, Layout{false, true}, Layout{true, true}}) {
    INFO("W transposed ", layout.w_transposed, ", X transposed ", layout.x_transposed);
    // Storage with padding in every stride, so that a wrong stride reads a different value.
    std::vector<double> w_store(static_cast<std::size_t>((M + 3) * (K + 3))), x_store(static_cast<std::size_t>((K + 3) * (N + 3)));
    for (double& v : w_store) v = random_half(rng);
    for (double& v : x_store) v = random_half(rng);
    std::vector<double> bias(M);
    for (double& b : bias) b = random_half(rng) / 3.0;  // not a binary16 value: rounded by the packing

    GemmArgs g;
    g.M = M, g.N = N, g.K = K;
    g.W = w_store.data();
    if (layout.w_transposed) g.ldw = 1, g.w_step = M + 3;  // W(m, k) at k*(M+3) + m
    else g.ldw = K + 3, g.w_step = 1;
    g.X = x_store.data();
    if (layout.x_transposed) g.ldx = 1, g.x_step = K + 3;  // X(k, n) at n*(K+3) + k
    else g.ldx = N + 3, g.x_step = 1;
    g.bias = bias.data();

    const cuda::PackedGemmOperands p = cuda::pack_gemm_operands(g, *arithmetic);
    REQUIRE(p.w.size() == static_cast<std::size_t>(M * K));
    REQUIRE(p.x.size() == static_cast<std::size_t>(K * N));
    REQUIRE(p.bias.size() == static_cast<std::size_t>(M));
    for (long m = 0; m < M; ++m)
      for (long k = 0; k < K; ++k) CHECK(static_cast<double>(b16::to_float(p.w[m * K + k])) == g.w_at(m, k));
    for (long k = 0; k < K; ++k)
      for (long n = 0; n < N; ++n) CHECK(static_cast<double>(b16::to_float(p.x[k * N + n])) == g.x_at(k, n));
    for (long m = 0; m < M; ++m) CHECK(static_cast<double>(p.bias[m]) == arithmetic->round(bias[m], Target::Accumulator));

    // The host GEMM on the dense packed operands computes the strided GEMM's bits.
    std::vector<double> w_dense(p.w.size()), x_dense(p.x.size());
    for (std::size_t i = 0; i < p.w.size(); ++i) w_dense[i] = b16::to_float(p.w[i]);
    for (std::size_t i = 0; i < p.x.size(); ++i) x_dense[i] = b16::to_float(p.x[i]);
    std::vector<double> y_strided(static_cast<std::size_t>(M * N)), y_dense(y_strided.size());
    GemmArgs dense = g;
    dense.W = w_dense.data(), dense.ldw = K, dense.w_step = 1;
    dense.X = x_dense.data(), dense.ldx = N, dense.x_step = 1;
    g.Y = y_strided.data(), g.ldy = N;
    dense.Y = y_dense.data(), dense.ldy = N;
    arithmetic->gemm(g);
    arithmetic->gemm(dense);
    for (std::size_t i = 0; i < y_dense.size(); ++i) CHECK(y_dense[i] == y_strided[i]);
  }
}

TEST_CASE("an empty GEMM packs to empty operands; a null bias packs to none") {
  const auto arithmetic = make_chain_arithmetic(parse_chain("fp16"));
  GemmArgs g;
  g.M = 3, g.N = 0, g.K = 0;
  const cuda::PackedGemmOperands p = cuda::pack_gemm_operands(g, *arithmetic);
  CHECK(p.w.empty());
  CHECK(p.x.empty());
  CHECK(p.bias.empty());
}
