// Reductions and activations added for runtime data beyond the exact ones: ReduceL1,
// ReduceSumSquare and ReduceL2 (sums by the chain's schedule, like ReduceSum) and
// ThresholdedRelu (a selection with a jump at alpha). Values in every arithmetic that holds
// them, and the bound on every element in every chain.
#include <cmath>

#include <doctest/doctest.h>

#include "bound_check.h"
#include "core/reference_arithmetic.h"
#include "op_test_support.h"

using namespace fpaudit;
using namespace fpaudit::test;

namespace {

ModelBuilder reduce(const std::string& op, const std::vector<std::int64_t>& shape, const std::vector<std::int64_t>& axes) {
  ModelBuilder m(13);
  m.input("x", kFloat, shape).output("y");
  set_attr(m.node(op, {"x"}, {"y"}), "axes", axes);
  return m;
}

}  // namespace

TEST_CASE("ReduceL1, ReduceSumSquare and ReduceL2 over axis 1") {
  const std::vector<Feed> x = {{{2, 3, 2}, {1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12}}};
  CHECK(first_output_shape(reduce("ReduceL1", {2, 3, 2}, {1}), x) == Shape{2, 1, 2});
  check_all_exact(reduce("ReduceL1", {2, 3, 2}, {1}), x, {9, 12, 27, 30});
  check_all_exact(reduce("ReduceSumSquare", {2, 3, 2}, {1}), x, {35, 56, 251, 308});
  check_all_exact(reduce("ReduceL2", {2, 2}, {1}), {{{2, 2}, {3, -4, 6, 8}}}, {5, 10});
  // √35 is rounded once, from the exact sum in the references and binary32.
  CHECK(run_first(reduce("ReduceL2", {2, 3, 2}, {1}), x, *make_reference_arithmetic("exact"))[0] == std::sqrt(35.0));
  // log(e^0 + e^0) = log 2 in the exact reference, rounded once.
  CHECK(run_first(reduce("ReduceLogSumExp", {1, 2}, {1}), {{{1, 2}, {0, 0}}}, *make_reference_arithmetic("exact"))[0] ==
        std::log(2.0));
  for (const char* op : {"ReduceL1", "ReduceSumSquare", "ReduceL2", "ReduceLogSumExp"}) {
    INFO(op);
    check_bounds_every_chain(reduce(op, {4, 10}, {1}), {{{4, 10}, sweep(40, 0.7, 4, -1)}});
    check_bounds_every_chain(reduce(op, {2, 4, 5}, {0, 2}), {{{2, 4, 5}, sweep(40, 0.7, 4, -1)}});
  }
}

TEST_CASE("ReduceSumSquare sums by the chain's schedule: 256 + 1 + 1 + ... in binary16") {
  // Squares 256, 1, 1, 1, 1 summed in order: binary16 reaches 260 exactly; bfloat16 (8 bits)
  // rounds each 256 + 1 back to 256 (a tie, to even), so its sum stays 256; a binary32
  // accumulator gives 260 again.
  const std::vector<Feed> x = {{{1, 5}, {16, 1, 1, 1, 1}}};
  const ModelBuilder m = reduce("ReduceSumSquare", {1, 5}, {1});
  CHECK(run_first(m, x, *make_chain_arithmetic(parse_chain("fp16")))[0] == 260);
  CHECK(run_first(m, x, *make_chain_arithmetic(parse_chain("bf16")))[0] == 256);
  CHECK(run_first(m, x, *make_chain_arithmetic(parse_chain("bf16-acc32")))[0] == 260);
  const BoundCheck b = check_bounds(m, x, *make_chain_arithmetic(parse_chain("bf16")));
  CHECK(b.violations == 0);
  CHECK(b.last_error[0] == 4);
  CHECK(b.last_bound[0] >= 4);
}

