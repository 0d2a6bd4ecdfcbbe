// Every backward step of the margin bound checked against its definition
// (theory/margin-bound-nonlinear.md): for two inputs a and b and the exact network f, the
// backward pass over boxes holding both trajectories must enclose the secant, i.e.
//     |c·(f(a) − f(b))| ≤ |mid_0·(a − b)| + rad_0·|a − b|
// which is margin_bound with every local error set to zero and e_0 = a − b. Run on every
// operator example of the bound-rule tests (tests/bounds/operator_examples.h) whose operators all
// have a backward step, with a − b small (the boxes of an audit) and large (slopes over wide
// boxes: softmax rows, GELU, the divisor of a normalisation). Every case runs twice: with the
// radius carried to the input (Theorem 1) and cut at every step (Theorem 1′: each step's radius
// against the box width |a − b| ≤ hi − lo at its inputs).
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "../bounds/operator_examples.h"
#include "core/reference_arithmetic.h"
#include "graph/loader.h"
#include "shadow/margin/margin_bound.h"

using namespace fpaudit;

namespace {

/// Deterministic N(0, 1) draws (Box–Muller on a 64-bit LCG), the same on every platform.
struct Normal {
  std::uint64_t s;
  double uniform() {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (static_cast<double>(s >> 11) + 0.5) * 0x1p-53;
  }
  double operator()() { return std::sqrt(-2 * std::log(uniform())) * std::cos(6.283185307179586 * uniform()); }
};

double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::fmax(m, std::fabs(x));
  return m;
}

/// Each step with both forms of the bound: the radius carried to the input (Theorem 1) and cut
/// at every step (Theorem 1′).
std::vector<std::pair<double, bool>> both_forms(std::initializer_list<double> steps) {
  std::vector<std::pair<double, bool>> v;
  for (double s : steps)
    for (bool cut : {false, true}) v.emplace_back(s, cut);
  return v;
}

struct Checked {
  bool ran = false;
  double observed = 0, bound = 0;
  double slack = 0;  ///< the binary64 evaluation's own error in `observed`
};

/// The secant check on one example for inputs x and x + step·N(0, 1); with `group`, one grouped
/// pass (margin_bound_group) for every direction e_0 − e_j at once, against the largest of them.
Checked secant_check(const test::OperatorExample& e, double step, std::uint64_t seed, bool cut = false, bool group = false) {
  Graph g = test::example_model(e).parse();
  infer_shapes(g, std::vector<Shape>{Shape(e.input.begin(), e.input.end())});
  const Plan plan(g);
  const margin::MarginPlan mp(plan);
  Checked r;
  if (!mp.available()) return r;
  const int out = plan.output_slots().at(0);
  if (element_count(plan.slots()[static_cast<std::size_t>(out)].shape) < 2) return r;
  static const ExactArithmetic exact;
  const std::vector<Tensor> constants = round_constants(plan, exact);
  Normal normal{seed};
  std::vector<double> xa(static_cast<std::size_t>(element_count(Shape(e.input.begin(), e.input.end()))));
  for (double& v : xa) v = e.scale * normal();
  std::vector<double> xb = xa, e0(xa.size());
  for (std::size_t i = 0; i < xa.size(); ++i) {
    xb[i] = xa[i] + step * e.scale * normal();
    e0[i] = xa[i] - xb[i];
  }
  Activations A(plan, constants), B(plan, constants), lo(plan, constants), hi(plan, constants), zero(plan, constants);
  A.set_input(0, xa);
  B.set_input(0, xb);
  A.run_all(exact);
  B.run_all(exact);
  // Boxes: the hull of the two binary64 trajectories, extended upward, widened by 2^-30 of the tensor's largest
  // magnitude for the binary64 evaluation's own error (the exact values are within it).
  for (std::size_t s = 0; s < plan.slots().size(); ++s) {
    if (plan.slots()[s].constant) continue;
    const int slot = static_cast<int>(s);
    const std::vector<double>& a = A.value(slot).data;
    const std::vector<double>& b = B.value(slot).data;
    const double pad = 0x1p-30 * std::fmax(max_abs(a), max_abs(b)) + 1e-300;
    for (std::size_t i = 0; i < a.size(); ++i) {
      lo.mutable_value(slot).data[i] = std::fmin(a[i], b[i]) - pad;
      // Off-centre on purpose: the box's midpoint is then not the mean-value point ½(a + b),
      // so a step that leaves out a radius term fails.
      hi.mutable_value(slot).data[i] = std::fmax(a[i], b[i]) + 0.7 * std::fabs(a[i] - b[i]) + pad;
      zero.mutable_value(slot).data[i] = 0;
    }
  }
  margin::MarginWorkspace w(plan);
  margin::MarginTerms terms{&lo, &hi, &zero, &zero, &e0, nullptr, nullptr};
  terms.cut_radius = cut;
  const std::vector<double>& ya = A.value(out).data;
  const std::vector<double>& yb = B.value(out).data;
  const int n = static_cast<int>(ya.size());
  std::vector<int> js;
  for (int j = group ? 1 : n - 1; j < n; ++j) js.push_back(j);
  const margin::MarginBound mb = margin::margin_bound_group(mp, w, terms, out, 0, js);
  r.ran = true;
  for (int j : js) {
    const std::size_t k = static_cast<std::size_t>(j);
    r.observed = std::fmax(r.observed, std::fabs((ya[0] - ya[k]) - (yb[0] - yb[k])));
  }
  // The observed difference is itself a binary64 evaluation: allow 2^-30 of the outputs.
  r.bound = mb.det;
  r.slack = 0x1p-30 * (max_abs(ya) + max_abs(yb));
  return r;
}

}  // namespace

