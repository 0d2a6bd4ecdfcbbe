// The model zoo (data/zoo, made by tools/zoo/export_zoo.py): architectures users deploy, each
// loaded, evaluated in the exact reference and the fp32 chain, compared with ONNX Runtime's fp32
// outputs (data/zoo/<name>-ort.npy, written by tools/zoo/ort_outputs.js; zoo_ort_provenance
// checks they belong to the committed model and input files), and audited in every chain.
// One test case per model; ctest runs each alone (tests/zoo/CMakeLists.txt).
//
// fp32 against ONNX Runtime, on all samples of the input file, two checks:
// 1. The rigorous fp32 bound, for the models made only of dot products and sums (Conv,
//    ConvTranspose, Gemm, MatMul, Add, pooling) and 1-Lipschitz monotone piecewise-linear maps
//    (Relu, MaxPool, Concat, reshapes): ResNet-18, SqueezeNet, the U-Net. Per output element,
//    with u = 2⁻²⁴, N the sum over the graph's nodes of the longest sum each forms (terms per
//    output, +1 for its own rounding; dot_length) and S the exact network evaluated on |input|
//    with every weight replaced by its absolute value,
//        |y_fp32 − y| ≤ γ_N(u)·S + 2u·|y|
//    for any fp32 evaluation that forms each sum of n terms in any order, with or without FMA:
//    each layer computes W·x̂ + Δ with |Δ| ≤ γ_n·|W|·|x̂|, so by induction the error after layer
//    l is at most (Π_k (1 + γ_{n_k}) − 1)·S_l ≤ γ_{Σ n_k}·S_l (Higham, Lemma 3.3); 2u·|y| covers
//    the final rounding. ONNX Runtime's outputs and fpaudit's fp32 chain must both meet it. It is
//    sound and, like fpaudit's own propagated bounds, far from tight on deep networks (|W|·|x|
//    grows layer by layer): the ratio error/bound is printed.
// 2. ONNX Runtime is as accurate as fpaudit's binary32 chain, for every model: per sample,
//    max |y_ORT − y| ≤ 4·max |y_fp32 − y| + 2u·max |y|. Not a theorem (two summation orders of the
//    same binary32 sums; ONNX Runtime's error measured 0.8-2.2 times the fp32 chain's) but a
//    tight check that fpaudit's exact reference computes the function ONNX Runtime computes: a
//    wrong operator semantics shows as an error far above fp32 rounding. Both sides are fixed
//    bits (committed outputs; the fp32 chain is bit-identical on every CPU), so the check does
//    not depend on the machine the test runs on.
//
// The audit: every chain fpaudit names (named_chains(): fp32, fp16, fp16-acc32, bf16,
// bf16-acc32, fp8-e4m3-acc32, fp8-e5m2-acc32), exact reference, the first 3 samples; every
// layer's local and propagated observation must lie within its deterministic bound (0
// violations), and no certified sample may flip (lemma and certificate violations 0).
//
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <string>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "graph/loader.h"
#include "core/reference_arithmetic.h"
#include "shadow/audit.h"
#include "shadow/plan.h"
#include "shadow/sample_plan.h"

using namespace fpaudit;

