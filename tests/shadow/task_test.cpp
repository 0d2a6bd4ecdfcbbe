// Tasks beyond classification (shadow/task.h, shadow/task_judge.h) and parameter-level causes
// (shadow/parameter_causes.h), on hand-built models whose answers are worked out by hand: the
// automatic choice and its stated reason, regression against a tolerance (observed and proved),
// per-pixel segmentation, threshold decisions, several outputs, and a BatchNormalization
// variance of 1e5 that binary16 turns into infinity. The report shows all of it.
#include <cmath>
#include <stdexcept>

#include <doctest/doctest.h>

#include "graph/loader.h"
#include "graph/model_builder.h"
#include "report/audit_report.h"
#include "report/render.h"
#include "shadow/audit.h"
#include "shadow/audit_support.h"

using namespace fpaudit;
using fpaudit::test::chains;
using fpaudit::test::float_array;
using fpaudit::test::ModelBuilder;

namespace {

struct Run {
  Graph graph;
  std::unique_ptr<Plan> plan;
  AuditResult result;
};

std::unique_ptr<Run> run(const ModelBuilder& mb, const Shape& sample, const Constant& x, const std::vector<ChainSpec>& cs,
                         const TaskOptions& task = {}) {
  auto r = std::make_unique<Run>();
  r->graph = mb.parse();
  infer_shapes(r->graph, std::vector<Shape>{sample});
  r->plan = std::make_unique<Plan>(r->graph);
  AuditOptions o;
  o.chains = cs;
  o.threads = 1;
  o.task = task;
  r->result = run_audit(*r->plan, x, nullptr, o);
  return r;
}

/// y = x · 1 (a Mul by an exact one): the chain's output is x rounded into its storage.
ModelBuilder identity_model(const std::vector<std::int64_t>& dims, const std::string& out = "y") {
  ModelBuilder mb;
  mb.input("x", test::kFloat, dims).output(out, test::kFloat, dims);
  mb.initializer(test::float_tensor("one", {1}, {1}));
  mb.node("Mul", {"x", "one"}, {out}, "scale");
  return mb;
}

std::vector<OutputTask> tasks_of(const ModelBuilder& mb, const Shape& sample, const TaskOptions& o) {
  Graph g = mb.parse();
  infer_shapes(g, std::vector<Shape>{sample});
  const Plan plan(g);
  return choose_tasks(plan, o);
}

}  // namespace

TEST_CASE("the automatic task choice and its stated reason") {
  const std::vector<OutputTask> emb = tasks_of(identity_model({1, 96}, "embedding"), {1, 96}, {});
  REQUIRE(emb.size() == 1);
  CHECK(emb[0].kind == TaskKind::Regress);
  CHECK(emb[0].reason == "auto: output [1, 96] and no labels; --task to change");
  TaskOptions labelled;
  labelled.labels = true;
  CHECK(tasks_of(identity_model({1, 96}, "embedding"), {1, 96}, labelled)[0].kind == TaskKind::Classify);
  const OutputTask logits = tasks_of(identity_model({1, 10}, "logits"), {1, 10}, {})[0];
  CHECK(logits.kind == TaskKind::Classify);
  CHECK(logits.class_axis == 1);
  CHECK(logits.reason == "auto: output [1, 10] named 'logits'; --task to change");
  const OutputTask one = tasks_of(identity_model({1, 1}), {1, 1}, {})[0];
  CHECK(one.kind == TaskKind::Detect);
  CHECK(one.threshold == 0.0);
  const OutputTask map = tasks_of(identity_model({1, 3, 4, 4}), {1, 3, 4, 4}, {})[0];
  CHECK(map.kind == TaskKind::Segment);
  CHECK(map.class_axis == 1);
  ModelBuilder sig;
  sig.input("x", test::kFloat, {1, 1, 4, 4}).output("p", test::kFloat, {1, 1, 4, 4});
  sig.node("Sigmoid", {"x"}, {"p"}, "sigmoid");
  const OutputTask prob = tasks_of(sig, {1, 1, 4, 4}, {})[0];
  CHECK(prob.kind == TaskKind::Detect);
  CHECK(prob.threshold == 0.5);
  CHECK(prob.reason == "auto: output [1, 1, 4, 4] is a Sigmoid map, threshold 0.5; --task to change");
  TaskOptions last_axis;
  last_axis.class_axis_given = true;
  last_axis.class_axis = -1;
  CHECK(tasks_of(identity_model({1, 4, 4, 3}), {1, 4, 4, 3}, last_axis)[0].class_axis == 3);
}

