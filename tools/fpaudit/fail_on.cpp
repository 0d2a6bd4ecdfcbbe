#include "fpaudit/fail_on.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace fpaudit::cli {

namespace {

FailGate::Unit unit_of(const std::string& name) {
  if (name == "flip-rate" || name == "pixel-flips") return FailGate::Unit::Percent;
  if (name == "accuracy-drop") return FailGate::Unit::PercentagePoints;
  return FailGate::Unit::Count;
}

const char* suffix(FailGate::Unit u) {
  switch (u) {
    case FailGate::Unit::Percent: return "%";
    case FailGate::Unit::PercentagePoints: return "pp";
    case FailGate::Unit::Count: break;
  }
  return "";
}

/// The task gates, summed over every output judged by that task in chain c: regression samples
/// outside the tolerance (observed), or not proved within it; the share of flipped decisions
/// (pixels of a segmentation, elements of a detection) in percent.
double measure_task(const AuditResult& r, const std::string& gate, std::size_t c) {
  double count = 0, decisions = 0;
  for (std::size_t k = 0; k < r.tasks.size(); ++k) {
    const TaskSummary& s = r.task_summaries[k][c];
    const TaskKind kind = r.tasks[k].kind;
    if (gate == "tolerance" && kind == TaskKind::Regress) count += static_cast<double>(s.samples - s.within_observed);
    if (gate == "tolerance-unproved" && kind == TaskKind::Regress) count += static_cast<double>(s.samples - s.within_proved);
    if (gate == "pixel-flips" && (kind == TaskKind::Segment || kind == TaskKind::Detect)) {
      count += static_cast<double>(s.flipped);
      decisions += static_cast<double>(s.decisions);
    }
  }
  if (gate != "pixel-flips") return count;
  return decisions > 0 ? 100.0 * count / decisions : 0.0;
}

/// The gate's measured value in chain c, in the gate's unit.
double measure(const AuditResult& r, const std::string& gate, std::size_t c) {
  if (gate == "tolerance" || gate == "tolerance-unproved" || gate == "pixel-flips") return measure_task(r, gate, c);
  const ChainClassification& k = r.classification[c];
  const double samples = static_cast<double>(std::max(r.samples, 1L));
  if (gate == "overflow" || gate == "nan" || gate == "violation") {
    std::uint64_t count = 0;
    for (const auto& layer : r.stats) {
      const LayerChainStats& s = layer[c];
      if (gate == "overflow") count += s.events.overflow;
      else if (gate == "nan") count += s.events.nan;
      else count += s.propagated_bound.violations + s.local_bound.violations;
    }
    if (gate == "violation") count += static_cast<std::uint64_t>(k.certificate_violations);
    return static_cast<double>(count);
  }
  if (gate == "flip") return static_cast<double>(k.flips_vs_ref);
  if (gate == "flip-fp32") return static_cast<double>(k.flips_vs_fp32);
  if (gate == "lemma") return static_cast<double>(k.lemma_violations);
  if (gate == "uncertified") return static_cast<double>(r.samples - k.certified_vs_ref);
  if (gate == "flip-rate") return 100.0 * static_cast<double>(k.flips_vs_ref) / samples;
  if (gate == "accuracy-drop") return 100.0 * static_cast<double>(r.reference_correct - k.correct) / samples;
  throw std::logic_error("unknown --fail-on gate " + gate);
}

}  // namespace

const std::vector<std::string>& fail_gate_names() {
  static const std::vector<std::string> names = {"overflow",    "nan",       "flip",      "flip-fp32",
                                                 "lemma",       "uncertified", "violation", "flip-rate",
                                                 "accuracy-drop", "tolerance", "tolerance-unproved", "pixel-flips"};
  return names;
}

FailGate parse_fail_gate(const std::string& text) {
  FailGate gate;
  const std::size_t gt = text.find('>');
  gate.name = text.substr(0, gt);
  const auto& names = fail_gate_names();
  if (std::find(names.begin(), names.end(), gate.name) == names.end())
    throw std::invalid_argument(fmt::format("unknown gate '{}' (known: {}; e.g. flip-rate>0.1%,accuracy-drop>0.2pp,nan)",
                                            gate.name, fmt::join(names, ", ")));
  gate.unit = unit_of(gate.name);
  if (gt == std::string::npos) return gate;  // any occurrence
  std::string value = text.substr(gt + 1);
  const std::string unit = suffix(gate.unit);
  const std::string expected = fmt::format("'{}>N{}' with N a non-negative number{}", gate.name, unit,
                                           gate.unit == FailGate::Unit::Count ? " of occurrences" : "");
  if (!unit.empty()) {
    if (value.size() <= unit.size() || value.compare(value.size() - unit.size(), unit.size(), unit) != 0)
      throw std::invalid_argument(fmt::format("'{}': expected {}", text, expected));
    value.resize(value.size() - unit.size());
  }
  std::size_t used = 0;
  try {
    gate.threshold = std::stod(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != value.size() || !(gate.threshold >= 0) || !std::isfinite(gate.threshold))
    throw std::invalid_argument(fmt::format("'{}': expected {}", text, expected));
  return gate;
}

void check_gate_tasks(const std::vector<FailGate>& gates, const std::vector<OutputTask>& tasks) {
  for (const FailGate& g : gates) {
    const bool regress = g.name == "tolerance" || g.name == "tolerance-unproved";
    if (!regress && g.name != "pixel-flips") continue;
    const bool judged = std::any_of(tasks.begin(), tasks.end(), [&](const OutputTask& t) {
      return regress ? t.kind == TaskKind::Regress : t.kind == TaskKind::Segment || t.kind == TaskKind::Detect;
    });
    if (!judged) {
      std::string list;
      for (const OutputTask& t : tasks) list += fmt::format("{}'{}' {}", list.empty() ? "" : ", ", t.name, task_name(t.kind));
      throw std::invalid_argument(fmt::format("--fail-on {}: no output is judged as {} (outputs: {}; choose with --task)", g.name,
                                              regress ? "a regression" : "a segmentation or detection", list));
    }
  }
}

std::vector<std::string> failed_gates(const AuditResult& r, const std::vector<FailGate>& gates) {
  std::vector<std::string> failed;
  for (const FailGate& g : gates)
    for (std::size_t c = 0; c < r.chains.size(); ++c) {
      const double v = measure(r, g.name, c);
      if (v > g.threshold)
        failed.push_back(fmt::format("{}: {} {:g}{} > {:g}{}", r.chains[c].name, g.name, v, suffix(g.unit), g.threshold, suffix(g.unit)));
    }
  return failed;
}

}  // namespace fpaudit::cli