namespace {

const std::filesystem::path kZoo = FPAUDIT_ZOO_DIR;
constexpr long kAuditSamples = 3;

std::int64_t product(const Shape& s, std::size_t from) {
  std::int64_t n = 1;
  for (std::size_t d = from; d < s.size(); ++d) n *= s[d];
  return n;
}

const Shape& shape_of(const Graph& g, const std::string& name) {
  if (const Constant* c = g.constant(name)) return c->shape;
  return g.value(name)->shape;
}

/// Terms of the longest sum node `n` forms per output element, plus one for its own rounding
/// (elementwise operators: 1).
long dot_length(const Graph& g, const Node& n) {
  const std::string& op = n.op_type;
  if (op == "Conv") return product(shape_of(g, n.inputs.at(1)), 1) + 1;
  if (op == "ConvTranspose") {
    const Shape& w = shape_of(g, n.inputs.at(1));
    return w[0] / n.attr_int("group", 1) * product(w, 2) + 1;
  }
  const Shape& x = shape_of(g, n.inputs.at(0));
  if (op == "Gemm") return (n.attr_int("transA", 0) ? x[0] : x[1]) + 2;
  if (op == "MatMul") return x.back() + 1;
  if (op == "GlobalAveragePool" || op == "GlobalMaxPool") return product(x, 2) + 1;
  if (op == "MaxPool" || op == "AveragePool") {
    const auto k = n.attr_ints("kernel_shape", {});
    long terms = 1;
    for (auto v : k) terms *= v;
    return terms + 1;
  }
  if (op == "ReduceMean" || op == "ReduceSum")
    return element_count(x) / std::max<std::int64_t>(1, element_count(shape_of(g, n.outputs.at(0)))) + 1;
  if (op == "Softmax" || op == "LayerNormalization") return x.back() + 4;
  return 1;
}

double gamma(long n) {
  const double u = std::ldexp(1.0, -24);
  return n * u / (1 - n * u);
}

/// The model, loaded for samples shaped as `inputs` ([N, ...], one input), and the same model
/// with every float constant replaced by its absolute value.
struct Loaded {
  Graph graph, absolute;
  long accumulation = 0;  // N of the fp32 bound
};

Loaded load(const std::filesystem::path& model, const Constant& inputs) {
  Loaded m{load_onnx(model), {}, 0};
  REQUIRE(m.graph.inputs.size() == 1);
  Shape sample = inputs.shape;
  sample[0] = 1;
  infer_shapes(m.graph, std::vector<Shape>{sample});
  for (const Node& n : m.graph.nodes) m.accumulation += dot_length(m.graph, n);
  m.absolute = m.graph;
  for (auto& [name, c] : m.absolute.constants) {
    Constant absolute = *c;  // the copy shares the constants: replace, never modify them
    for (double& v : absolute.values) v = std::fabs(v);
    c = std::make_shared<const Constant>(std::move(absolute));
  }
  return m;
}

/// Largest |a − b| and |a − b| / |b| over all elements.
struct Difference {
  double abs = 0, rel = 0, ratio = 0;  // ratio: largest |a − b| / the rigorous fp32 bound
};

void check_fp32_against_ort(const std::string& name, const Loaded& m, const Constant& x, bool piecewise_linear) {
  const Constant ort = read_npy(kZoo / (name + "-ort.npy"));
  const Plan plan(m.graph), absolute_plan(m.absolute);
  const auto exact = make_reference_arithmetic("exact");
  const auto fp32 = make_chain_arithmetic(parse_chain("fp32"));
  const long samples = x.shape[0];
  const long per_sample = static_cast<long>(element_count(x.shape) / samples);
  REQUIRE(ort.shape[0] == samples);
  const long per_output = static_cast<long>(element_count(ort.shape) / samples);
  Difference ort_ref, fp32_ref, ort_fp32;
  long outside = 0;
  double worst_peer_ratio = 0;
  for (long s = 0; s < samples; ++s) {
    std::vector<double> in = sample_values(x, s, per_sample), abs_in = in;
    for (double& v : abs_in) v = std::fabs(v);
    const std::vector<double> ref = evaluate(plan, *exact, {in}).at(0).data;
    const std::vector<double> got = evaluate(plan, *fp32, {in}).at(0).data;
    REQUIRE(static_cast<long>(ref.size()) == per_output);
    std::vector<double> scale;
    if (piecewise_linear) scale = evaluate(absolute_plan, *exact, {abs_in}).at(0).data;
    double ort_err = 0, fp32_err = 0, ref_max = 0;
    for (long i = 0; i < per_output; ++i) {
      const double r = ref[i], o = ort.values[s * per_output + i], f = got[i];
      ort_err = std::max(ort_err, std::fabs(o - r));
      fp32_err = std::max(fp32_err, std::fabs(f - r));
      ref_max = std::max(ref_max, std::fabs(r));
      const double bound =
          piecewise_linear ? gamma(m.accumulation) * scale[i] + 2 * std::ldexp(std::fabs(r), -24) : INFINITY;
      auto note = [&](Difference& d, double a, double b) {
        d.abs = std::max(d.abs, std::fabs(a - b));
        if (b != 0) d.rel = std::max(d.rel, std::fabs(a - b) / std::fabs(b));
        if (piecewise_linear) d.ratio = std::max(d.ratio, std::fabs(a - b) / bound);
      };
      note(ort_ref, o, r);
      note(fp32_ref, f, r);
      note(ort_fp32, o, f);
      outside += !(std::fabs(o - r) <= bound) + !(std::fabs(f - r) <= bound);
    }
    // ONNX Runtime is as accurate as fpaudit's binary32 chain, both against the exact network.
    const double peer_bound = 4 * fp32_err + 2 * std::ldexp(ref_max, -24);
    worst_peer_ratio = std::max(worst_peer_ratio, ort_err / peer_bound);
  }
  std::cout << fmt::format(
      "{}: N = {}; ONNX Runtime vs exact: max abs {:.3g}, rel {:.3g}; fpaudit fp32 vs exact: max abs {:.3g}, rel "
      "{:.3g}; ONNX Runtime vs fpaudit fp32: max abs {:.3g}, rel {:.3g}; ONNX Runtime's error / (4 × fp32's): {:.3g}",
      name, m.accumulation, ort_ref.abs, ort_ref.rel, fp32_ref.abs, fp32_ref.rel, ort_fp32.abs, ort_fp32.rel,
      worst_peer_ratio);
  if (piecewise_linear)
    std::cout << fmt::format("; of the rigorous fp32 bound: ONNX Runtime {:.3g}, fpaudit fp32 {:.3g}", ort_ref.ratio,
                             fp32_ref.ratio);
  std::cout << "\n";
  CHECK(outside == 0);
  CHECK(worst_peer_ratio <= 1);
}

AuditOptions audit_options() {
  AuditOptions options;
  for (const ChainSpec& c : named_chains()) options.chains.push_back(c);
  options.max_samples = kAuditSamples;
  options.threads = 2;
  return options;
}

/// Every chain's audit: no bound violated, no certified sample flipped.
void check_audit_result(const std::string& name, const AuditResult& r) {
  REQUIRE(r.samples == kAuditSamples);
  for (std::size_t c = 0; c < r.chains.size(); ++c) {
    std::uint64_t checked = 0, violations = 0, unbounded = 0;
    for (const auto& layer : r.stats) {
      const LayerChainStats& s = layer[c];
      checked += s.local_bound.checked + s.propagated_bound.checked;
      unbounded += s.local_bound.unbounded + s.propagated_bound.unbounded;
      violations += s.local_bound.violations + s.propagated_bound.violations;
    }
    const ChainClassification& k = r.classification[c];
    std::cout << fmt::format("{} audit, {}: {} flips vs exact, {} vs fp32; {} elements checked, {} unbounded, {} "
                             "violations\n",
                             name, r.chains[c].name, k.flips_vs_ref, k.flips_vs_fp32, checked, unbounded, violations);
    CHECK_MESSAGE(violations == 0, name, " ", r.chains[c].name);
    CHECK(k.lemma_violations == 0);
    CHECK(k.certificate_violations == 0);
    CHECK(k.margin_violations == 0);
    CHECK(k.margin_certificate_violations == 0);
    CHECK(checked > 0);
  }
}

AuditResult check_audit(const std::string& name, const Loaded& m, const Constant& x) {
  const Plan plan(m.graph);
  AuditResult r = run_audit(plan, x, nullptr, audit_options());
  check_audit_result(name, r);
  return r;
}

/// The full check of one model with one float input (name-input.npy unless `input` is given).
void check_model(const std::string& name, bool piecewise_linear, const std::string& input = "") {
  const Constant x = read_npy(kZoo / (input.empty() ? name + "-input.npy" : input));
  const Loaded m = load(kZoo / (name + ".onnx"), x);
  check_fp32_against_ort(name, m, x, piecewise_linear);
  check_audit(name, m, x);
}

}  // namespace

