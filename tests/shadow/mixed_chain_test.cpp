// Mixed chains (core/mixed_arithmetic.h, theory/mixed-chains.md): parsing, node by node the
// arithmetic of each node, keeping everything equal to the kept chain bit for bit, and every
// bound of an audit (elementwise a posteriori and a priori, local, margin-directed) holding on
// the shipped models with boundaries between binary32 and binary16/bfloat16 both ways.
#include <set>

#include <doctest/doctest.h>

#include "core/mixed_arithmetic.h"
#include "graph/loader.h"
#include "shadow/audit.h"
#include "shadow/audit_support.h"
#include "shadow/plan.h"

using namespace fpaudit;

namespace {
const std::string kData = FPAUDIT_DATA_DIR;

using Model = test::ShippedModel;

const Constant& images() {
  static const Constant x = read_npy(kData + "/test_images.npy");
  return x;
}

/// Every deterministic bound and certificate the audit checks, counted over layers and chains.
long violations(const AuditResult& r) {
  long v = 0;
  for (const auto& row : r.stats)
    for (const LayerChainStats& s : row) v += static_cast<long>(s.propagated_bound.violations + s.local_bound.violations);
  for (const ChainClassification& k : r.classification)
    v += k.lemma_violations + k.certificate_violations + k.margin_violations + k.margin_certificate_violations;
  return v;
}

/// Elements whose propagated or local bound was checked (not +Inf): the bounds were informative.
std::uint64_t checked(const AuditResult& r, std::size_t c) {
  std::uint64_t n = 0;
  for (const auto& row : r.stats) n += row[c].propagated_bound.checked + row[c].local_bound.checked;
  return n;
}

AuditResult audit(const Model& m, const std::vector<std::string>& chains, long samples) {
  AuditOptions o;
  for (const std::string& c : chains) {
    ChainSpec s = parse_chain(c);
    resolve_kept(s, m.graph);
    o.chains.push_back(s);
  }
  o.max_samples = samples;
  o.threads = 2;
  return run_audit(*m.plan, images(), nullptr, o);
}
}  // namespace

TEST_CASE("mixed chain specs: parsing, lists, names and selectors against the model") {
  const ChainSpec s = parse_chain("fp16+fp32:LayerNormalization,Softmax,/head/Gemm");
  CHECK(s.name == "fp16+fp32:LayerNormalization,Softmax,/head/Gemm");
  CHECK(s.storage == binary16());
  REQUIRE(s.kept);
  CHECK(s.kept->storage == binary32());
  CHECK(s.keep == std::vector<std::string>{"LayerNormalization", "Softmax", "/head/Gemm"});
  // A schedule may hold '+': the split is where a chain name begins.
  const ChainSpec t = parse_chain("fp16-acc32@tensor-core-8+2+fp32@pairwise-4:Conv");
  CHECK(schedule_name(t.schedule) == "tensor-core-8+2");
  CHECK(schedule_name(t.kept->schedule) == "pairwise-4");
  // In a list, items that start no chain continue the selectors of the mixed chain before them.
  const std::vector<ChainSpec> list = parse_chain_list("fp32,fp16+fp32:Softmax,/head/Gemm,bf16");
  REQUIRE(list.size() == 3);
  CHECK(list[1].name == "fp16+fp32:Softmax,/head/Gemm");
  CHECK(list[2].name == "bf16");
  CHECK_THROWS_AS(parse_chain("fp16+fp32:"), std::invalid_argument);
  CHECK_THROWS_AS(parse_chain("fp16+nope:Gemm"), std::invalid_argument);
  CHECK_THROWS_AS(parse_chain_list("fp16+fp32:Gemm,fp16+fp32:Gemm"), std::invalid_argument);

  const Model cnn("cnn");
  ChainSpec k = parse_chain("fp16+fp32:BatchNormalization,/head/Gemm");
  resolve_kept(k, cnn.graph);
  CHECK(k.kept_summary == "4 nodes (BatchNormalization x3, /head/Gemm)");
  CHECK(kept_text(k) == "kept in binary32: 4 nodes (BatchNormalization x3, /head/Gemm)");
  // Many selectors, as `fpaudit advise` writes them: the summary names four and counts the rest.
  ChainSpec many = parse_chain(
      "fp16+fp32:/features/features.0/Conv,/features/features.1/BatchNormalization,/features/features.2/Relu,"
      "/features/features.3/MaxPool,/features/features.4/Conv,/features/features.5/BatchNormalization,Gemm");
  resolve_kept(many, cnn.graph);
  CHECK(many.kept_summary ==
        "7 nodes (/features/features.0/Conv, /features/features.1/BatchNormalization, /features/features.2/Relu, "
        "/features/features.3/MaxPool and 3 more)");
  ChainSpec bad = parse_chain("fp16+fp32:/nope");
  CHECK_THROWS_WITH_AS(resolve_kept(bad, cnn.graph), ("no node or operator type '/nope' in " + kData + "/cnn.onnx").c_str(),
                       std::invalid_argument);
}

