// The host emulation of tensor-core accumulation (core/tensor_core_block.h): hand-worked
// blocks where alignment, truncation, block size, extra alignment bits and the binary16 output
// rounding each decide the result, the special values, and the chains that use it.
#include <cmath>
#include <limits>
#include <vector>

#include <doctest/doctest.h>

#include "core/accumulators.h"
#include "core/chain_arithmetic.h"

using namespace fpaudit;

namespace {

/// The tensor-core result of Σ x_i·w_i with binary32 (or binary16) accumulators.
float tc_dot(const std::vector<acc::Term>& t, int block, int extra = 0, bool binary16_acc = false) {
  auto terms = [&](long i) { return t[static_cast<std::size_t>(i)]; };
  const DotSchedule s = DotSchedule::tensor_core(block, extra);
  const long n = static_cast<long>(t.size());
  return binary16_acc ? accumulate(acc::Binary16Fma{}, s, n, terms) : accumulate(acc::Binary32Fma{}, s, n, terms);
}
float ffma_dot(const std::vector<acc::Term>& t) {
  return accumulate(acc::Binary32Fma{}, DotSchedule::sequential(), static_cast<long>(t.size()),
                    [&](long i) { return t[static_cast<std::size_t>(i)]; });
}
const float kTwo23 = std::ldexp(1.0f, -23);

}  // namespace

TEST_CASE("a small addend below the alignment point is cut off, not rounded") {
  // 1 + 0.75·2^-23 (the second product is 3·2^-13 × 2^-12, both binary16). Aligned to 1's
  // exponent, the last bit kept weighs 2^-23, so 0.75·2^-23 truncates to 0: the tensor core
  // returns 1. An FMA chain rounds the exact sum to nearest: 1 + 2^-23.
  const std::vector<acc::Term> t = {{1.0f, 1.0f}, {3 * std::ldexp(1.0f, -13), std::ldexp(1.0f, -12)}};
  CHECK(tc_dot(t, 4) == 1.0f);
  CHECK(ffma_dot(t) == 1.0f + kTwo23);
}

TEST_CASE("truncation is toward zero for negative addends too") {
  // 1 − 0.75·2^-23: the negative addend is cut to 0 (sign and magnitude), so the result is 1;
  // a two's-complement truncation (toward −∞) would give 1 − 2^-23 after normalisation.
  const std::vector<acc::Term> t = {{1.0f, 1.0f}, {-3 * std::ldexp(1.0f, -13), std::ldexp(1.0f, -12)}};
  CHECK(tc_dot(t, 4) == 1.0f);
}

TEST_CASE("the block sum is normalised toward zero") {
  // The accumulator 1 + 3·2^-23 (a binary32 value entering the next block) plus the product 1:
  // S = 2 + 3·2^-23 exactly; binary32 spacing in [2, 4) is 2^-22, so truncation gives 2 + 2^-22,
  // where round-to-nearest would give 2 + 2^-21 (1.5 ulp is a tie, to even).
  const std::vector<acc::Term> t = {{1.0f + 3 * kTwo23, 1.0f}, {1.0f, 1.0f}};
  CHECK(tc_dot(t, 1) == 2.0f + 2 * kTwo23);  // block 1: the first term alone, then c = it
  CHECK(ffma_dot(t) == 2.0f + 4 * kTwo23);
}

TEST_CASE("the block size decides which addends are aligned together") {
  // Four products of 0.75·2^-23 then a product of 1. Blocks of 4: the small ones add exactly
  // (3·2^-23), then the next block aligns 1 and 3·2^-23 at 2^-23 and keeps both: 1 + 3·2^-23.
  // A block of 8 aligns all five to 1's exponent: every small one is cut, the result is 1.
  const acc::Term small{3 * std::ldexp(1.0f, -13), std::ldexp(1.0f, -12)};
  const std::vector<acc::Term> t = {small, small, small, small, {1.0f, 1.0f}};
  CHECK(tc_dot(t, 4) == 1.0f + 3 * kTwo23);
  CHECK(tc_dot(t, 8) == 1.0f);
}

TEST_CASE("extra alignment bits keep what binary32's 23 would cut") {
  // 1 + 2·(0.75·2^-23): with F = 23 both small addends are cut (result 1); with F = 25 they
  // are kept (0.75·2^-23 = 3·2^-25), the exact sum 1 + 1.5·2^-23 truncates to 1 + 2^-23.
  const acc::Term small{3 * std::ldexp(1.0f, -13), std::ldexp(1.0f, -12)};
  const std::vector<acc::Term> t = {{1.0f, 1.0f}, small, small};
  CHECK(tc_dot(t, 4, 0) == 1.0f);
  CHECK(tc_dot(t, 4, 2) == 1.0f + kTwo23);
}

