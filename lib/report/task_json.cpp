#include "report/task_json.h"

#include <cmath>

namespace fpaudit {

namespace {

using nlohmann::json;

json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json summary_json(const OutputTask& t, const TaskSummary& s) {
  const double n = static_cast<double>(s.samples), d = static_cast<double>(s.decisions);
  if (t.kind == TaskKind::Regress)
    return {{"samples", s.samples},
            {"within_tolerance_observed", s.within_observed},
            {"within_tolerance_proved", s.within_proved},
            {"elements_outside_tolerance", s.outside},
            {"nonfinite_samples", s.nonfinite},
            {"max_abs", num(s.max_abs)},
            {"normwise_max", num(s.max_normwise)},
            {"normwise_mean", s.samples ? num(s.sum_normwise / n) : json(nullptr)},
            {"cosine_min", num(s.min_cosine)},
            {"bound_max", num(s.max_bound)},
            {"bound_ratio_max", num(s.max_bound_ratio)}};
  return {{"samples", s.samples},
          {"decisions", s.decisions},
          {"flipped", s.flipped},
          {"flipped_share", s.decisions ? num(static_cast<double>(s.flipped) / d) : json(nullptr)},
          {"samples_flipped", s.samples_flipped},
          {"certified_observed", s.certified_observed},
          {"certified_bound", s.certified_bound},
          {"certified_share", s.decisions ? num(static_cast<double>(s.certified_observed) / d) : json(nullptr)},
          {"violations", s.violations},
          {"min_margin", num(s.min_margin)}};
}

json sample_json(const OutputTask& t, const TaskSample& s) {
  if (t.kind == TaskKind::Regress)
    return {{"within_tolerance_observed", s.within_observed}, {"within_tolerance_proved", s.within_proved},
            {"max_abs", num(s.max_abs)}, {"normwise", num(s.normwise)}, {"bound_max", num(s.max_bound)}};
  return {{"decisions", s.decisions}, {"flipped", s.flipped}, {"certified_observed", s.certified_observed},
          {"certified_bound", s.certified_bound}, {"min_margin", num(s.min_margin)}};
}

}  // namespace

json task_json(const AuditResult& r) {
  json outputs = json::array();
  for (std::size_t k = 0; k < r.tasks.size(); ++k) {
    const OutputTask& t = r.tasks[k];
    json chains = json::object();
    for (std::size_t c = 0; c < r.chains.size(); ++c) chains[r.chains[c].name] = summary_json(t, r.task_summaries[k][c]);
    const bool classes = t.kind == TaskKind::Classify || t.kind == TaskKind::Segment;
    outputs.push_back({{"name", t.name},
                       {"shape", t.shape},
                       {"task", task_name(t.kind)},
                       {"automatic", t.automatic},
                       {"reason", t.reason},
                       {"class_axis", classes ? json(t.class_axis) : json(nullptr)},
                       {"threshold", t.kind == TaskKind::Detect ? json(t.threshold) : json(nullptr)},
                       {"tolerance", t.kind == TaskKind::Regress ? json{{"rtol", t.tolerance.rtol}, {"atol", t.tolerance.atol}} : json(nullptr)},
                       {"chains", chains}});
  }
  return {{"outputs", outputs}};
}

json sample_tasks_json(const AuditResult& r, const SampleRecord& rec) {
  json out = json::array();
  for (std::size_t k = 0; k < r.tasks.size() && k < rec.tasks.size(); ++k) {
    const OutputTask& t = r.tasks[k];
    if (t.kind == TaskKind::Classify) continue;
    json chains = json::object();
    for (std::size_t c = 0; c < r.chains.size(); ++c) chains[r.chains[c].name] = sample_json(t, rec.tasks[k][c]);
    out.push_back({{"output", t.name}, {"task", task_name(t.kind)}, {"chains", chains}});
  }
  return out.empty() ? json(nullptr) : out;
}

json parameter_causes_json(const AuditResult& r, const Plan& plan) {
  json out = json::array();
  for (const ParameterCause& p : r.parameter_causes) {
    const PlannedLayer& layer = plan.layers()[static_cast<std::size_t>(p.layer)];
    const LayerChainStats& st = r.stats[static_cast<std::size_t>(p.layer)][static_cast<std::size_t>(p.chain)];
    const ChainSpec& chain = r.chains[static_cast<std::size_t>(p.chain)];
    out.push_back({{"layer", p.layer},
                   {"layer_name", layer.node->name},
                   {"op", layer.node->op_type},
                   {"parameter", p.parameter},
                   {"chain", chain.name},
                   {"storage", std::string(chain.storage.name)},
                   {"elements", p.elements},
                   {"overflow", p.overflow},
                   {"flushed", p.flushed},
                   {"subnormal", p.subnormal},
                   {"max_magnitude", num(p.max_magnitude)},
                   {"effect", {{"local_normwise_max", num(st.local.normwise.max)},
                               {"local_abs_max", num(st.local.abs.max)},
                               {"overflow", st.events.overflow},
                               {"nan", st.events.nan}}}});
  }
  return out;
}

}  // namespace fpaudit
