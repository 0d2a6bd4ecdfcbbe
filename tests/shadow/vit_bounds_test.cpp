// The shipped ViT, whose seven LayerNorms are exported as ReduceMean ... Div (theory/layernorm-pattern.md):
// a posteriori every layer of every default chain has a finite propagated bound and none is
// exceeded, and the margin bound proves a sample in fp32 and fp16-acc32; a priori every LayerNorm's Div has a finite bound in every chain; and the
// reference's own bound R is finite on every layer.
#include <cmath>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "graph/layer_norm_pattern.h"
#include "graph/loader.h"
#include "shadow/audit.h"
#include "shadow/bounds_run.h"

using namespace fpaudit;

namespace {

const char* const kDefaultChains = "fp32,fp16,fp16-acc32,bf16,bf16-acc32";

struct ShippedVit {
  Graph graph;
  Constant images;
  std::unique_ptr<Plan> plan;
};
ShippedVit shipped_vit(long samples) {
  ShippedVit v{load_onnx(std::string(FPAUDIT_DATA_DIR) + "/vit.onnx"), read_npy(std::string(FPAUDIT_DATA_DIR) + "/test_images.npy"), nullptr};
  Shape one = v.images.shape;
  one[0] = 1;
  infer_shapes(v.graph, std::vector<Shape>{one});
  v.plan = std::make_unique<Plan>(v.graph);
  const long per = element_count(one);
  v.images.values.resize(static_cast<std::size_t>(samples * per));
  v.images.shape[0] = samples;
  return v;
}

}  // namespace

TEST_CASE("ViT a posteriori: every layer of every default chain and fp16+fp32:Softmax bounded, none exceeded") {
  const ShippedVit v = shipped_vit(2);
  long patterns = 0;
  for (const PlannedLayer& l : v.plan->layers()) patterns += l.pattern_rule ? 1 : 0;
  CHECK(patterns == 7);
  AuditOptions o;
  o.chains = parse_chain_list(kDefaultChains);
  // A mixed chain whose LayerNorms run wholly in fp16 gets the one-operator rule too.
  o.chains.push_back(mixed_chain(parse_chain("fp16"), parse_chain("fp32"), {"Softmax"}));
  o.threads = 1;
  const AuditResult r = run_audit(*v.plan, v.images, nullptr, o);
  for (std::size_t l = 0; l < r.stats.size(); ++l)
    for (std::size_t c = 0; c < r.stats[l].size(); ++c) {
      const LayerChainStats& s = r.stats[l][c];
      const std::string what = fmt::format("{} {}", v.plan->layers()[l].node->name, o.chains[c].name);
      CHECK_MESSAGE(s.propagated_bound.unbounded == 0, what);
      CHECK_MESSAGE(s.propagated_bound.violations == 0, what);
      CHECK_MESSAGE(s.local_bound.violations == 0, what);
    }
  for (const ChainClassification& k : r.classification) {
    CHECK(k.certificate_violations == 0);
    CHECK(k.margin_violations == 0);
    CHECK(k.margin_certificate_violations == 0);
  }
  // Theorem 1′ of theory/margin-bound.md: with each step's radius charged against |x̂ − x̄| and
  // cut, the a-posteriori margin bound stays finite through attention and proves sample 1's class
  // in fp32 and fp16-acc32 (bound 1.5 and 2.6 against Γ_ref = 4.98; with the radius carried to the
  // earlier layers it was 1.6e4 and 1.5e10). Sample 0's reference error R = 3.8 at the logits
  // leaves its boxes too wide.
  for (std::size_t c : {std::size_t{0}, std::size_t{2}}) {
    CAPTURE(o.chains[c].name);
    const MarginVerdict& m = r.records[1].chains[c].margin;
    CHECK(m.bound_det < 10);
    CHECK(m.a_posteriori.det);
  }
}

TEST_CASE("ViT a priori: every LayerNorm's Div bounded wherever its d̂ is; R finite everywhere") {
  const ShippedVit v = shipped_vit(2);
  BoundsOptions o;
  o.chains = parse_chain_list(kDefaultChains);
  o.threads = 1;
  const BoundsResult r = run_bounds(*v.plan, v.images, nullptr, o);
  for (std::size_t l = 0; l < r.layers.size(); ++l) CHECK_MESSAGE(std::isfinite(r.reference_bound[l]), v.plan->layers()[l].node->name);
  for (std::size_t c = 0; c < o.chains.size(); ++c) {
    long unbounded = 0, bounded_patterns = 0;
    for (std::size_t l = 0; l < r.layers.size(); ++l) unbounded += r.layers[l][c].unbounded > 0 ? 1 : 0;
    for (const LayerNormPattern& p : find_layer_norm_patterns(v.graph)) {
      // Lemma 2 of theory/layernorm-pattern.md needs d̂ finite: where the Sub's a-priori bound
      // is finite, the Div's is below Y + √63 ≈ 16 whatever the error coming in.
      if (r.layers[p.sub][c].unbounded > 0) continue;
      ++bounded_patterns;
      CHECK_MESSAGE(r.layers[p.div][c].unbounded == 0, o.chains[c].name);
      CHECK_MESSAGE(r.layers[p.div][c].det < 16.2, o.chains[c].name);
    }
    fmt::print("  a priori, {}: {} of {} layers with an infinite bound somewhere; {} of 7 LayerNorms with a finite d̂ bound\n",
               o.chains[c].name, unbounded, r.layers.size(), bounded_patterns);
    CHECK(bounded_patterns >= 2);  // block 0's two LayerNorms at least, in every chain
  }
}