TEST_CASE("zoo resnet18") { check_model("resnet18", true); }
TEST_CASE("zoo mobilenetv3_small") { check_model("mobilenetv3_small", false); }
TEST_CASE("zoo efficientnet_b0") { check_model("efficientnet_b0", false); }
TEST_CASE("zoo squeezenet") { check_model("squeezenet", true); }
TEST_CASE("zoo unet") { check_model("unet", true); }
TEST_CASE("zoo bert_embeds") {
  check_model("bert_embeds", false);
  // The int64 model (token ids and attention mask) computes the same function: ONNX Runtime's
  // outputs of the two agree to fp32 rounding (the embedding lookup is exact).
  const Constant a = read_npy(kZoo / "bert-ort.npy"), b = read_npy(kZoo / "bert_embeds-ort.npy");
  REQUIRE(a.values.size() == b.values.size());
  for (std::size_t i = 0; i < a.values.size(); ++i) CHECK(std::fabs(a.values[i] - b.values[i]) <= 1e-5);
}
TEST_CASE("zoo gpt") {
  const Constant x = read_npy(kZoo / "gpt-input.npy");
  const Loaded m = load(kZoo / "gpt.onnx", x);
  check_fp32_against_ort("gpt", m, x, false);
  const AuditResult r = check_audit("gpt", m, x);
  // The margin certificate on a language model's output: the radius cut (theory/margin-bound.md,
  // Theorem 1′) makes the fp32 chain's a-posteriori bound prove every sample, and the grouped
  // passes over the far tokens (margin_bound_group) do it in a few passes instead of one per
  // competing score (257 a sample).
  std::size_t fp32 = r.chains.size();
  for (std::size_t c = 0; c < r.chains.size(); ++c)
    if (r.chains[c].name == "fp32") fp32 = c;
  REQUIRE(fp32 < r.chains.size());
  CHECK(r.classification[fp32].margin_a_posteriori_det == kAuditSamples);
  for (const SampleRecord& s : r.records) {
    const MarginVerdict& mv = s.chains[fp32].margin;
    std::cout << fmt::format("gpt sample {}: fp32 margin bound {:.3g}, {} backward passes\n", s.index, mv.bound_det, mv.directions);
    CHECK(mv.directions < 60);
  }
}

