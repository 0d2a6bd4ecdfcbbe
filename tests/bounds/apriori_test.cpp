// The a-priori bounds (lib/shadow/apriori.h) and the certificates built on them: every rule run on
// enclosures [x_ref - (E + R), x_ref + (E + R)] instead of the chain's values must still bound
// what the chain then computes, layer by layer; and a certified sample never changes class.
#include <cmath>
#include <cstring>
#include <map>
#include <random>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "bounds/transfer.h"
#include "graph/loader.h"
#include "core/chain_arithmetic.h"
#include "core/reference_arithmetic.h"
#include "operator_examples.h"
#include "shadow/apriori.h"
#include "shadow/audit.h"
#include "shadow/bounds_run.h"
#include "shadow/certificate.h"

using namespace fpaudit;
using namespace fpaudit::test;

namespace {

const char* kChains[] = {"fp32", "fp16", "fp16-acc32", "bf16", "bf16-acc32", "fp8-e4m3-acc32", "fp16@pairwise-8"};

struct Outcome {
  long checked = 0, violations = 0, prob_exceeded = 0;
  /// AprioriState::enclosure against the enclosures the pass stored (the margin pass recomputes
  /// them after the audit frees them): elements compared, and those not the same bits.
  long recomputed = 0, recompute_mismatches = 0, recomputed_infinite = 0;
  double worst = 0;
};

/// Runs the reference, its own bounds, a chain and the chain's a-priori bounds side by side
/// over `samples` and checks |x_chain - x_ref| ≤ E_a-priori + R on every element of every layer.
Outcome check_model(const Plan& plan, const ChainSpec& spec, const std::vector<std::vector<double>>& samples) {
  const ExactArithmetic ref;
  const auto ref_model = bounds::ArithmeticModel::of(ref);
  const auto ref_store = ConstantStore::rounded(plan, ref);
  const std::vector<Tensor> ref_constants = expand_all(*ref_store), zero = expand_all(*ConstantStore::zeros(plan));
  const auto chain = make_apriori_chain(plan, spec, ref_store);
  const std::vector<Tensor> values = expand_all(*chain->stored->values);
  Outcome o;
  for (const std::vector<double>& x : samples) {
    ConstantCaches caches;
    Activations r(plan, ref_constants), r_err(plan, zero), c(plan, values);
    AprioriState a(plan, *chain, caches);
    r.set_input(0, x);
    r_err.set_input(0, std::vector<double>(x.size(), 0.0));
    std::vector<double> xc = x;
    holder_of(plan, *chain->arithmetic, plan.input_slots()[0]).round_storage(xc);  // a mixed chain: the input's holder
    c.set_input(0, xc);
    a.start({x});
    for (std::size_t l = 0; l < plan.layers().size(); ++l) {
      r.run_layer(ref, l, r);
      bound_layer(plan.layers()[l], ref_model, 5.0, r, r, r_err, r_err, r_err, r_err);
      c.run_layer(*chain->arithmetic, l, c);
      a.layer(l, 5.0, r, r_err);
      for (int s : plan.layers()[l].outputs) {
        if (s < 0) continue;  // an output nobody reads (TopK's values when only its indices are)
        for (bool prob : {false, true}) {
          std::vector<double> lo, hi;
          a.enclosure(s, prob, r.value(s), r_err.value(s), lo, hi);
          const std::vector<double> &stored_lo = a.lo(prob).value(s).data, &stored_hi = a.hi(prob).value(s).data;
          o.recomputed += static_cast<long>(lo.size());
          for (std::size_t i = 0; i < stored_hi.size(); ++i) o.recomputed_infinite += stored_hi[i] == INFINITY;
          for (std::size_t i = 0; i < lo.size() && i < stored_lo.size(); ++i)
            o.recompute_mismatches += std::memcmp(&lo[i], &stored_lo[i], sizeof(double)) != 0 || std::memcmp(&hi[i], &stored_hi[i], sizeof(double)) != 0;
          if (lo.size() != stored_lo.size() || hi.size() != stored_hi.size()) ++o.recompute_mismatches;
        }
        const Tensor &y = c.value(s), &z = r.value(s), &R = r_err.value(s);
        for (long i = 0; i < y.size(); ++i) {
          if (!std::isfinite(y.data[i]) || !std::isfinite(z.data[i])) continue;
          const double observed = std::fabs(y.data[i] - z.data[i]) * (1 - 0x1p-52);
          const double det = a.det(s).data[i] + R.data[i];
          if (!(det < INFINITY)) continue;
          ++o.checked;
          if (observed > det) ++o.violations;
          if (observed > a.prob(s).data[i] + R.data[i]) ++o.prob_exceeded;
          o.worst = std::fmax(o.worst, observed / det);
        }
      }
    }
  }
  return o;
}

std::vector<std::vector<double>> random_samples(const Plan& plan, long count, double scale, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  const long n = static_cast<long>(element_count(plan.slots()[plan.input_slots()[0]].shape));
  std::vector<std::vector<double>> out(static_cast<std::size_t>(count), std::vector<double>(static_cast<std::size_t>(n)));
  for (auto& s : out)
    for (double& v : s) v = static_cast<float>(normal(rng) * scale);
  return out;
}

/// The shipped MLP, its shapes inferred for one test image, and the test images.
struct ShippedMlp {
  Graph graph;
  Constant images;
  Shape sample;
};
ShippedMlp shipped_mlp() {
  ShippedMlp m{load_onnx(std::string(FPAUDIT_DATA_DIR) + "/mlp.onnx"), read_npy(std::string(FPAUDIT_DATA_DIR) + "/test_images.npy"), {}};
  m.sample = m.images.shape;
  m.sample[0] = 1;
  infer_shapes(m.graph, std::vector<Shape>{m.sample});
  return m;
}

}  // namespace

