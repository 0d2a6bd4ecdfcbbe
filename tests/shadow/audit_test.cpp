// The audit engine on models whose answers are known: a dot product worked out by hand in
// binary16, a layer that overflows binary16 at a known element, a softmax with a tie; the
// shipped MLP against a golden JSON; and 1-thread against 2-thread results, bit for bit.
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <doctest/doctest.h>

#include "common/atomic_file.h"
#include "graph/loader.h"
#include "graph/model_builder.h"
#include "report/audit_report.h"
#include "shadow/audit.h"
#include "shadow/audit_support.h"

using namespace fpaudit;
using fpaudit::test::ModelBuilder;
using fpaudit::test::audit_model;
using fpaudit::test::chains;
using fpaudit::test::float_array;

TEST_CASE("a binary16 dot product worked out by hand") {
  // y = x·w with x = (2048, 1, 1, 1), w = (1, 1, 1, 1). binary16 has spacing 2 at 2048, so each
  // 2048 + 1 is a tie that rounds to even 2048: the fp16 FMA chain returns 2048. The exact value
  // is 2051, which binary32 accumulation represents and binary16 storage rounds to 2052.
  ModelBuilder mb;
  mb.input("x", test::kFloat, {1, 4}).output("y", test::kFloat, {1, 1});
  mb.initializer(test::float_tensor("w", {1, 4}, {1, 1, 1, 1}));
  test::set_attr(mb.node("Gemm", {"x", "w"}, {"y"}, "dot"), "transB", std::int64_t{1});
  const auto a = audit_model(mb, {1, 4}, float_array({1, 4}, {2048, 1, 1, 1}), chains({"fp16", "fp16-acc32", "fp32"}));
  const auto& stats = a->result.stats.at(0);
  CHECK(stats[0].propagated.abs.max == 3.0);   // |2048 - 2051|
  CHECK(stats[0].local.abs.max == 3.0);
  CHECK(stats[0].propagated.ulps.max == 1.5);  // ulp of binary16 at 2051 is 2
  CHECK(stats[1].propagated.abs.max == 1.0);   // |2052 - 2051|
  CHECK(stats[2].propagated.abs.max == 0.0);
  // No bound is violated, and the fp16 bound is at least the error seen.
  for (const auto& s : stats) {
    CHECK(s.propagated_bound.violations == 0);
    CHECK(s.local_bound.violations == 0);
    CHECK(s.propagated_bound.checked == 1);
  }
  CHECK(stats[0].propagated_bound.bound.max >= 3.0);
}

TEST_CASE("a layer that overflows binary16 at a known element") {
  // (1, 2, 3) · (1, 40000, 1): the middle product 80000 exceeds 65504: Inf in binary16 only.
  ModelBuilder mb;
  mb.input("x", test::kFloat, {1, 3}).output("y", test::kFloat, {1, 3});
  mb.initializer(test::float_tensor("s", {1, 3}, {1, 40000, 1}));
  mb.node("Mul", {"x", "s"}, {"y"}, "scale");
  const auto a = audit_model(mb, {1, 3}, float_array({2, 3}, {1, 2, 3, 1, 1, 1}), chains({"fp16", "bf16", "fp32"}));
  const auto& st = a->result.stats.at(0);
  CHECK(st[0].events.overflow == 1);  // sample 0 only: sample 1 gives 40000
  CHECK(st[0].events.first_nonfinite_sample == 0);
  CHECK(st[1].events.overflow == 0);
  CHECK(st[2].events.overflow == 0);
  CHECK(a->result.records[0].chains[0].first_nonfinite_layer == 0);
  CHECK(a->result.records[1].chains[0].first_nonfinite_layer == -1);
  CHECK(std::isinf(a->result.records[0].chains[0].delta_ref));
  CHECK(a->result.classification[0].nonfinite == 1);
  const auto nf = first_nonfinite(a->result);
  CHECK(nf[0].layer == 0);
  CHECK(nf[0].samples == 1);
  CHECK(nf[1].layer == -1);
}

TEST_CASE("a node output left unnamed (an optional output not asked for) has no tensor anywhere") {
  // Dropout's mask is optional: "" gives the layer an output slot -1, which evaluation, bound
  // rules, the a-priori pass and the statistics must all skip.
  ModelBuilder mb;
  mb.input("x", test::kFloat, {1, 3}).output("y", test::kFloat, {1, 3});
  mb.initializer(test::float_tensor("s", {1, 3}, {0.1, 3, 7}));
  mb.node("Mul", {"x", "s"}, {"m"}, "scale");
  mb.node("Dropout", {"m"}, {"y", ""}, "dropout");
  const auto a = audit_model(mb, {1, 3}, float_array({2, 3}, {1, 2, 3, -1, 0.5, 0.25}), chains({"fp16", "fp32"}));
  REQUIRE(a->plan->layers().at(1).outputs.at(1) == -1);
  for (const LayerChainStats& s : a->result.stats.at(1)) {
    CHECK(s.propagated_bound.checked == 6);
    CHECK(s.propagated_bound.violations == 0);
  }
  CHECK(a->result.records.at(0).chains.at(1).a_priori.det);
}

