// The exported LayerNorm bounded as one operator (theory/layernorm-pattern.md): the data-flow
// matcher, then the rule against the chains' observed errors, a posteriori (run_audit) and a
// priori (the chain beside its AprioriState), on rows built to hit each of its paths — ordinary
// rows, near-constant rows (σ → 0), rows where ε dominates v, rows whose input error exceeds σ
// (fp8: the saturation bound), binary16 overflow of d² — in every chain family; and a bound
// shrunk below an observed error is caught (the test fails when the rule is made too tight).
#include <cmath>
#include <random>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "core/chain_arithmetic.h"
#include "core/reference_arithmetic.h"
#include "graph/layer_norm_pattern.h"
#include "graph/loader.h"
#include "graph/model_builder.h"
#include "shadow/apriori.h"
#include "shadow/constant_store.h"
#include "shadow/audit.h"

using namespace fpaudit;
using namespace fpaudit::test;

namespace {

const char* kChains[] = {"fp32", "fp16", "fp16-acc32", "bf16", "bf16-acc32", "fp8-e4m3-acc32", "fp16@pairwise-8"};

/// x [1, 2, width] → h = x·1.5 → the seven operators → ·γ + β, as PyTorch exports LayerNorm.
/// `exponent` and `axis` let a test break the pattern on purpose.
ModelBuilder exported_layer_norm(long width, float epsilon, float exponent = 2.0f, std::int64_t axis = -1) {
  ModelBuilder b(13);
  b.input("x", kFloat, {1, 2, width});
  std::vector<float> g(static_cast<std::size_t>(width)), bt(g.size());
  for (std::size_t j = 0; j < g.size(); ++j) {
    g[j] = static_cast<float>(0.5 + 0.01 * static_cast<double>(j % 97));
    bt[j] = static_cast<float>(0.1 * static_cast<double>(j % 7) - 0.3);
  }
  b.initializer(float_tensor("gain", {}, {1.5f}));
  b.initializer(float_tensor("two", {}, {exponent}));
  b.initializer(float_tensor("eps", {}, {epsilon}));
  b.initializer(float_tensor("g", {width}, g));
  b.initializer(float_tensor("bt", {width}, bt));
  b.node("Mul", {"x", "gain"}, {"h"});
  set_attr(b.node("ReduceMean", {"h"}, {"m"}), "axes", std::vector<std::int64_t>{axis});
  b.node("Sub", {"h", "m"}, {"d"});
  b.node("Pow", {"d", "two"}, {"q"});
  set_attr(b.node("ReduceMean", {"q"}, {"v"}), "axes", std::vector<std::int64_t>{axis});
  b.node("Add", {"v", "eps"}, {"w"});
  b.node("Sqrt", {"w"}, {"s"});
  b.node("Div", {"d", "s"}, {"y"});
  b.node("Mul", {"y", "g"}, {"z"});
  b.node("Add", {"z", "bt"}, {"o"});
  b.output("o");
  return b;
}

enum class Rows { Normal, NearConstant };

/// samples × [1, 2, width]: N(0, scale²), or c + scale·10^-3·N(0, 1) with c ~ N(0, scale²).
Constant inputs(long samples, long width, double scale, Rows kind, std::mt19937_64& rng) {
  std::normal_distribution<double> normal(0.0, 1.0);
  Constant c;
  c.dtype = DType::Float32;
  c.shape = {samples, 2, width};
  for (long r = 0; r < samples * 2; ++r) {
    const double offset = kind == Rows::NearConstant ? scale * normal(rng) : 0.0;
    for (long j = 0; j < width; ++j)
      c.values.push_back(static_cast<float>(kind == Rows::NearConstant ? offset + scale * 1e-3 * normal(rng) : scale * normal(rng)));
  }
  return c;
}

struct Shaped {
  Graph graph;
  std::unique_ptr<Plan> plan;
  long div = -1;  ///< the Div's layer
};
Shaped shaped(const ModelBuilder& b, long width) {
  Shaped s{b.parse(), nullptr};
  infer_shapes(s.graph, std::vector<Shape>{{1, 2, width}});
  s.plan = std::make_unique<Plan>(s.graph);
  for (std::size_t l = 0; l < s.plan->layers().size(); ++l)
    if (s.plan->layers()[l].node->op_type == "Div") s.div = static_cast<long>(l);
  return s;
}

struct Tally {
  long checked = 0, violations = 0, div_unbounded = 0;
  double worst = 0, div_worst = 0;
};

/// A posteriori: run_audit over every chain; the Div's propagated bound finite where ε_c > 0.
Tally audit(const Shaped& m, const Constant& x, BoundShrink shrink = {}) {
  AuditOptions o;
  for (const char* c : kChains) o.chains.push_back(parse_chain(c));
  o.threads = 1;
  o.shrink_bound = shrink;
  const AuditResult r = run_audit(*m.plan, x, nullptr, o);
  Tally t;
  for (std::size_t l = 0; l < r.stats.size(); ++l)
    for (std::size_t c = 0; c < r.stats[l].size(); ++c) {
      const LayerChainStats& s = r.stats[l][c];
      for (const BoundStats* b : {&s.propagated_bound, &s.local_bound}) {
        t.checked += static_cast<long>(b->checked);
        t.violations += static_cast<long>(b->violations);
        t.worst = std::fmax(t.worst, b->ratio.max);
      }
      if (static_cast<long>(l) == m.div && std::string(kChains[c]).rfind("fp8", 0) != 0) {
        t.div_unbounded += static_cast<long>(s.propagated_bound.unbounded);
        t.div_worst = std::fmax(t.div_worst, s.propagated_bound.ratio.max);
      }
    }
  return t;
}

/// A priori: the chain beside its AprioriState and the reference with its own bound R
/// (propagated scope, as the engine runs it), |x_chain - x_ref| ≤ E + R on every element.
Tally apriori(const Shaped& m, const Constant& x) {
  const Plan& plan = *m.plan;
  const ExactArithmetic ref;
  const auto ref_model = bounds::ArithmeticModel::of(ref);
  const auto ref_store = ConstantStore::rounded(plan, ref);
  const std::vector<Tensor> ref_constants = expand_all(*ref_store), zero = expand_all(*ConstantStore::zeros(plan));
  const long n = element_count(plan.slots()[plan.input_slots()[0]].shape);
  Tally t;
  for (const char* name : kChains) {
    const auto chain = make_apriori_chain(plan, parse_chain(name), ref_store);
    const std::vector<Tensor> values = expand_all(*chain->stored->values);
    for (long k = 0; k < x.shape[0]; ++k) {
      const std::vector<double> sample(x.values.begin() + k * n, x.values.begin() + (k + 1) * n);
      ConstantCaches caches;
      Activations r(plan, ref_constants), r_err(plan, zero), c(plan, values);
      AprioriState a(plan, *chain, caches);
      r.set_input(0, sample);
      r_err.set_input(0, std::vector<double>(sample.size(), 0.0));
      c.set_input(0, stored_input(plan, 0, *chain->arithmetic, sample));
      a.start({sample});
      for (std::size_t l = 0; l < plan.layers().size(); ++l) {
        r.run_layer(ref, l, r);
        bound_layer(plan.layers()[l], ref_model, 7.0, r, r, r_err, r_err, r_err, r_err, BoundScope::Propagated);
        c.run_layer(*chain->arithmetic, l, c);
        a.layer(l, 7.0, r, r_err);
        const int s = plan.layers()[l].outputs[0];
        for (long i = 0; i < c.value(s).size(); ++i) {
          const double y = c.value(s).data[i], z = r.value(s).data[i];
          const double det = bounds::up(a.det(s).data[i] + r_err.value(s).data[i]);
          if (static_cast<long>(l) == m.div && !(det < INFINITY) && std::string(name).rfind("fp8", 0) != 0) ++t.div_unbounded;
          if (!std::isfinite(y) || !(det < INFINITY)) continue;
          ++t.checked;
          const double observed = std::fabs(y - z) * (1 - 0x1p-52);
          if (observed > det) ++t.violations;
          t.worst = std::fmax(t.worst, observed / det);
        }
      }
    }
  }
  return t;
}

}  // namespace

