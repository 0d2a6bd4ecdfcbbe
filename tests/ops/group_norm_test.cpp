// InstanceNormalization, GroupNormalization (opset 18: scale per group; opset 21: per channel),
// LRN and LpNormalization (issue #15): rows whose statistics are exact, hand-computed values in
// every arithmetic that holds them, the reference to binary64 accuracy, refusals naming the
// problem, and the bounds checked on every element in every chain.
#include <cmath>

#include <doctest/doctest.h>

#include "bound_check.h"
#include "core/reference_arithmetic.h"
#include "op_test_support.h"

using namespace fpaudit;
using namespace fpaudit::test;

namespace {

using Ints = std::vector<std::int64_t>;

/// X [N, C, L]; scale and bias of `params` values: (1, 2, ...) and (0.5, -0.5, ...).
ModelBuilder group_norm(const std::string& op, std::int64_t opset, const Ints& x, std::int64_t groups, std::int64_t params,
                        float epsilon) {
  ModelBuilder m(opset);
  m.input("x", kFloat, x).output("y");
  std::vector<float> s, b;
  for (std::int64_t i = 0; i < params; ++i) {
    s.push_back(static_cast<float>(i + 1));
    b.push_back(i % 2 == 0 ? 0.5f : -0.5f);
  }
  m.initializer(float_tensor("s", {params}, s));
  m.initializer(float_tensor("b", {params}, b));
  auto& n = m.node(op, {"x", "s", "b"}, {"y"});
  set_attr(n, "epsilon", epsilon);
  if (op == "GroupNormalization") set_attr(n, "num_groups", groups);
  return m;
}

ModelBuilder lrn(const Ints& x, std::int64_t size, float alpha, float beta, float bias) {
  ModelBuilder m(13);
  m.input("x", kFloat, x).output("y");
  auto& n = m.node("LRN", {"x"}, {"y"});
  set_attr(n, "size", size);
  set_attr(n, "alpha", alpha);
  set_attr(n, "beta", beta);
  set_attr(n, "bias", bias);
  return m;
}

ModelBuilder lp_norm(const Ints& x, std::int64_t axis, std::int64_t p) {
  ModelBuilder m(13);
  m.input("x", kFloat, x).output("y");
  auto& n = m.node("LpNormalization", {"x"}, {"y"});
  set_attr(n, "axis", axis);
  set_attr(n, "p", p);
  return m;
}

}  // namespace

TEST_CASE("InstanceNormalization normalises each channel of each sample with its own scale and bias") {
  // Channel rows (1, 3, 1, 3) and (5, 9, 5, 9): d = ±1 and ±2, variances 1 and 4, ε = 0, so
  // n = (-1, 1, -1, 1) in both; y = n·s_c + b_c with s = (1, 2), b = (0.5, -0.5).
  const auto m = group_norm("InstanceNormalization", 13, {1, 2, 4}, 2, 2, 0.0f);
  check_all_exact(m, {{{1, 2, 4}, {1, 3, 1, 3, 5, 9, 5, 9}}}, {-0.5, 1.5, -0.5, 1.5, -2.5, 1.5, -2.5, 1.5});
  check_bounds_every_chain(group_norm("InstanceNormalization", 13, {2, 3, 5}, 3, 3, 1e-5f), {{{2, 3, 5}, sweep(30)}});
  CHECK(refusal(group_norm("InstanceNormalization", 13, {1, 3, 4}, 2, 2, 0.0f), {{{1, 3, 4}, sweep(12)}})
            .find("input 2 [2] must be [3]") != std::string::npos);
}