TEST_CASE("radius_certified is the tolerance lemma: strict margins only, ties and NaN never") {
  const double z[] = {1.0, 3.0, 2.0};
  const double small[] = {0.4, 0.4, 0.4}, exact[] = {0.5, 0.5, 0.5}, skew[] = {0.1, 0.2, 0.85};
  CHECK(radius_certified(z, small, 3));   // 3 - 2 = 1 > 0.8
  CHECK_FALSE(radius_certified(z, exact, 3));  // Γ = 2δ: a tie is possible, nothing certified
  CHECK_FALSE(radius_certified(z, skew, 3));   // 3 - 2 = 1 > 0.2 + 0.85 fails: the per-logit radii matter
  const double tie[] = {2.0, 2.0}, zero[] = {0.0, 0.0};
  CHECK_FALSE(radius_certified(tie, zero, 2));
  const double nan[] = {1.0, NAN};
  CHECK_FALSE(radius_certified(nan, zero, 2));
}

TEST_CASE("a-priori bounds hold on every layer of every operator example in every chain") {
  long checked = 0, violations = 0, recomputed = 0, nonfinite = 0;
  // Examples whose a-priori bounds are +Inf everywhere check nothing (the 16-bit chains on the
  // large-scale GEMM, Conv and LayerNorm examples, where the worst case can overflow binary16):
  // counted, and every chain must still be checked on most examples.
  std::map<std::string, int> unchecked;
  for (const OperatorExample& e : operator_examples()) {
    Graph g = example_model(e).parse();
    infer_shapes(g, std::vector<Shape>{Shape(e.input.begin(), e.input.end())});
    const Plan plan(g);
    const auto samples = random_samples(plan, 6, e.scale, 77);
    for (const char* c : kChains) {
      const Outcome o = check_model(plan, parse_chain(c), samples);
      checked += o.checked;
      violations += o.violations;
      CHECK_MESSAGE(o.violations == 0, e.op, " (", e.variant, ") in ", std::string(c));
      CHECK_MESSAGE(o.recompute_mismatches == 0, e.op, " (", e.variant, ") in ", std::string(c));
      recomputed += o.recomputed;
      nonfinite += o.recomputed_infinite;
      if (o.checked == 0) ++unchecked[std::string(c)];
    }
  }
  fmt::print("a-priori bounds on the operator examples: {} elements checked, {} violations; {} enclosure elements recomputed, {} of them overflowed\n",
             checked, violations, recomputed, nonfinite);
  CHECK(recomputed > checked);  // both passes' enclosures
  CHECK(nonfinite > 0);         // the overflow branch of the widening is recomputed too
  const int examples = static_cast<int>(operator_examples().size());
  for (const char* c : kChains) {
    fmt::print("  {}: {} of {} examples without a finite a-priori bound\n", c, unchecked[c], examples);
    CHECK_MESSAGE(unchecked[c] * 4 < examples, c);
  }
}