TEST_CASE("zoo squeezenet_op18") {
  // Opset 18 is read (its operators are unchanged from 13): the full check, on SqueezeNet's input.
  check_model("squeezenet_op18", true, "squeezenet-input.npy");
  // The relabelling is valid: ONNX Runtime gives the opset-13 file's outputs bit for bit.
  CHECK(read_npy(kZoo / "squeezenet_op18-ort.npy").values == read_npy(kZoo / "squeezenet-ort.npy").values);
}

// The GRU layer is expanded into its 20 time steps (theory/recurrent.md): Gemm, Add, Sigmoid,
// Tanh, Mul and Sub nodes named "/gru/GRU/t<step>/<part>", audited like any other layers.
TEST_CASE("zoo gru") { check_model("gru", false); }
TEST_CASE("zoo bert") {
  // int64 token ids and an attention mask, given by name. They are runtime values of the plan
  // (exact data: never rounded, bound 0): the embedding lookup is a Gather by runtime indices
  // and the mask a Cast of integers, both evaluated per sample in every chain.
  Graph g = load_onnx(kZoo / "bert.onnx");
  REQUIRE(g.inputs.size() == 2);
  const SampleSet samples(g, {{"input_ids", read_npy(kZoo / "bert-input_ids.npy"), "bert-input_ids.npy"},
                              {"attention_mask", read_npy(kZoo / "bert-attention_mask.npy"), "bert-attention_mask.npy"}},
                          {});
  infer_shapes(g, samples.sample_shapes());
  CHECK(g.value("input_ids")->exact_data);
  CHECK(!g.value("/Cast_output_0")->exact_data);  // mask as float: rounded into each chain's storage
  const Plan plan(g);
  // The exact reference and the fp32 chain against ONNX Runtime, by the rule of
  // check_fp32_against_ort (ONNX Runtime's error at most 4 × fpaudit fp32's plus 2u·max|y|).
  const Constant ort = read_npy(kZoo / "bert-ort.npy");
  REQUIRE(ort.shape[0] == samples.count());
  const auto exact = make_reference_arithmetic("exact");
  const auto fp32 = make_chain_arithmetic(parse_chain("fp32"));
  const long per_output = static_cast<long>(element_count(ort.shape) / samples.count());
  double worst = 0, ort_abs = 0, fp32_abs = 0, ort_audited = 0;
  for (long s = 0; s < samples.count(); ++s) {
    const std::vector<std::vector<double>> in{samples.values(0, s), samples.values(1, s)};
    const std::vector<double> ref = evaluate(plan, *exact, in).at(0).data;
    const std::vector<double> got = evaluate(plan, *fp32, in).at(0).data;
    REQUIRE(static_cast<long>(ref.size()) == per_output);
    double ort_err = 0, fp32_err = 0, ref_max = 0;
    for (long i = 0; i < per_output; ++i) {
      ort_err = std::max(ort_err, std::fabs(ort.values[s * per_output + i] - ref[i]));
      fp32_err = std::max(fp32_err, std::fabs(got[i] - ref[i]));
      fp32_abs = std::max(fp32_abs, std::fabs(ort.values[s * per_output + i] - got[i]));
      ref_max = std::max(ref_max, std::fabs(ref[i]));
    }
    ort_abs = std::max(ort_abs, ort_err);
    if (s < kAuditSamples) ort_audited = std::max(ort_audited, ort_err);
    worst = std::max(worst, ort_err / (4 * fp32_err + 2 * std::ldexp(ref_max, -24)));
  }
  // The audit in every chain, on the first samples; the fp32 chain's deterministic bound on the
  // output (the last layer's largest) covers ONNX Runtime's error too.
  const AuditResult r = run_audit(plan, plan_samples(samples, kAuditSamples), nullptr, audit_options());
  check_audit_result("bert", r);
  const double fp32_bound = r.stats.back().at(0).propagated_bound.bound.max;
  std::cout << fmt::format("bert (int64 ids + mask): {} samples; ONNX Runtime vs exact: max abs {:.3g}; ONNX Runtime vs "
                           "fpaudit fp32: max abs {:.3g}; ONNX Runtime's error / (4 × fp32's): {:.3g}; fp32 output bound "
                           "{:.3g}\n", samples.count(), ort_abs, fp32_abs, worst, fp32_bound);
  CHECK(worst <= 1);
  CHECK(r.chains.at(0).name == "fp32");
  CHECK(ort_audited <= fp32_bound);
}