TEST_CASE("binary16 accumulators: truncation to binary32, then to nearest binary16") {
  // 1 + 2^-11 + 0.75·2^-23: the small addend is cut, 1 + 2^-11 is a binary16 tie that goes to
  // even (1). Rounding the exact sum once to binary16 would give 1 + 2^-10.
  const std::vector<acc::Term> t = {{1.0f, 1.0f}, {std::ldexp(1.0f, -11), 1.0f}, {3 * std::ldexp(1.0f, -13), std::ldexp(1.0f, -12)}};
  CHECK(tc_dot(t, 4, 0, true) == 1.0f);
  // Above the tie: 1 + 2^-11 + 2^-22 keeps the 2^-22 (a multiple of 2^-23) and rounds up.
  const std::vector<acc::Term> up = {{1.0f, 1.0f}, {std::ldexp(1.0f, -11), 1.0f}, {std::ldexp(1.0f, -11), std::ldexp(1.0f, -11)}};
  CHECK(tc_dot(up, 4, 0, true) == 1.0f + std::ldexp(1.0f, -10));
}

TEST_CASE("alignment happens before cancellation: no normalisation between addends") {
  // 4096 − 4096 + 2^-10·(1 + 2^-10): E = 12, so the small addend loses its bits below 2^-11
  // even though the big ones cancel exactly: the result is 2^-10. The FMA chain keeps all.
  const float small = std::ldexp(1.0f, -10) * (1.0f + std::ldexp(1.0f, -10));
  const std::vector<acc::Term> t = {{4096.0f, 1.0f}, {-4096.0f, 1.0f}, {small, 1.0f}};
  CHECK(tc_dot(t, 4) == std::ldexp(1.0f, -10));
  CHECK(ffma_dot(t) == small);
}

TEST_CASE("special values and zeros follow IEEE addition") {
  const float inf = std::numeric_limits<float>::infinity();
  CHECK(tc_dot({{inf, 1.0f}, {1.0f, 1.0f}}, 4) == inf);
  CHECK(std::isnan(tc_dot({{inf, 1.0f}, {-inf, 1.0f}}, 4)));
  CHECK(std::isnan(tc_dot({{std::nanf(""), 1.0f}, {1.0f, 1.0f}}, 4)));
  CHECK(std::isnan(tc_dot({{inf, 0.0f}}, 4)));
  // Only zeros: their IEEE sum with the initial +0 accumulator, +0 (as the FMA chain gives).
  const float zero = tc_dot({{-0.0f, 1.0f}, {0.0f, -1.0f}}, 4);
  CHECK((zero == 0.0f && !std::signbit(zero)));
  CHECK(!std::signbit(tc_dot({{1.0f, 1.0f}, {-1.0f, 1.0f}}, 4)));  // exact cancellation: +0
  CHECK(tc_dot({}, 4) == 0.0f);
}

TEST_CASE("rounding toward zero to binary32 at the edges") {
  CHECK(tc::round_toward_zero_binary32(1.0 + 0x1p-24) == 1.0f);
  CHECK(tc::round_toward_zero_binary32(-(1.0 + 0x1.8p-23)) == -(1.0f + kTwo23));
  CHECK(tc::round_toward_zero_binary32(0x1p-160) == 0.0f);                                 // below every subnormal
  CHECK(tc::round_toward_zero_binary32(0x1.fp-149) == std::ldexp(1.0f, -149));              // subnormal, truncated
  CHECK(tc::round_toward_zero_binary32(0x1p200) == std::numeric_limits<float>::max());      // overflow saturates
  CHECK(std::isnan(tc::round_toward_zero_binary32(std::nan(""))));
}

TEST_CASE("tensor-core chains: parsed, refused where the model does not apply, dot equals the emulation") {
  const ChainArithmetic mixed(parse_chain("fp16-acc32@tensor-core-4"));
  const ChainArithmetic half(parse_chain("fp16@tensor-core"));
  CHECK(half.schedule() == DotSchedule::tensor_core(8));
  CHECK_THROWS_AS(ChainArithmetic(parse_chain("bf16@tensor-core-8")), std::invalid_argument);
  CHECK_NOTHROW(ChainArithmetic(parse_chain("bf16-acc32@tensor-core-8")));
  // The "block size" example through the chain's dot product.
  const double small_x = 3 * std::ldexp(1.0, -13), small_w = std::ldexp(1.0, -12);
  const std::vector<double> x = {small_x, small_x, small_x, small_x, 1.0}, w = {small_w, small_w, small_w, small_w, 1.0};
  CHECK(mixed.dot(x.data(), 1, w.data(), 1, 5) == 1.0 + 3 * 0x1p-23);
  // GEMM takes the scalar path (no vector form) and equals dot + bias.
  const std::vector<double> W = x, X = w, bias = {0.5};
  std::vector<double> Y(1);
  mixed.gemm({1, 1, 5, W.data(), 5, X.data(), 1, bias.data(), Y.data(), 1, false});
  CHECK(Y[0] == static_cast<float>(1.0f + 3 * kTwo23) + 0.5f);
}
