// Einsum (issue #15): the equation's grammar (explicit and implicit outputs, repeated letters
// for diagonals, ellipsis with broadcasting), values hand-computed and checked in every
// arithmetic that holds them, a refusal per malformed equation, and the bound (ReduceSum's rule
// for one operand, the dot-product rule for two or more) checked on every element in every chain.
#include <cmath>

#include <doctest/doctest.h>

#include "bound_check.h"
#include "core/reference_arithmetic.h"
#include "op_test_support.h"

using namespace fpaudit;
using namespace fpaudit::test;

namespace {

using Ints = std::vector<std::int64_t>;

ModelBuilder einsum1(const std::string& eq, const Ints& x) {
  ModelBuilder m(12);
  m.input("x", kFloat, x).output("y");
  set_attr(m.node("Einsum", {"x"}, {"y"}), "equation", eq);
  return m;
}

ModelBuilder einsum2(const std::string& eq, const Ints& a, const Ints& b) {
  ModelBuilder m(12);
  m.input("a", kFloat, a).input("b", kFloat, b).output("y");
  set_attr(m.node("Einsum", {"a", "b"}, {"y"}), "equation", eq);
  return m;
}

std::vector<double> iota(int n, double start = 1) {
  std::vector<double> v;
  for (int i = 0; i < n; ++i) v.push_back(start + i);
  return v;
}

}  // namespace

TEST_CASE("Einsum: a matrix product, explicit and implicit") {
  // [[1 2 3] [4 5 6]] · [[1 2] [3 4] [5 6]] = [[22 28] [49 64]].
  const std::vector<Feed> in = {{{2, 3}, iota(6)}, {{3, 2}, iota(6)}};
  CHECK(first_output_shape(einsum2("ij,jk->ik", {2, 3}, {3, 2}), in) == Shape{2, 2});
  check_all_exact(einsum2("ij,jk->ik", {2, 3}, {3, 2}), in, {22, 28, 49, 64});
  check_all_exact(einsum2("ij,jk", {2, 3}, {3, 2}), in, {22, 28, 49, 64});  // implicit: i, k once
  check_all_exact(einsum2("ij,jk->ki", {2, 3}, {3, 2}), in, {22, 49, 28, 64});
  // Spaces are ignored.
  check_all_exact(einsum2(" ij , jk -> ik ", {2, 3}, {3, 2}), in, {22, 28, 49, 64});
}

TEST_CASE("Einsum with one operand: transposes, sums, diagonals and traces") {
  const std::vector<Feed> x = {{{2, 3}, iota(6)}};
  check_all_exact(einsum1("ij->ji", {2, 3}), x, {1, 4, 2, 5, 3, 6});
  check_all_exact(einsum1("ji", {2, 3}), x, {1, 4, 2, 5, 3, 6});  // implicit output "ij": a transpose
  check_all_exact(einsum1("ij->i", {2, 3}), x, {6, 15});
  check_all_exact(einsum1("ij->", {2, 3}), x, {21});
  const std::vector<Feed> sq = {{{3, 3}, iota(9)}};
  check_all_exact(einsum1("ii->i", {3, 3}), sq, {1, 5, 9});
  check_all_exact(einsum1("ii", {3, 3}), sq, {15});  // a repeated letter is summed: the trace
  // A batch of diagonals (ONNX's test_einsum_batch_diagonal): "...ii->...i".
  const std::vector<Feed> batch = {{{2, 2, 2}, iota(8)}};
  check_all_exact(einsum1("...ii->...i", {2, 2, 2}), batch, {1, 4, 5, 8});
  check_all_exact(einsum1("bii->bi", {2, 2, 2}), batch, {1, 4, 5, 8});
}

TEST_CASE("Einsum: ellipsis axes broadcast, aligned on the right, and come first in implicit outputs") {
  // a [2, 1, 2, 2] against b [3, 2, 1]: the batch axes [2, 1] and [3] broadcast to [2, 3].
  const std::vector<Feed> in = {{{2, 1, 2, 2}, iota(8)}, {{3, 2, 1}, iota(6)}};
  CHECK(first_output_shape(einsum2("...ij,...jk->...ik", {2, 1, 2, 2}, {3, 2, 1}), in) == Shape{2, 3, 2, 1});
  // Batch (0, c): [[1 2] [3 4]] · b_c; b_0 = (1, 2), b_1 = (3, 4), b_2 = (5, 6).
  check_all_exact(einsum2("...ij,...jk->...ik", {2, 1, 2, 2}, {3, 2, 1}), in,
                  {5, 11, 11, 25, 17, 39, 17, 23, 39, 53, 61, 83});
  check_all_exact(einsum2("...ij,...jk", {2, 1, 2, 2}, {3, 2, 1}), in, {5, 11, 11, 25, 17, 39, 17, 23, 39, 53, 61, 83});
  // Inner and outer products.
  const std::vector<Feed> v = {{{3}, iota(3)}, {{3}, iota(3, 4)}};
  check_all_exact(einsum2("i,i", {3}, {3}), v, {32});
  check_all_exact(einsum2("i,j->ij", {3}, {3}), v, {4, 5, 6, 8, 10, 12, 12, 15, 18});
}