TEST_CASE("bad task options are usage errors") {
  TaskOptions classify;
  classify.task_given = true;
  classify.task = TaskKind::Classify;
  CHECK_THROWS_AS(tasks_of(identity_model({1, 3, 4, 4}), {1, 3, 4, 4}, classify), std::invalid_argument);
  CHECK_THROWS_AS(tasks_of(identity_model({1, 1}), {1, 1}, classify), std::invalid_argument);
  TaskOptions axis;
  axis.class_axis_given = true;
  axis.class_axis = 4;
  CHECK_THROWS_AS(tasks_of(identity_model({1, 3, 4, 4}), {1, 3, 4, 4}, axis), std::invalid_argument);
  const Tolerance t = parse_tolerance("rtol=1e-3,atol=1e-5");
  CHECK(t.rtol == 1e-3);
  CHECK(t.atol == 1e-5);
  CHECK(parse_tolerance("atol=0").rtol == Tolerance{}.rtol);
  for (const char* bad : {"", "rtol", "rtol=", "rtol=abc", "rtol=-1", "rtol=inf", "btol=1", "rtol=1,rtol=2", "rtol=1e-3;atol=1"})
    CHECK_THROWS_AS(parse_tolerance(bad), std::invalid_argument);
  CHECK_THROWS_AS(parse_task("classification"), std::invalid_argument);
}

TEST_CASE("regression: errors against the reference, the bound and a tolerance") {
  // x = 1 + 2^-12 is not a binary16 value: fp16 rounds it to 1 (a tie, to even), an error of
  // exactly 2^-12 = 2.44e-4; fp32 holds it. The second element 0.25 is exact everywhere.
  const Constant x = float_array({1, 2}, {1 + 0x1p-12, 0.25});
  TaskOptions loose;
  loose.tolerance = {0, 1e-3};
  const auto a = run(identity_model({1, 2}, "embedding"), {1, 2}, x, chains({"fp16", "fp32"}), loose);
  REQUIRE(a->result.tasks.size() == 1);
  REQUIRE(a->result.tasks[0].kind == TaskKind::Regress);
  const TaskSummary& h = a->result.task_summaries[0][0];
  CHECK(h.samples == 1);
  CHECK(h.max_abs == 0x1p-12);
  CHECK(h.within_observed == 1);
  CHECK(h.within_proved == 1);  // the fp16 bound (≤ 2^-12 + u·|y|, u = 2^-11) stays below 1e-3
  CHECK(h.max_bound >= 0x1p-12);
  CHECK(h.max_bound <= 1e-3);
  CHECK(h.max_bound_ratio <= 1.0);
  CHECK(h.max_normwise == doctest::Approx(0x1p-12 / std::sqrt((1 + 0x1p-12) * (1 + 0x1p-12) + 0.0625)).epsilon(1e-12));
  CHECK(h.outside == 0);
  const TaskSummary& f = a->result.task_summaries[0][1];
  CHECK(f.max_abs == 0.0);
  CHECK(f.within_proved == 1);

  TaskOptions tight;
  tight.tolerance = {0, 1e-4};  // below fp16's error: neither observed nor proved
  const auto b = run(identity_model({1, 2}, "embedding"), {1, 2}, x, chains({"fp16"}), tight);
  CHECK(b->result.task_summaries[0][0].within_observed == 0);
  CHECK(b->result.task_summaries[0][0].within_proved == 0);
  CHECK(b->result.task_summaries[0][0].outside == 1);
  // A relative tolerance of 2^-12 / 1 holds the first element exactly at the edge: observed
  // within (|y − ref| = rtol·|ref| rounds the right way) needs rtol·|ref| ≥ 2^-12 after rounding
  // down, which 2^-12 · (1 + 2^-12) is.
  TaskOptions rel;
  rel.tolerance = {0x1p-12, 0};
  const auto c = run(identity_model({1, 2}, "embedding"), {1, 2}, x, chains({"fp16"}), rel);
  CHECK(c->result.task_summaries[0][0].within_observed == 1);
  CHECK(c->result.task_summaries[0][0].within_proved == 0);  // the bound adds u·|y| on top
}

