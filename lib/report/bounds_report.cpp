#include "report/bounds_report.h"

#include <cmath>

#include <fmt/format.h>

#include "report/table.h"

namespace fpaudit {

namespace {

using nlohmann::json;

json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

std::string short_num(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return "inf";
  if (v == 0) return "0";
  return fmt::format("{:.2g}", v);
}

std::string clip(const std::string& s, std::size_t width) { return s.size() <= width ? s : s.substr(0, width - 1) + "~"; }

}  // namespace

json bounds_to_json(const BoundsResult& r, const Plan& plan, const BoundsSource& source) {
  json j;
  j["schema"] = "fpaudit.bounds";
  j["schema_version"] = kBoundsJsonVersion;
  j["fpaudit_version"] = source.fpaudit_version;
  j["model"] = source.model_path;
  j["data"] = {{"input", source.input_path}, {"samples", r.samples}};
  j["reference"] = r.reference;
  j["lambda"] = r.lambda;
  j["chains"] = json::array();
  for (const ChainSpec& c : r.chains) j["chains"].push_back(c.name);
  j["layers"] = json::array();
  for (std::size_t l = 0; l < plan.layers().size(); ++l) {
    json chains = json::object();
    for (std::size_t c = 0; c < r.chains.size(); ++c) {
      const AprioriLayerStats& s = r.layers[l][c];
      chains[r.chains[c].name] = {{"deterministic", num(s.det)}, {"probabilistic", num(s.prob)},
                                  {"failure_probability", num(s.failure)}, {"unbounded", s.unbounded}};
    }
    j["layers"].push_back({{"index", l}, {"name", plan.layers()[l].node->name}, {"op", plan.layers()[l].node->op_type},
                           {"reference_bound", num(r.reference_bound[l])}, {"chains", chains}});
  }
  json cert = json::object();
  const double n = static_cast<double>(r.samples);
  for (std::size_t c = 0; c < r.chains.size(); ++c) {
    const AprioriCounts& k = r.certified[c];
    cert[r.chains[c].name] = {
        {"deterministic", k.det},
        {"probabilistic", k.prob},
        {"equals_fp32_and_exact", {{"deterministic", k.all_det}, {"probabilistic", k.all_prob}}},
        {"fraction", {{"deterministic", r.samples ? num(k.det / n) : json(nullptr)}, {"probabilistic", r.samples ? num(k.prob / n) : json(nullptr)}}},
        {"failure_probability", num(k.failure)},
        {"failure_probability_run", num(k.run_failure)},
        {"delta_bound_max", num(k.delta_bound)},
        {"certified_and_correct", r.has_labels ? json(k.correct) : json(nullptr)}};
  }
  j["classification"] = {{"samples", r.samples},
                         {"reference_accuracy", r.has_labels && r.samples ? num(static_cast<double>(r.reference_correct) / n) : json(nullptr)},
                         {"chains", cert}};
  j["timing"] = {{"seconds", r.seconds}, {"threads", r.threads}};
  return j;
}

std::string bounds_table(const BoundsResult& r, const Plan& plan) {
  std::string out = "a-priori bound on the propagated error |x_chain - x_exact| (max over elements and samples),\n"
                    "deterministic / probabilistic; 'ref' is the reference's own bound\n";
  out += fmt::format("  {:<22} {:<10} {:>8}", "layer", "op", "ref");
  for (const ChainSpec& c : r.chains) out += fmt::format(" {:>17}", clip(c.name, 17));
  out += "\n";
  for (std::size_t l = 0; l < plan.layers().size(); ++l) {
    const PlannedLayer& layer = plan.layers()[l];
    out += fmt::format("  {:<22} {:<10} {:>8}", clip(layer.node->name, 22), clip(layer.node->op_type, 10), short_num(r.reference_bound[l]));
    for (std::size_t c = 0; c < r.chains.size(); ++c)
      out += fmt::format(" {:>17}", short_num(r.layers[l][c].det) + " / " + short_num(r.layers[l][c].prob));
    out += "\n";
  }
  const double n = static_cast<double>(r.samples);
  auto pct = [n](long v) { return n > 0 ? fmt::format("{:.1f}%", 100.0 * static_cast<double>(v) / n) : std::string("-"); };
  out += fmt::format("\ncertified a priori on {} samples: the chain's class equals the exact network's (det / prob),\n"
                     "and equals fp32's and the exact one's at once; max bound on δ; probabilistic certificates fail w.p. ≤\n"
                     "(per sample, per run)\n",
                     r.samples);
  for (std::size_t c = 0; c < r.chains.size(); ++c) {
    const AprioriCounts& k = r.certified[c];
    out += fmt::format("  {:<18} {:>7} / {:<7} = fp32 = exact {:>7} / {:<7} δ ≤ {:<8} {}\n", chain_label(r.chains[c].name), pct(k.det), pct(k.prob),
                       pct(k.all_det), pct(k.all_prob), short_num(k.delta_bound),
                       short_num(k.failure) + ", " + short_num(k.run_failure));
  }
  if (r.has_labels) out += fmt::format("reference accuracy {:.2f}%\n", 100.0 * static_cast<double>(r.reference_correct) / n);
  return out;
}

}  // namespace fpaudit