TEST_CASE("a-priori bounds of mixed chains hold on every element (theory/mixed-chains.md)") {
  const ShippedMlp mlp = shipped_mlp();
  const Plan plan(mlp.graph);
  const long per = static_cast<long>(element_count(mlp.sample));
  std::vector<std::vector<double>> xs;
  for (long i = 0; i < 8; ++i) xs.push_back(sample_values(mlp.images, i, per));
  // Boundaries from binary32 into binary16 and bfloat16 and back, and a kept format narrower
  // than the base.
  for (const char* c : {"fp16+fp32:Gemm", "bf16+fp32:/net/net.3/Gemm", "fp32+fp16:Relu,/net/net.5/Gemm"}) {
    const Outcome o = check_model(plan, parse_chain(c), xs);
    fmt::print("  mlp {:<32} {:>7} elements, {} violations, max observed/a-priori bound {:.3g}\n", c, o.checked, o.violations, o.worst);
    CHECK_MESSAGE(o.violations == 0, c);
    CHECK_MESSAGE(o.recompute_mismatches == 0, c);
    CHECK_MESSAGE(o.checked > 0, c);
  }
}

TEST_CASE("a-priori bounds hold on the shipped MLP, and certified samples keep their class") {
  const ShippedMlp mlp = shipped_mlp();
  const Constant& images = mlp.images;
  const Shape& sample = mlp.sample;
  const Plan plan(mlp.graph);
  const long per = static_cast<long>(element_count(sample));
  std::vector<std::vector<double>> xs;
  for (long i = 0; i < 12; ++i) xs.push_back(sample_values(images, i, per));
  for (const char* c : kChains) {
    const Outcome o = check_model(plan, parse_chain(c), xs);
    fmt::print("  mlp {:<16} {:>7} elements, {} violations, max observed/a-priori bound {:.3g}, prob. exceeded {}\n", c, o.checked,
               o.violations, o.worst, o.prob_exceeded);
    CHECK(o.violations == 0);
    CHECK(o.checked > 0);
  }
  AuditOptions options;
  for (const char* c : kChains) options.chains.push_back(parse_chain(c));
  options.max_samples = 64;
  const AuditResult r = run_audit(plan, images, nullptr, options);
  for (std::size_t c = 0; c < r.chains.size(); ++c) {
    CHECK(r.classification[c].certificate_violations == 0);
    // The a-posteriori bounds see the chain's own values: certified whenever the a-priori ones are
    // (up to the enclosure's width, which only loosens) — in practice the counts agree closely.
    CHECK(r.classification[c].a_posteriori_det >= r.classification[c].a_priori_det - 2);
  }
}

// run_bounds shares the chunked ordered-merge driver of run_audit (lib/shadow/chunk_driver.h):
// 20 samples are three chunks of 8, so 2 and 3 threads really split them.
TEST_CASE("run_bounds: 1, 2 and 3 threads give the same bits") {
  const ShippedMlp mlp = shipped_mlp();
  const Constant& images = mlp.images;
  const Plan plan(mlp.graph);
  auto run = [&](int threads) {
    BoundsOptions options;
    for (const char* c : {"fp16", "bf16-acc32"}) options.chains.push_back(parse_chain(c));
    options.max_samples = 20;
    options.threads = threads;
    return run_bounds(plan, images, nullptr, options);
  };
  const BoundsResult one = run(1);
  REQUIRE(one.samples == 20);
  for (int threads : {2, 3}) {
    const BoundsResult r = run(threads);
    CHECK(r.reference_bound == one.reference_bound);
    for (std::size_t l = 0; l < one.layers.size(); ++l)
      for (std::size_t c = 0; c < one.layers[l].size(); ++c) {
        CHECK(r.layers[l][c].det == one.layers[l][c].det);
        CHECK(r.layers[l][c].prob == one.layers[l][c].prob);
        CHECK(r.layers[l][c].failure == one.layers[l][c].failure);
        CHECK(r.layers[l][c].unbounded == one.layers[l][c].unbounded);
      }
    for (std::size_t c = 0; c < one.certified.size(); ++c) {
      CHECK(r.certified[c].det == one.certified[c].det);
      CHECK(r.certified[c].prob == one.certified[c].prob);
      CHECK(r.certified[c].delta_bound == one.certified[c].delta_bound);
      CHECK(r.certified[c].failure == one.certified[c].failure);
    }
  }
}
