#include <cmath>

#include "common/cpu_features.h"
#include "core/mixed_arithmetic.h"
#include "report/audit_report.h"
#include "report/margin_json.h"
#include "report/task_json.h"

namespace fpaudit {

namespace {

using nlohmann::json;

/// JSON has no NaN or Inf: non-finite numbers become null (docs/audit-json.md).
json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json summary(const Summary& s) {
  return {{"count", s.count}, {"max", num(s.max)}, {"mean", num(s.mean())}, {"p50", num(s.quantile(0.5))}, {"p99", num(s.quantile(0.99))}};
}

json error_stats(const ErrorStats& e) {
  return {{"abs", summary(e.abs)},
          {"rel", summary(e.rel)},
          {"ulps", summary(e.ulps)},
          {"normwise_rel", {{"max", num(e.normwise.max)}, {"mean", num(e.normwise.mean())}}},
          {"cosine", {{"min", num(e.min_cosine)}, {"mean", num(e.samples ? e.sum_cosine / static_cast<double>(e.samples) : 1.0)}}},
          {"worst", {{"sample", e.worst.sample}, {"element", e.worst.element}}}};
}

json bound_stats(const BoundStats& b) {
  json first = json::array();
  for (int i = 0; i < b.kept; ++i)
    first.push_back({{"sample", b.first[i].sample}, {"element", b.first[i].element}, {"observed", num(b.first[i].observed)},
                     {"bound", num(b.first[i].bound)}});
  const double checked = static_cast<double>(b.checked);
  return {{"checked", b.checked},
          {"unbounded", b.unbounded},
          {"violations", b.violations},
          {"first_violations", first},
          {"bound", summary(b.bound)},
          {"ratio", summary(b.ratio)},
          {"probabilistic", {{"exceeded", b.prob_exceeded},
                             {"exceedance_rate", b.checked ? num(static_cast<double>(b.prob_exceeded) / checked) : json(nullptr)},
                             {"promised_failure_probability", num(b.max_failure_probability)},
                             {"ratio", summary(b.prob_ratio)}}}};
}

/// Certified samples of one chain: observed, a posteriori, a priori (docs/audit-json.md).
json certificates(const AuditResult& r, const ChainClassification& k) {
  auto pair = [](long det, long prob) { return json{{"deterministic", det}, {"probabilistic", prob}}; };
  json a_priori = nullptr, all = nullptr;
  if (r.apriori) {
    a_priori = pair(k.a_priori_det, k.a_priori_prob);
    a_priori["failure_probability"] = num(k.max_a_priori_failure);
    a_priori["failure_probability_run"] = num(k.run_a_priori_failure);
    if (r.apriori_fp32) all = pair(k.a_priori_all_det, k.a_priori_all_prob);
  }
  json a_posteriori = pair(k.a_posteriori_det, k.a_posteriori_prob);
  a_posteriori["failure_probability"] = num(k.max_a_posteriori_failure);
  a_posteriori["failure_probability_run"] = num(k.run_a_posteriori_failure);
  return {{"observed", k.certified_vs_exact},
          {"a_posteriori", a_posteriori},
          {"a_priori", a_priori},
          {"a_priori_equals_fp32_and_exact", all},
          {"certificate_violations", k.certificate_violations},
          {"probabilistic_certificate_failures", k.prob_certificate_failures}};
}

json chain_spec(const ChainSpec& c) {
  json j = {{"name", c.name},
            {"storage", std::string(c.storage.name)},
            {"accumulator", std::string(c.accumulator.name)},
            {"schedule", schedule_name(c.schedule)},
            {"unit_roundoff", unit_roundoff(c.storage)}};
  // A mixed chain (core/mixed_arithmetic.h): what it keeps, and in which arithmetic.
  if (c.kept)
    j["kept"] = {{"storage", std::string(c.kept->storage.name)},
                 {"accumulator", std::string(c.kept->accumulator.name)},
                 {"schedule", schedule_name(c.kept->schedule)},
                 {"selectors", c.keep},
                 {"text", kept_text(c)}};
  return j;
}

}  // namespace

double headroom_log2(const Format& storage, double max_magnitude) {
  return max_magnitude > 0 ? std::log2(max_finite(storage) / max_magnitude) : INFINITY;
}

std::vector<FirstNonfinite> first_nonfinite(const AuditResult& r) {
  std::vector<FirstNonfinite> out(r.chains.size());
  for (const SampleRecord& rec : r.records)
    for (std::size_t c = 0; c < r.chains.size(); ++c) {
      const int l = rec.chains[c].first_nonfinite_layer;
      if (l < 0) continue;
      ++out[c].samples;
      if (out[c].layer < 0 || l < out[c].layer) out[c].layer = l;
    }
  return out;
}

json audit_to_json(const AuditResult& r, const Plan& plan, const AuditSource& source) {
  const Graph& g = plan.graph();
  json j;
  j["schema"] = "fpaudit.audit";
  j["schema_version"] = kAuditJsonVersion;
  j["fpaudit_version"] = source.fpaudit_version;
  auto value_json = [&](int slot) {
    return json{{"name", plan.slots()[slot].name}, {"shape", plan.slots()[slot].shape}};
  };
  j["model"] = {{"path", source.model_path}, {"opset", g.opset}, {"producer", g.producer},
                {"input", value_json(plan.input_slots().at(0))}, {"output", value_json(plan.output_slots().at(0))}};
  j["data"] = {{"input", source.input_path}, {"labels", source.labels_path.empty() ? json(nullptr) : json(source.labels_path)},
               {"samples", r.samples}};
  j["reference"] = r.reference;
  j["lambda"] = r.lambda;
  j["chains"] = json::array();
  for (const ChainSpec& c : r.chains) j["chains"].push_back(chain_spec(c));

  j["layers"] = json::array();
  for (std::size_t l = 0; l < plan.layers().size(); ++l) {
    const PlannedLayer& layer = plan.layers()[l];
    json outs = json::array();
    for (int s : layer.outputs)
      if (s >= 0) outs.push_back(value_json(s));
    json chains = json::object();
    for (std::size_t c = 0; c < r.chains.size(); ++c) {
      const LayerChainStats& st = r.stats[l][c];
      const EventStats& ev = st.events;
      chains[r.chains[c].name] = {
          {"propagated", error_stats(st.propagated)},
          {"local", error_stats(st.local)},
          {"bounds", {{"propagated", bound_stats(st.propagated_bound)}, {"local", bound_stats(st.local_bound)}}},
          {"events", {{"elements", ev.elements}, {"overflow", ev.overflow}, {"nan", ev.nan}, {"flushed", ev.flushed},
                      {"subnormal", ev.subnormal}, {"max_magnitude", num(ev.max_magnitude)},
                      // A mixed chain's kept node holds its output in the kept format.
                      {"headroom_log2", num(headroom_log2(r.chains[c].keeps(*layer.node) ? r.chains[c].kept->storage : r.chains[c].storage,
                                                          ev.max_magnitude))},
                      {"first_nonfinite_sample", ev.first_nonfinite_sample}}},
          {"margin_blame", margin_blame(r, st.margin)}};
    }
    j["layers"].push_back({{"index", l}, {"name", layer.node->name}, {"op", layer.node->op_type}, {"outputs", outs},
                           {"multiply_adds", layer.multiply_adds}, {"exact_op", layer.kernel->exact()}, {"chains", chains}});
  }

  const std::vector<FirstNonfinite> nf = first_nonfinite(r);
  json cls = json::object();
  json firsts = json::object();
  for (std::size_t c = 0; c < r.chains.size(); ++c) {
    const ChainClassification& k = r.classification[c];
    double max_delta = 0, sum_delta = 0;
    for (const SampleRecord& rec : r.records) {
      max_delta = std::fmax(max_delta, rec.chains[c].delta_ref);
      sum_delta += rec.chains[c].delta_ref;
    }
    const double n = static_cast<double>(r.samples);
    cls[r.chains[c].name] = {{"accuracy", r.has_labels && r.samples ? num(k.correct / n) : json(nullptr)},
                             {"correct", k.correct},
                             {"flips_vs_reference", k.flips_vs_ref},
                             {"flips_vs_fp32", k.flips_vs_fp32},
                             {"certified_vs_reference", k.certified_vs_ref},
                             {"certified_vs_fp32", k.certified_vs_fp32},
                             {"certified_fraction", r.samples ? num(k.certified_vs_ref / n) : json(nullptr)},
                             {"boundary", k.boundary},
                             {"ties", k.ties},
                             {"lemma_violations", k.lemma_violations},
                             {"nonfinite", k.nonfinite},
                             {"certified", certificates(r, k)},
                             {"margin", margin_certificates(r, c)},
                             {"delta_reference", {{"max", num(max_delta)}, {"mean", num(r.samples ? sum_delta / n : 0.0)}}}};
    firsts[r.chains[c].name] = {{"layer", nf[c].layer >= 0 ? json(nf[c].layer) : json(nullptr)},
                                {"name", nf[c].layer >= 0 ? json(plan.layers()[nf[c].layer].node->name) : json(nullptr)},
                                {"samples", nf[c].samples}};
  }
  j["classification"] = {{"samples", r.samples},
                         {"reference_accuracy", r.has_labels && r.samples ? num(static_cast<double>(r.reference_correct) / r.samples) : json(nullptr)},
                         {"chains", cls}};
  j["first_nonfinite"] = firsts;

  j["samples"] = json::array();
  for (const SampleRecord& rec : r.records) {
    json chains = json::object();
    for (std::size_t c = 0; c < r.chains.size(); ++c) {
      const ChainVerdict& v = rec.chains[c];
      chains[r.chains[c].name] = {{"top1", v.top1}, {"delta_reference", num(v.delta_ref)}, {"delta_fp32", num(v.delta_fp32)},
                                  {"certified", observed_certified(rec.margin_ref, v.delta_ref, 0.0)},
                                  {"certified_exact", observed_certified(rec.margin_ref, v.delta_ref, rec.ref_error)}, {"tie", v.tie},
                                  {"first_nonfinite_layer", v.first_nonfinite_layer},
                                  {"certified_a_posteriori", {{"deterministic", v.a_posteriori.det}, {"probabilistic", v.a_posteriori.prob},
                                                              {"failure_probability", num(v.a_posteriori_failure)}}},
                                  {"certified_a_priori", r.apriori ? json{{"deterministic", v.a_priori.det}, {"probabilistic", v.a_priori.prob},
                                                                          {"failure_probability", num(v.a_priori_failure)}}
                                                                   : json(nullptr)},
                                  {"delta_bound_a_priori", r.apriori ? num(v.delta_bound) : json(nullptr)},
                                  {"margin", margin_sample(r, v.margin)}};
    }
    j["samples"].push_back({{"index", rec.index}, {"label", rec.label >= 0 ? json(rec.label) : json(nullptr)},
                            {"reference_top1", rec.ref_top1}, {"margin_reference", num(rec.margin_ref)},
                            {"reference_error", num(rec.ref_error)},
                            {"margin_fp32", num(rec.margin_fp32)}, {"chains", chains}});
    if (json t = sample_tasks_json(r, rec); !t.is_null()) j["samples"].back()["tasks"] = std::move(t);
  }
  j["task"] = task_json(r);
  j["parameter_causes"] = parameter_causes_json(r, plan);
  if (!r.compare.empty()) j["compare"] = compare_json(r);
  json phases = json::object();
  for (std::size_t c = 0; c < r.chains.size() && c < r.timing.chains.size(); ++c) {
    const ChainTiming& t = r.timing.chains[c];
    phases[r.chains[c].name] = {{"evaluate", t.evaluate}, {"bounds", t.bounds}, {"statistics", t.statistics}};
  }
  j["timing"] = {{"seconds", r.seconds},
                 {"threads", r.threads},
                 {"ranks", r.ranks},
                 {"isa", cpu::level_name()},
                 {"phase_seconds", {{"setup", r.timing.setup},
                                  {"reference", {{"evaluate", r.timing.reference_evaluate}, {"bounds", r.timing.reference_bounds}}},
                                  {"certificates", r.timing.apriori},
                                  {"margin_certificates", r.timing.margin},
                                  {"chains", phases},
                                  {"other", r.timing.other}}}};
  return j;
}

}  // namespace fpaudit