TEST_CASE("segmentation: top-1 per pixel along the class axis") {
  // Output [1, 2, 1, 3]: two classes at three pixels. Pixel 0 holds (1, 1 + 2^-12): class 1 in
  // the reference, a tie (class 0) once fp16 rounds the second score to 1. Pixels 1 and 2 hold
  // (0, 1) and (2, 1): clear classes, certified.
  const Constant x = float_array({1, 2, 1, 3}, {1, 0, 2, 1 + 0x1p-12, 1, 1});
  const auto a = run(identity_model({1, 2, 1, 3}), {1, 2, 1, 3}, x, chains({"fp16", "fp32"}));
  REQUIRE(a->result.tasks[0].kind == TaskKind::Segment);
  const TaskSummary& h = a->result.task_summaries[0][0];
  CHECK(h.decisions == 3);
  CHECK(h.flipped == 1);
  CHECK(h.samples_flipped == 1);
  CHECK(h.certified_observed == 2);
  CHECK(h.certified_bound == 2);
  CHECK(h.violations == 0);
  CHECK(h.min_margin == 0x1p-12);
  const TaskSummary& f = a->result.task_summaries[0][1];
  CHECK(f.flipped == 0);
  CHECK(f.certified_observed == 3);
  CHECK(f.certified_bound == 3);  // binary32's bound is far below the margin 2^-12
}

TEST_CASE("threshold decisions: a Sigmoid map at 0.5 and a single logit at 0") {
  // sigmoid(1e-4) = 0.500025, which binary16 (spacing 2^-11 above 0.5) rounds to 0.5: not above
  // the threshold, a flip. sigmoid(2) and sigmoid(-3) are far from 0.5: certified.
  ModelBuilder sig;
  sig.input("x", test::kFloat, {1, 1, 1, 3}).output("p", test::kFloat, {1, 1, 1, 3});
  sig.node("Sigmoid", {"x"}, {"p"}, "sigmoid");
  const auto a = run(sig, {1, 1, 1, 3}, float_array({1, 1, 1, 1, 3}, {1e-4, 2, -3}), chains({"fp16"}));
  REQUIRE(a->result.tasks[0].kind == TaskKind::Detect);
  const TaskSummary& s = a->result.task_summaries[0][0];
  CHECK(s.decisions == 3);
  CHECK(s.flipped == 1);
  CHECK(s.certified_observed == 2);
  CHECK(s.certified_bound == 2);
  CHECK(s.violations == 0);
  // One logit 2^-26, below binary16's smallest subnormal 2^-24: fp16 stores 0, not above 0.
  const auto b = run(identity_model({1, 1}), {1, 1}, float_array({2, 1}, {0x1p-26, 1}), chains({"fp16", "fp32"}));
  REQUIRE(b->result.tasks[0].kind == TaskKind::Detect);
  CHECK(b->result.task_summaries[0][0].flipped == 1);
  CHECK(b->result.task_summaries[0][0].samples_flipped == 1);
  CHECK(b->result.task_summaries[0][0].certified_observed == 1);  // the logit 1
  CHECK(b->result.task_summaries[0][1].flipped == 0);
  CHECK(b->result.task_summaries[0][1].certified_observed == 2);
}

namespace {
/// BatchNormalization over two channels with variance (1e5, 1): binary16 stores the first as
/// +Inf, so its scale γ/√(σ²+ε) becomes 0 and the channel outputs β = 0 instead of x/316.2.
/// Then a Mul by (1e-9, 1e-6): binary16 flushes the first to 0 and stores the second subnormal.
ModelBuilder batchnorm_model() {
  ModelBuilder mb;
  mb.input("x", test::kFloat, {1, 2, 1, 1}).output("y", test::kFloat, {1, 2, 1, 1}).output("z", test::kFloat, {1, 2, 1, 1});
  mb.initializer(test::float_tensor("gamma", {2}, {1, 1}));
  mb.initializer(test::float_tensor("beta", {2}, {0, 0}));
  mb.initializer(test::float_tensor("mean", {2}, {0, 0}));
  mb.initializer(test::float_tensor("var", {2}, {1e5, 1}));
  mb.initializer(test::float_tensor("small", {1, 2, 1, 1}, {1e-9f, 1e-6f}));
  mb.node("BatchNormalization", {"x", "gamma", "beta", "mean", "var"}, {"y"}, "bn");
  mb.node("Mul", {"y", "small"}, {"z"}, "tiny");
  return mb;
}
}  // namespace