TEST_CASE("a softmax with a known tie") {
  // softmax(1, 1, 0): the first two probabilities are equal in every arithmetic, so every chain
  // and the reference see a tie (top-1 = the lower index), Γ = 0 and nothing is certified.
  ModelBuilder mb;
  mb.input("x", test::kFloat, {1, 3}).output("p", test::kFloat, {1, 3});
  mb.node("Softmax", {"x"}, {"p"}, "softmax");
  const auto a = audit_model(mb, {1, 3}, float_array({1, 3}, {1, 1, 0}), chains({"fp16", "bf16-acc32"}));
  const SampleRecord& r = a->result.records.at(0);
  CHECK(r.ref_top1 == 0);
  CHECK(r.margin_ref == 0.0);
  for (std::size_t c = 0; c < 2; ++c) {
    CHECK(r.chains[c].tie);
    CHECK(r.chains[c].top1 == 0);
    CHECK(a->result.classification[c].ties == 1);
    CHECK(a->result.classification[c].certified_vs_ref == 0);
    CHECK(a->result.classification[c].flips_vs_ref == 0);
  }
}

namespace {
/// A shipped model audited on its first `samples` test samples with every default chain.
nlohmann::json audit_shipped(const std::string& model, long samples, int threads) {
  const std::string data = FPAUDIT_DATA_DIR;
  Graph g = load_onnx(data + "/" + model + ".onnx");
  const Constant x = read_npy(data + "/test_images.npy");
  const Constant y = read_npy(data + "/test_labels.npy");
  infer_shapes(g, std::vector<Shape>{{1, 1, 28, 28}});
  const Plan plan(g);
  AuditOptions o;
  o.chains = chains({"fp32", "fp16", "fp16-acc32", "bf16", "bf16-acc32"});
  o.max_samples = samples;
  o.threads = threads;
  const AuditResult r = run_audit(plan, x, &y, o);
  nlohmann::json j = audit_to_json(r, plan, {model + ".onnx", "test_images.npy", "test_labels.npy", "golden"});
  j.erase("timing");  // the only field that may differ from run to run
  return j;
}

/// Compares with tests/shadow/golden/NAME (FPAUDIT_UPDATE_GOLDEN=1 rewrites it).
void check_golden(const nlohmann::json& audit, const std::string& name) {
  const std::string golden = std::string(FPAUDIT_GOLDEN_DIR) + "/" + name;
  if (std::getenv("FPAUDIT_UPDATE_GOLDEN")) write_file_atomic(golden, audit.dump(1) + "\n");
  std::ifstream in(golden);
  REQUIRE_MESSAGE(in.good(), "missing ", golden, " (FPAUDIT_UPDATE_GOLDEN=1 writes it)");
  const nlohmann::json expected = nlohmann::json::parse(in);
  // On a mismatch, name the first differing path rather than dumping two large documents.
  const nlohmann::json diff = nlohmann::json::diff(expected, audit);
  CHECK_MESSAGE(diff.empty(), name, " differs: ", diff.empty() ? "" : diff[0].dump());
}
}  // namespace

TEST_CASE("the shipped MLP matches the golden JSON, with 1 and 2 threads") {
  const nlohmann::json one = audit_shipped("mlp", 6, 1), two = audit_shipped("mlp", 6, 2);
  CHECK(one == two);
  check_golden(one, "mlp_6_samples.json");
  CHECK(one["classification"]["chains"]["fp16"]["correct"].get<long>() >= 5);
}

// The CNN covers what the MLP does not (Conv, BatchNormalization, pools, the a-priori pass over
// intervals) and its chains call no libm function (only the bound constants' exp and expm1, as
// the MLP's do): the bound code's fast paths (blocked rows, shared error tensors) are pinned here.
TEST_CASE("the shipped CNN matches the golden JSON") { check_golden(audit_shipped("cnn", 3, 1), "cnn_3_samples.json"); }

// Samples go to threads in chunks of 8 (lib/shadow/audit.cpp): 20 samples make three chunks, so
// 2 and 3 threads really split the work and the ordered merge is exercised. The ViT (Erf,
// Softmax, LayerNorm decomposed) calls libm in its chains, whose CPU-specific variants may
// differ between machines: thread-count independence only, no golden.
TEST_CASE("1, 2 and 3 threads agree bit for bit on every shipped model, over several chunks") {
  for (const char* model : {"mlp", "cnn", "vit"}) {
    CAPTURE(model);
    const nlohmann::json one = audit_shipped(model, 20, 1);
    CHECK(one["data"]["samples"].get<long>() == 20);
    CHECK(one == audit_shipped(model, 20, 2));
    CHECK(one == audit_shipped(model, 20, 3));
  }
}