TEST_CASE("the matcher finds the exported LayerNorm by data flow, and only it") {
  const Shaped m = shaped(exported_layer_norm(8, 1e-5f), 8);
  const std::vector<LayerNormPattern> found = find_layer_norm_patterns(m.graph);
  REQUIRE(found.size() == 1);
  CHECK(found[0].input == "h");
  CHECK(found[0].epsilon == "eps");
  CHECK(found[0].row == 8);
  CHECK(found[0].rows == 2);
  CHECK(static_cast<long>(found[0].div) == m.div);
  CHECK(m.plan->layers()[static_cast<std::size_t>(m.div)].pattern_rule != nullptr);
  // Pow(d, 3) is no variance, and a mean over axis 1 of [1, 2, 8] is no trailing row.
  CHECK(find_layer_norm_patterns(shaped(exported_layer_norm(8, 1e-5f, 3.0f), 8).graph).empty());
  CHECK(find_layer_norm_patterns(shaped(exported_layer_norm(8, 1e-5f, 2.0f, 1), 8).graph).empty());
}

TEST_CASE("exported LayerNorm: widths, scales, near-constant rows, ε dominating, binary16 overflow of d²") {
  std::mt19937_64 rng(21);
  for (long width : {4L, 64L, 768L})
    for (float eps : {1e-5f, 1e-2f})
      for (double scale : {1e-3, 1.0, 300.0})
        for (Rows kind : {Rows::Normal, Rows::NearConstant}) {
          const Shaped m = shaped(exported_layer_norm(width, eps), width);
          const Constant x = inputs(width > 100 ? 2 : 6, width, scale, kind, rng);
          const Tally post = audit(m, x), prior = apriori(m, x);
          const std::string what = fmt::format("width {} ε {} scale {} {}", width, eps, scale, kind == Rows::Normal ? "normal" : "near-constant");
          fmt::print("  {:<42} a posteriori {:>6} checked, {} violations, Div ratio {:.3g}; a priori {:>6} checked, {} violations\n",
                     what, post.checked, post.violations, post.div_worst, prior.checked, prior.violations);
          CHECK_MESSAGE(post.violations == 0, what);
          CHECK_MESSAGE(prior.violations == 0, what);
          // ε_c > 0 in every chain but fp8 (1e-5 flushes there): the Div's bound is finite
          // whatever the input error — unless the chain's own mean overflows (binary16 sums of
          // 768 values of about 450: μ̂ = ∞, ŷ non-finite, and an infinite bound is the truth).
          if (static_cast<double>(width) * scale < 1e4) {
            CHECK_MESSAGE(post.div_unbounded == 0, what);
            CHECK_MESSAGE(prior.div_unbounded == 0, what);
          }
        }
}

TEST_CASE("a LayerNorm bound shrunk below an observed error is caught") {
  std::mt19937_64 rng(22);
  const Shaped m = shaped(exported_layer_norm(64, 1e-5f), 64);
  const Constant x = inputs(4, 64, 1.0, Rows::NearConstant, rng);
  const Tally honest = audit(m, x);
  REQUIRE(honest.violations == 0);
  REQUIRE(honest.div_worst > 0);
  // The largest observed/bound ratio r at the Div: a bound r/2 times as large is below one error.
  const Tally mutant = audit(m, x, {m.div, honest.div_worst / 2});
  CHECK(mutant.violations > 0);
}