TEST_CASE("Einsum sums in one fixed order, by the chain's schedule: binary16 loses 1 + 1 against 2048") {
  // Σ (2048, 1, 1) with a: fp16 rounds 2048 + 1 back to 2048 twice; fp16-acc32 keeps 2050.
  const std::vector<Feed> in = {{{3}, {2048, 1, 1}}, {{3}, {1, 1, 1}}};
  const auto m = einsum2("i,i->", {3}, {3});
  CHECK(run_first(m, in, *make_chain_arithmetic(parse_chain("fp16")))[0] == 2048);
  CHECK(run_first(m, in, *make_chain_arithmetic(parse_chain("fp16-acc32")))[0] == 2050);
  CHECK(run_first(m, in, *make_reference_arithmetic("exact"))[0] == 2050);
}

TEST_CASE("Einsum refuses what it cannot read with one line naming the problem") {
  const std::vector<Feed> x = {{{2, 3}, iota(6)}};
  CHECK(refusal(einsum1("ijk->i", {2, 3}), x).find("rank 2, but its term names 3 axes") != std::string::npos);
  CHECK(refusal(einsum1("ij->k", {2, 3}), x).find("names a letter no operand has") != std::string::npos);
  CHECK(refusal(einsum1("i1->i", {2, 3}), x).find("not a letter") != std::string::npos);
  CHECK(refusal(einsum1("ij,jk->ik", {2, 3}), x).find("2 operand terms for 1 inputs") != std::string::npos);
  const std::vector<Feed> in = {{{2, 3}, iota(6)}, {{2, 2}, iota(4)}};
  CHECK(refusal(einsum2("ij,jk->ik", {2, 3}, {2, 2}), in).find("axis 0 has extent 2, where the equation's label has 3") != std::string::npos);
}

ModelBuilder einsum3(const std::string& eq, const Ints& a, const Ints& b, const Ints& c) {
  ModelBuilder m(12);
  m.input("a", kFloat, a).input("b", kFloat, b).input("c", kFloat, c).output("y");
  set_attr(m.node("Einsum", {"a", "b", "c"}, {"y"}), "equation", eq);
  return m;
}

TEST_CASE("Einsum with three operands: the first two factors multiplied (rounded into A), then a dot product") {
  // A bilinear form a_i·B_ij·c_j: (1, 2)·[[1 2] [3 4]]·(5, 6) = 1·1·5 + 1·2·6 + 2·3·5 + 2·4·6 = 95.
  const std::vector<Feed> in = {{{2}, iota(2)}, {{2, 2}, iota(4)}, {{2}, iota(2, 5)}};
  check_all_exact(einsum3("i,ij,j->", {2}, {2, 2}, {2}), in, {95});
  // A chain of matrix products and an elementwise triple product.
  const std::vector<Feed> mats = {{{2, 2}, iota(4)}, {{2, 2}, iota(4)}, {{2, 2}, {1, 0, 0, 1}}};
  check_all_exact(einsum3("ij,jk,kl->il", {2, 2}, {2, 2}, {2, 2}), mats, {7, 10, 15, 22});
  check_all_exact(einsum3("i,i,i->i", {3}, {3}, {3}), {{{3}, iota(3)}, {{3}, iota(3)}, {{3}, iota(3)}}, {1, 8, 27});
  // The bound covers the products' roundings: 3-factor terms in every chain.
  check_bounds_every_chain(einsum3("bi,ij,bj->b", {3, 6}, {6, 5}, {3, 5}), {{{3, 6}, sweep(18)}, {{6, 5}, sweep(30, 0.4)}, {{3, 5}, sweep(15, 1.9)}});
  check_bounds_every_chain(einsum3("i,i,i->i", {24}, {24}, {24}), {{{24}, sweep(24)}, {{24}, sweep(24, 0.4)}, {{24}, sweep(24, 1.9)}});
}

TEST_CASE("Einsum's bounds hold on every element in every chain") {
  check_bounds_every_chain(einsum2("bij,bjk->bik", {2, 3, 5}, {2, 5, 4}), {{{2, 3, 5}, sweep(30)}, {{2, 5, 4}, sweep(40, 0.2)}});
  check_bounds_every_chain(einsum2("...ij,...kj->...ik", {2, 1, 3, 6}, {4, 2, 6}), {{{2, 1, 3, 6}, sweep(36)}, {{4, 2, 6}, sweep(48, 1.1)}});
  check_bounds_every_chain(einsum2("ii,i->i", {4, 4}, {4}), {{{4, 4}, sweep(16)}, {{4}, sweep(4, 2.0)}});
  check_bounds_every_chain(einsum1("ijk->ki", {3, 7, 2}), {{{3, 7, 2}, sweep(42)}});
  check_bounds_every_chain(einsum1("bii", {3, 4, 4}), {{{3, 4, 4}, sweep(48)}});
  // A long dot product in binary16: the bound is nonzero and covers the error.
  const BoundCheck b = check_bounds(einsum2("i,i->", {256}, {256}), {{{256}, sweep(256)}, {{256}, sweep(256, 0.3)}},
                                    *make_chain_arithmetic(parse_chain("fp16")));
  CHECK(b.violations == 0);
  CHECK(b.last_bound[0] > b.last_error[0]);
  CHECK(b.last_error[0] > 0);
}