TEST_CASE("ReduceProd multiplies in row-major order, each product rounded into the accumulator") {
  const std::vector<Feed> x = {{{2, 3}, {1, 2, 3, -4, 0.5, 2}}};
  check_all_exact(reduce("ReduceProd", {2, 3}, {1}), x, {6, -4});
  check_all_exact(reduce("ReduceProd", {2, 3}, {0}), x, {-4, 1, 6});
  // (1 + 2^-8)·(1 + 2^-8) = 1 + 2^-7 + 2^-16: binary16 (11 bits) rounds it to 1 + 2^-7; the
  // exact reference keeps it; both within their bounds.
  const std::vector<Feed> close = {{{1, 2}, {1 + 0x1p-8, 1 + 0x1p-8}}};
  const ModelBuilder m = reduce("ReduceProd", {1, 2}, {1});
  CHECK(run_first(m, close, *make_chain_arithmetic(parse_chain("fp16")))[0] == 1 + 0x1p-7);
  CHECK(run_first(m, close, *make_reference_arithmetic("exact"))[0] == 1 + 0x1p-7 + 0x1p-16);
  const BoundCheck b = check_bounds(m, close, *make_chain_arithmetic(parse_chain("fp16")));
  CHECK(b.violations == 0);
  CHECK(b.last_bound[0] >= 0x1p-16);
  CHECK(b.last_bound[0] < 0x1p-9);
  check_bounds_every_chain(reduce("ReduceProd", {4, 10}, {1}), {{{4, 10}, sweep(40, 0.7, 4, -1)}});
  check_bounds_every_chain(reduce("ReduceProd", {2, 4, 5}, {0, 2}), {{{2, 4, 5}, sweep(40, 0.7, 4, -1)}});
}

TEST_CASE("ThresholdedRelu keeps x above alpha, and its jump is bounded honestly") {
  ModelBuilder m(13);
  m.input("x", kFloat, {5}).output("y");
  m.node("ThresholdedRelu", {"x"}, {"y"});  // alpha = 1
  check_all_exact(m, {{{5}, {0.5, 1, 1.5, -3, 2}}}, {0, 0, 1.5, 0, 2});
  check_bounds_every_chain(m, {{{5}, {0.5, 1 + 0x1p-12, 1.5, -3, 2.2}}});
  // 1 + 2^-12 rounds to 1 in binary16: the chain gives 0 where the exact value is 1 + 2^-12.
  const auto fp16 = make_chain_arithmetic(parse_chain("fp16"));
  const BoundCheck b = check_bounds(m, {{{5}, {0.5, 1 + 0x1p-12, 1.5, -3, 2.2}}}, *fp16);
  CHECK(b.violations == 0);
  CHECK(b.last_error[1] == 1 + 0x1p-12);
  CHECK(b.last_bound[1] >= 1 + 0x1p-12);
  CHECK(b.last_bound[1] < 1.001);
  CHECK(b.last_bound[0] == 0);
  CHECK(b.last_bound[2] == 0);
  ModelBuilder a(13);
  a.input("x", kFloat, {40}).output("y");
  set_attr(a.node("ThresholdedRelu", {"x"}, {"y"}), "alpha", 0.3f);
  check_bounds_every_chain(a, {{{40}, sweep(40, 0.7, 4, -1)}});
}

TEST_CASE("Elu, Selu, Celu and Softplus: one rounding of their binary64 value, bounded in every chain") {
  auto act = [](const std::string& op, int n) {
    ModelBuilder m(13);
    m.input("x", kFloat, {n}).output("y");
    m.node(op, {"x"}, {"y"});
    return m;
  };
  // The identity branch: exact in every arithmetic.
  check_all_exact(act("Elu", 3), {{{3}, {1, 0, 2.5}}}, {1, 0, 2.5});
  check_all_exact(act("Celu", 3), {{{3}, {1, 0, 2.5}}}, {1, 0, 2.5});
  // The exponential branch in the exact reference and in binary16.
  const auto exact = make_reference_arithmetic("exact");
  const auto fp16 = make_chain_arithmetic(parse_chain("fp16"));
  CHECK(run_first(act("Elu", 1), {{{1}, {-1}}}, *exact)[0] == std::expm1(-1.0));
  CHECK(run_first(act("Elu", 1), {{{1}, {-1}}}, *fp16)[0] == -0.63232421875);  // RN16(e^-1 - 1 = -0.6321205...)
  CHECK(run_first(act("Softplus", 1), {{{1}, {0}}}, *exact)[0] == std::log1p(1.0));
  CHECK(run_first(act("Softplus", 1), {{{1}, {0}}}, *fp16)[0] == 0.693359375);  // RN16(log 2 = 0.6931471...) = 1420·2^-11
  CHECK(run_first(act("Softplus", 1), {{{1}, {800}}}, *exact)[0] == 800);  // no overflow of exp
  std::vector<double> x = sweep(40, 0.7, 4, -1);
  for (double& v : x) v *= 4;
  for (const char* op : {"Elu", "Selu", "Celu", "Softplus"}) {
    INFO(op);
    check_bounds_every_chain(act(op, 40), {{{40}, x}});
  }
  ModelBuilder celu(13);
  celu.input("x", kFloat, {40}).output("y");
  set_attr(celu.node("Celu", {"x"}, {"y"}), "alpha", 0.3f);
  check_bounds_every_chain(celu, {{{40}, x}});
}