TEST_CASE("GroupNormalization: opset 18 scales per group, opset 21 per channel") {
  // 4 channels in 2 groups of 2; each group's 4 values (1, 3, 1, 3) or (5, 9, 5, 9) normalise
  // to (-1, 1, -1, 1).
  const std::vector<Feed> x = {{{1, 4, 2}, {1, 3, 1, 3, 5, 9, 5, 9}}};
  // Opset 18: scale (1, 2) and bias (0.5, -0.5) per group.
  check_all_exact(group_norm("GroupNormalization", 18, {1, 4, 2}, 2, 2, 0.0f), x, {-0.5, 1.5, -0.5, 1.5, -2.5, 1.5, -2.5, 1.5});
  // Opset 21: scale (1, 2, 3, 4) and bias (0.5, -0.5, 0.5, -0.5) per channel.
  check_all_exact(group_norm("GroupNormalization", 21, {1, 4, 2}, 2, 4, 0.0f), x, {-0.5, 1.5, -2.5, 1.5, -2.5, 3.5, -4.5, 3.5});
  CHECK(refusal(group_norm("GroupNormalization", 18, {1, 4, 2}, 3, 3, 0.0f), x).find("num_groups 3 does not divide the 4 channels") !=
        std::string::npos);
  CHECK(refusal(group_norm("GroupNormalization", 21, {1, 4, 2}, 2, 2, 0.0f), x).find("input 2 [2] must be [4]") != std::string::npos);
  check_bounds_every_chain(group_norm("GroupNormalization", 18, {2, 6, 3}, 3, 3, 1e-5f), {{{2, 6, 3}, sweep(36)}});
  check_bounds_every_chain(group_norm("GroupNormalization", 21, {2, 6, 3}, 2, 6, 1e-5f), {{{2, 6, 3}, sweep(36)}});
}

TEST_CASE("LRN: x / (bias + alpha/size · Σ x² over the channel window)^beta") {
  // size 3 over channels (1, 2, 2): windows {0,1}, {0,1,2}, {1,2}: Σx² = 5, 9, 8. alpha = 3,
  // beta = 1, bias = 1: y = x / (1 + s) = (1/6, 2/10, 2/9).
  const auto m = lrn({1, 3, 1}, 3, 3.0f, 1.0f, 1.0f);
  const std::vector<Feed> x = {{{1, 3, 1}, {1, 2, 2}}};
  const std::vector<double> y = run_first(m, x, *make_reference_arithmetic("exact"));
  CHECK(y[0] == 1.0 / 6);
  CHECK(y[1] == 0.2);
  CHECK(y[2] == 2.0 / 9);
  // Even sizes put the extra channel after c (ONNX: c - floor((size-1)/2) .. c + ceil((size-1)/2)):
  // size 2 reads {c, c+1}: Σx² = 5, 8, 4; alpha = 2 (alpha/size = 1), beta = 1, bias = 1.
  const std::vector<double> y2 = run_first(lrn({1, 3, 1}, 2, 2.0f, 1.0f, 1.0f), x, *make_reference_arithmetic("exact"));
  CHECK(y2 == std::vector<double>{1.0 / 6, 2.0 / 9, 2.0 / 5});
  check_bounds_every_chain(lrn({2, 5, 3}, 3, 1e-2f, 0.75f, 1.0f), {{{2, 5, 3}, sweep(30)}});
  check_bounds_every_chain(lrn({1, 6, 2}, 4, 0.5f, 0.5f, 2.0f), {{{1, 6, 2}, sweep(12, 0.3)}});
}

TEST_CASE("LpNormalization divides by the 1-norm or the 2-norm along the axis") {
  const std::vector<Feed> x = {{{2, 2}, {3, -4, 1, 1}}};
  // (3, -4) / 5 and (1, 1) / √2: not in every format, so the reference to binary64 (0.6 and −0.8
  // correctly rounded; 1/√2 through the rounded √2), and the 1-norm where every quotient is exact.
  const std::vector<double> ref = run_first(lp_norm({2, 2}, -1, 2), x, *make_reference_arithmetic("exact"));
  CHECK(ref[0] == 0.6);
  CHECK(ref[1] == -0.8);
  CHECK(ref[2] == doctest::Approx(std::sqrt(0.5)).epsilon(1e-15));
  check_all_exact(lp_norm({2, 2}, 0, 1), {{{2, 2}, {3, -4, 1, 4}}}, {0.75, -0.5, 0.25, 0.5});
  CHECK(refusal(lp_norm({2, 2}, 0, 3), x).find("p = 3") != std::string::npos);
  check_bounds_every_chain(lp_norm({3, 7}, 1, 2), {{{3, 7}, sweep(21)}});
  check_bounds_every_chain(lp_norm({3, 7, 2}, 1, 1), {{{3, 7, 2}, sweep(42)}});
}
