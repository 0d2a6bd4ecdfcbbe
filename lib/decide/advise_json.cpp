#include <cmath>

#include "decide/decide_json.h"

namespace fpaudit {

namespace {

using nlohmann::json;

/// JSON has no Inf or NaN: null.
json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json metrics_json(const AdviseMetrics& m) {
  return {{"samples", m.samples},
          {"flips", m.flips},
          {"certified_a_priori", m.certified >= 0 ? json(m.certified) : json(nullptr)},
          {"certified_percent", m.certified >= 0 ? num(m.certified_percent()) : json(nullptr)},
          {"accuracy_drop_pp", m.has_labels ? num(m.accuracy_drop_pp) : json(nullptr)},
          {"rel_error", num(m.rel_error)},
          {"bound_violations", m.violations}};
}

json figures_json(const ToleranceFigures& f) {
  return {{"observed_abs", num(f.observed_abs)}, {"observed_rel", num(f.observed_rel)}, {"median_rel", num(f.typical_rel)}, {"proved_atol", num(f.proved_abs)},
          {"atol", num(f.atol)}, {"rtol", num(f.rtol)}};
}

}  // namespace

json advise_to_json(const AdviseResult& r, const AdviseOptions& o, const std::string& model, const std::string& input) {
  json history = json::array();
  for (const AdviseStep& s : r.history)
    history.push_back({{"phase", s.phase}, {"kept", s.kept}, {"meets", s.meets}, {"seconds", s.seconds}, {"metrics", metrics_json(s.metrics)}});
  return {{"model", model},
          {"input", input},
          {"base_chain", o.base.name},
          {"kept_chain", o.kept.name},
          {"target", o.target.text},
          {"reached", r.reached},
          {"kept", r.kept},
          {"chain", r.chain.name},
          {"metrics", metrics_json(r.final)},
          {"base_metrics", metrics_json(r.base)},
          {"multiply_adds", {{"kept", r.kept_multiply_adds}, {"total", r.total_multiply_adds}, {"kept_share", num(r.mac_share())}}},
          {"audits", r.history.size()},
          {"seconds", num(r.seconds)},
          {"history", history}};
}

json tolerances_to_json(const ToleranceResult& r, const std::string& model, const std::string& input) {
  json outs = json::array();
  for (const OutputTolerance& t : r.outputs)
    outs.push_back({{"name", t.name}, {"shape", t.shape}, {"against_exact", figures_json(t.exact)}, {"against_fp32", figures_json(t.fp32)}});
  return {{"model", model}, {"input", input}, {"chain", r.chain.name}, {"samples", r.samples},
          {"safety_factor", kToleranceSafety}, {"rule", tolerance_rule()}, {"outputs", outs}};
}

}  // namespace fpaudit