TEST_CASE("every backward step encloses the secant of its operator") {
  std::set<std::string> covered;
  int checked = 0;
  for (const test::OperatorExample& e : test::operator_examples()) {
    for (const auto& [step, cut] : both_forms({1e-3, 0.3})) {
      CAPTURE(e.op);
      CAPTURE(e.variant);
      CAPTURE(step);
      CAPTURE(cut);
      const Checked c = secant_check(e, step, 12345, cut);
      if (!c.ran) continue;
      ++checked;
      covered.insert(e.op);
      CHECK(std::isfinite(c.observed));
      CHECK(c.observed <= c.bound + c.slack);
      // Not vacuous for small steps: the bound is of the order of the difference it bounds
      // (first order: a wide box only costs its width times the cotangent).
      if (step < 0.01 && std::isfinite(c.bound)) CHECK(c.bound <= 1e3 * (c.observed + c.slack));
    }
  }
  MESSAGE("checked " << checked << " cases over " << covered.size() << " operators");
  for (const char* op : {"Add", "Sub", "Mul", "Div", "Pow", "Erf", "Tanh", "Sigmoid", "Exp", "Sqrt", "HardSwish", "Softmax",
                         "MatMul", "Transpose", "Gather", "Concat", "Slice", "ReduceMean", "ReduceSum",
                         "LayerNormalization", "HardSigmoid", "Gelu", "Conv", "ConvTranspose", "Split"}) {
    CAPTURE(op);
    CHECK(covered.count(op) == 1);
  }
}

TEST_CASE("LayerNorm rows with tiny σ, decomposed and native: the secant stays enclosed") {
  // x ↦ 3 + 1e-3·x, then a LayerNorm with ε = 1e-12: σ ≈ 1e-3 on a row mean of 3, so the
  // normalisation divides by a σ a thousand times below the values it centres.
  using B = test::ModelBuilder;
  auto shift = [](B& b) {
    b.initializer(test::float_tensor("s", {}, {1e-3f}));
    b.initializer(test::float_tensor("m", {}, {3.0f}));
    b.node("Mul", {"x", "s"}, {"xs"});
    b.node("Add", {"xs", "m"}, {"x3"});
  };
  std::vector<test::OperatorExample> cases;
  cases.push_back({"LayerNormalization", "tiny sigma, native", 17, {1, 4, 32}, 1, [shift](B& b) {
                     shift(b);
                     b.initializer(test::float_tensor("g", {32}, std::vector<float>(32, 1.5f)));
                     test::set_attr(b.node("LayerNormalization", {"x3", "g"}, {"y"}), "epsilon", 1e-12f);
                   }});
  cases.push_back({"LayerNorm pattern", "tiny sigma, decomposed", 14, {1, 4, 32}, 1, [shift](B& b) {
                     shift(b);
                     b.initializer(test::float_tensor("two", {}, {2.0f}));
                     b.initializer(test::float_tensor("eps", {}, {1e-12f}));
                     test::set_attr(b.node("ReduceMean", {"x3"}, {"mu"}), "axes", std::vector<std::int64_t>{-1});
                     b.node("Sub", {"x3", "mu"}, {"d"});
                     b.node("Pow", {"d", "two"}, {"d2"});
                     test::set_attr(b.node("ReduceMean", {"d2"}, {"v"}), "axes", std::vector<std::int64_t>{-1});
                     b.node("Add", {"v", "eps"}, {"ve"});
                     b.node("Sqrt", {"ve"}, {"sd"});
                     b.node("Div", {"d", "sd"}, {"y"});
                   }});
  for (const test::OperatorExample& e : cases)
    for (const auto& [step, cut] : both_forms({1e-3, 0.3})) {
      CAPTURE(e.variant);
      CAPTURE(step);
      CAPTURE(cut);
      const Checked c = secant_check(e, step, 777, cut);
      REQUIRE(c.ran);
      CHECK(c.observed <= c.bound + c.slack);
      CHECK(std::isfinite(c.bound));
      if (step < 0.01) CHECK(c.bound <= 1e3 * (c.observed + c.slack));
    }
}