TEST_CASE("a BatchNorm variance that overflows binary16 is reported at its layer, and each output is judged") {
  const auto a = run(batchnorm_model(), {1, 2, 1, 1}, float_array({1, 2, 1, 1}, {1000, 1}), chains({"fp16", "bf16", "fp32"}));
  const AuditResult& r = a->result;
  REQUIRE(r.tasks.size() == 2);  // several outputs: each judged ([1, 2, 1, 1]: one pixel, regress)
  CHECK(r.tasks[0].kind == TaskKind::Regress);
  CHECK(r.tasks[1].kind == TaskKind::Regress);
  REQUIRE(r.parameter_causes.size() == 2);  // fp16 only: bf16 holds 1e5, 1e-9 and 1e-6 as normals
  const ParameterCause& var = r.parameter_causes[0];
  CHECK(var.layer == 0);
  CHECK(var.parameter == "var");
  CHECK(var.chain == 0);
  CHECK(var.elements == 2);
  CHECK(var.overflow == 1);
  CHECK(var.flushed == 0);
  CHECK(var.max_magnitude == doctest::Approx(1e5));
  const ParameterCause& small = r.parameter_causes[1];
  CHECK(small.layer == 1);
  CHECK(small.parameter == "small");
  CHECK(small.flushed == 1);
  CHECK(small.subnormal == 1);
  CHECK(small.overflow == 0);
  // The effect: channel 0 outputs 0 instead of 1000/√(1e5 + 1e-5) = 3.162: a local ‖rel‖ of
  // 3.162/√(3.162² + 1) = 0.953 at the BatchNorm in fp16.
  CHECK(r.stats[0][0].local.normwise.max == doctest::Approx(0.9535).epsilon(1e-3));
  CHECK(r.task_summaries[0][0].within_observed == 0);
  CHECK(r.task_summaries[0][1].within_observed == 1);

  // The report: JSON, back into a document, and every rendering names the parameter.
  const nlohmann::json j = audit_to_json(r, *a->plan, {"bn.onnx", "x.npy", "", "test"});
  REQUIRE(j["parameter_causes"].size() == 2);
  CHECK(j["parameter_causes"][0]["layer_name"] == "bn");
  CHECK(j["parameter_causes"][0]["storage"] == "binary16");
  CHECK(j["parameter_causes"][0]["overflow"] == 1);
  CHECK(j["parameter_causes"][0]["effect"]["local_normwise_max"].get<double>() == r.stats[0][0].local.normwise.max);
  CHECK(j["task"]["outputs"][0]["task"] == "regress");
  CHECK(j["task"]["outputs"][0]["chains"]["fp16"]["within_tolerance_observed"] == 0);
  CHECK(j["samples"][0]["tasks"][0]["output"] == "y");
  const AuditDocument doc = audit_document_from_json(j, "bn.json");
  REQUIRE(doc.parameter_causes.size() == 2);
  CHECK(doc.parameter_causes[0].overflow == 1);
  CHECK(!doc.classifies());
  const std::string text = render_terminal(doc, false);
  CHECK(text.find("task of output 'y': regress (tolerance rtol=0.01 atol=0.001; auto: output [1, 2, 1, 1] and no labels; "
                  "--task to change)") != std::string::npos);
  CHECK(text.find("parameters damaged by the storage formats (2 of 2") != std::string::npos);
  CHECK(text.find("certified (Γ > 2δ)") == std::string::npos);
  CHECK(text.find("flips, Δ acc.") == std::string::npos);
  for (const std::string& out : {render_markdown(doc), render_html(doc, HtmlOptions{"/nonexistent/gnuplot"})}) {
    CHECK(out.find("Parameters damaged by the storage formats") != std::string::npos);
    CHECK(out.find("within tol.") != std::string::npos);
  }
}

TEST_CASE("tasks and causes do not depend on the thread count") {
  const Constant x = float_array({3, 1, 2, 1, 3}, {1, 0, 2, 1 + 0x1p-12, 1, 1, 3, 2, 1, 0, 5, 4, -1, -2, 7, 7.001, 1, 1});
  auto audit = [&](int threads) {
    Graph g = identity_model({1, 2, 1, 3}).parse();
    infer_shapes(g, std::vector<Shape>{{1, 2, 1, 3}});
    const Plan plan(g);
    AuditOptions o;
    o.chains = chains({"fp16", "bf16"});
    o.threads = threads;
    nlohmann::json j = audit_to_json(run_audit(plan, x, nullptr, o), plan, {"m", "x", "", "t"});
    j.erase("timing");
    return j;
  };
  CHECK(audit(1) == audit(2));
}