TEST_CASE("each node runs in its own arithmetic; boundaries round like a Cast") {
  const Model m("mlp");
  const ChainSpec spec = parse_chain("fp16+fp32:Gemm");
  const auto mixed = make_chain_arithmetic(spec);
  const auto fp32 = make_chain_arithmetic(parse_chain("fp32"));
  const auto fp16 = make_chain_arithmetic(parse_chain("fp16"));
  const std::vector<Tensor> cm = round_constants(*m.plan, *mixed), c32 = round_constants(*m.plan, *fp32),
                            c16 = round_constants(*m.plan, *fp16);
  for (long i = 0; i < 4; ++i) {
    Activations a(*m.plan, cm);
    std::vector<double> x = sample_values(images(), i, 784);
    holder_of(*m.plan, *mixed, m.plan->input_slots()[0]).round_storage(x);
    a.set_input(0, x);
    for (std::size_t l = 0; l < m.plan->layers().size(); ++l) {
      const PlannedLayer& layer = m.plan->layers()[l];
      a.run_layer(*mixed, l, a);
      // The same layer alone, in the node's own plain chain, on the mixed chain's inputs rounded
      // into that chain's storage: the same bits.
      const bool kept = layer.node->op_type == "Gemm";
      const Arithmetic& own = kept ? *fp32 : *fp16;
      Activations b(*m.plan, kept ? c32 : c16);
      for (int s : layer.inputs)
        if (s >= 0 && !m.plan->slots()[s].constant) {
          b.mutable_value(s) = a.value(s);
          own.round_storage(b.mutable_value(s).data);
        }
      b.run_layer(own, l, b);
      for (int o : layer.outputs) CHECK(a.value(o).data == b.value(o).data);
    }
  }
}

TEST_CASE("keeping every node gives the kept chain's outputs bit for bit") {
  for (const char* name : {"mlp", "cnn", "vit"}) {
    INFO(name);
    const Model m(name);
    std::set<std::string> types;
    for (const Node& n : m.graph.nodes) types.insert(n.op_type);
    ChainSpec all = mixed_chain(parse_chain("bf16"), parse_chain("fp32"), {types.begin(), types.end()});
    const auto mixed = make_chain_arithmetic(all);
    const auto fp32 = make_chain_arithmetic(parse_chain("fp32"));
    const std::vector<Tensor> cm = round_constants(*m.plan, *mixed), c32 = round_constants(*m.plan, *fp32);
    for (long i = 0; i < 3; ++i) {
      const std::vector<std::vector<double>> x = {sample_values(images(), i, 784)};
      CHECK(evaluate(*m.plan, *mixed, cm, x)[0].data == evaluate(*m.plan, *fp32, c32, x)[0].data);
    }
  }
}

TEST_CASE("every bound of a mixed chain holds: MLP, CNN and ViT, boundaries both ways") {
  {
    const Model m("mlp");
    const AuditResult r = audit(m, {"fp16+fp32:Gemm", "fp32+fp16:Relu", "bf16+fp32:/net/net.3/Gemm", "fp16"}, 24);
    REQUIRE(r.margin);
    CHECK(violations(r) == 0);
    for (std::size_t c = 0; c < 3; ++c) CHECK(checked(r, c) > 0);
    // Keeping the Gemms in binary32 certifies a priori what plain fp16 cannot.
    CHECK(r.classification[0].margin_a_priori_det > r.classification[3].margin_a_priori_det);
  }
  {
    const Model m("cnn");
    const AuditResult r = audit(m, {"bf16+fp32:Conv", "fp16+fp32:/head/Gemm,BatchNormalization"}, 6);
    CHECK(violations(r) == 0);
    CHECK(checked(r, 0) > 0);
  }
  {
    const Model m("vit");
    const AuditResult r = audit(m, {"fp16+fp32:Softmax,MatMul", "bf16+fp32:ReduceMean,Sqrt,Div"}, 2);
    CHECK(violations(r) == 0);
    CHECK(checked(r, 1) > 0);
  }
}

TEST_CASE("mixed chains give the same bits with 1 and 2 threads") {
  const Model m("mlp");
  AuditOptions o;
  o.chains = {parse_chain("fp16+fp32:/net/net.1/Gemm")};
  o.max_samples = 16;
  o.threads = 1;
  const AuditResult a = run_audit(*m.plan, images(), nullptr, o);
  o.threads = 2;
  const AuditResult b = run_audit(*m.plan, images(), nullptr, o);
  for (std::size_t l = 0; l < a.stats.size(); ++l) {
    CHECK(a.stats[l][0].propagated.abs.sum == b.stats[l][0].propagated.abs.sum);
    CHECK(a.stats[l][0].propagated_bound.bound.max == b.stats[l][0].propagated_bound.bound.max);
    CHECK(a.stats[l][0].margin.bound_share == b.stats[l][0].margin.bound_share);
  }
}