TEST_CASE("GELU: the secant over many draws, boxes across ±√2 and in the tails") {
  // GELU' = Φ + x·φ peaks at √2 (1.07) and dips below 0 at −√2: a step that encloses only Φ,
  // or only the slopes at the box's ends, fails here. Twenty draws of 12 values at scale 3 put
  // boxes on both sides of ±√2 and out to ±9.
  std::vector<test::OperatorExample> gelu;
  for (const test::OperatorExample& e : test::operator_examples())
    if (e.op == "Gelu") gelu.push_back(e);
  REQUIRE(!gelu.empty());
  // Values drawn around the peak (+√2) and the dip (−√2) of GELU': there the secant of two
  // points on either side exceeds (falls below) the slope at both ends of their box.
  using B = test::ModelBuilder;
  for (float centre : {1.4142f, -1.4142f})
    gelu.push_back({"Gelu", centre > 0 ? "around +sqrt2" : "around -sqrt2", 17, {1, 12}, 1, [centre](B& b) {
                      b.initializer(test::float_tensor("s", {}, {0.2f}));
                      b.initializer(test::float_tensor("m", {}, {centre}));
                      b.node("Mul", {"x", "s"}, {"xs"});
                      b.node("Add", {"xs", "m"}, {"xm"});
                      b.node("Gelu", {"xm"}, {"y"});
                    }});
  int ran = 0;
  for (const test::OperatorExample& e : gelu)
    for (std::uint64_t seed = 1; seed <= 20; ++seed)
      for (const auto& [step, cut] : both_forms({1e-3, 0.05, 0.3})) {
        CAPTURE(e.variant);
        CAPTURE(seed);
        CAPTURE(step);
        CAPTURE(cut);
        const Checked c = secant_check(e, step, seed, cut);
        if (!c.ran) continue;  // the tanh approximation has no step
        ++ran;
        CHECK(c.observed <= c.bound + c.slack);
        if (step < 0.01) CHECK(c.bound <= 1e3 * (c.observed + c.slack));
      }
  CHECK(ran == 360);  // three examples with a step (the tanh approximation has none) × 20 × 3 × 2
}

TEST_CASE("linear steps are exact: Conv, ConvTranspose and Gemm give the secant itself") {
  // A linear layer's secant Jacobian is its matrix, so the bound must equal |c·(f(a) − f(b))|
  // up to binary64 rounding: a step with a wrong tap table or weight order (ConvTranspose's
  // transposed, flipped kernel) still encloses some secants by luck, but not this equality.
  int ran = 0;
  for (const test::OperatorExample& e : test::operator_examples()) {
    if (e.op != "Conv" && e.op != "ConvTranspose" && e.op != "Gemm") continue;
    for (std::uint64_t seed = 1; seed <= 5; ++seed) {
      CAPTURE(e.op);
      CAPTURE(e.variant);
      CAPTURE(seed);
      const Checked c = secant_check(e, 0.3, seed);
      if (!c.ran) continue;
      ++ran;
      CHECK(c.observed <= c.bound + c.slack);
      CHECK(c.bound <= c.observed * (1 + 1e-6) + c.slack);
    }
  }
  CHECK(ran >= 10);
}

TEST_CASE("Split: the cotangents of all its outputs reach the input") {
  // x [1, 6] split into a, c [1, 3], then a·c: both outputs reach the direction, and a step that propagated
  // only the first output's cotangent would leave c's share of the secant out.
  using B = test::ModelBuilder;
  const test::OperatorExample e{"Split", "both outputs used", 13, {1, 6}, 1, [](B& b) {
                                  b.initializer(test::int64_tensor("s", {2}, {3, 3}));
                                  test::set_attr(b.node("Split", {"x", "s"}, {"a", "c"}), "axis", std::int64_t{1});
                                  b.node("Mul", {"a", "c"}, {"y"});
                                }};
  for (std::uint64_t seed = 1; seed <= 10; ++seed)
    for (const auto& [step, cut] : both_forms({1e-3, 0.3})) {
      CAPTURE(seed);
      CAPTURE(step);
      CAPTURE(cut);
      const Checked c = secant_check(e, step, seed, cut);
      REQUIRE(c.ran);
      CHECK(c.observed <= c.bound + c.slack);
      if (step < 0.01) CHECK(c.bound <= 1e3 * (c.observed + c.slack));
    }
}

TEST_CASE("a deep composition: the radius cut at every step still encloses the secant") {
  // An attention-like stack, x [1, 8, 16] → MatMul → Tanh → decomposed LayerNorm → MatMul →
  // Softmax → MatMul with itself transposed → Sigmoid → Mul: every intermediate value has a
  // nonlinear consumer, so with the cut (Theorem 1′) each step's radius is charged against the box
  // width at that value instead of being carried to the input. Both forms must enclose the
  // secant over many draws, small and large steps.
  using B = test::ModelBuilder;
  Normal w{99};
  auto matrix = [&w](const std::string& name, double scale) {
    std::vector<float> v(16 * 16);
    for (float& x : v) x = static_cast<float>(scale * w());
    return test::float_tensor(name, {16, 16}, v);
  };
  const onnx::TensorProto w1 = matrix("w1", 0.5), w2 = matrix("w2", 0.5);
  const test::OperatorExample deep{"composition", "attention-like stack", 14, {1, 8, 16}, 1, [&](B& b) {
    b.initializer(w1);
    b.initializer(w2);
    b.initializer(test::float_tensor("two", {}, {2.0f}));
    b.initializer(test::float_tensor("eps", {}, {1e-5f}));
    b.node("MatMul", {"x", "w1"}, {"h"});
    b.node("Tanh", {"h"}, {"t"});
    test::set_attr(b.node("ReduceMean", {"t"}, {"mu"}), "axes", std::vector<std::int64_t>{-1});
    b.node("Sub", {"t", "mu"}, {"d"});
    b.node("Pow", {"d", "two"}, {"d2"});
    test::set_attr(b.node("ReduceMean", {"d2"}, {"v"}), "axes", std::vector<std::int64_t>{-1});
    b.node("Add", {"v", "eps"}, {"ve"});
    b.node("Sqrt", {"ve"}, {"sd"});
    b.node("Div", {"d", "sd"}, {"n"});
    b.node("MatMul", {"n", "w2"}, {"q"});
    test::set_attr(b.node("Softmax", {"q"}, {"p"}), "axis", std::int64_t{-1});
    test::set_attr(b.node("Transpose", {"n"}, {"nt"}), "perm", std::vector<std::int64_t>{0, 2, 1});
    b.node("MatMul", {"nt", "p"}, {"a"});
    b.node("Sigmoid", {"a"}, {"s"});
    b.node("Mul", {"s", "a"}, {"y"});
  }};
  int ran = 0;
  for (std::uint64_t seed = 1; seed <= 10; ++seed)
    for (const auto& [step, cut] : both_forms({1e-4, 1e-2, 0.3})) {
      CAPTURE(seed);
      CAPTURE(step);
      CAPTURE(cut);
      const Checked c = secant_check(deep, step, seed, cut);
      REQUIRE(c.ran);
      ++ran;
      CHECK(c.observed <= c.bound + c.slack);
      if (step < 0.01) CHECK(c.bound <= 1e3 * (c.observed + c.slack));
    }
  CHECK(ran == 60);
}

TEST_CASE("a grouped pass encloses every direction of its group") {
  // margin_bound_group: one backward pass from the interval cotangent 1 at t and [−1, 0] at each
  // j holds every c = e_t − e_j at once, so its bound must exceed the largest secant over the
  // group, in both forms, on every example with at least three outputs.
  int ran = 0;
  for (const test::OperatorExample& e : test::operator_examples())
    for (const auto& [step, cut] : both_forms({1e-3, 0.3})) {
      CAPTURE(e.op);
      CAPTURE(e.variant);
      CAPTURE(step);
      CAPTURE(cut);
      const Checked c = secant_check(e, step, 4242, cut, true);
      if (!c.ran) continue;
      ++ran;
      CHECK(c.observed <= c.bound + c.slack);
    }
  MESSAGE("checked " << ran << " grouped cases");
  CHECK(ran >= 100);
}
