// The verdict (one row per chain: what a reader needs before any per-layer number) and the
// per-module tables, shared by the terminal, Markdown and HTML renderings.
#include <algorithm>
#include <cctype>
#include <cmath>

#include <fmt/format.h>

#include "report/modules.h"
#include "report/number_text.h"
#include "report/render.h"

namespace fpaudit {

namespace {

/// The largest observed/bound ratio as a cell: above 1 a deterministic bound is violated.
Cell module_ratio(bool bounded, double ratio, std::uint64_t violations) {
  if (!bounded) return Cell::missing();
  Cell c = Cell::of_real(ratio);
  if (violations > 0 || ratio > 1) c.mark = Mark::Bad;
  else if (ratio > 0.5) c.mark = Mark::Warn;
  return c;
}

Column optional(Column c) {
  c.optional = true;
  return c;
}

/// Whether any of the chain's bound checks found a violation: an element above its bound, a
/// margin drift above its margin bound, or a margin-certified sample that flipped.
std::uint64_t chain_violations(const AuditDocument& doc, std::size_t c) {
  std::uint64_t n = 0;
  for (const LayerView& layer : doc.layers) n += layer.chains[c].local_bound.violations + layer.chains[c].propagated_bound.violations;
  const MarginView& m = doc.classification[c].margin;
  if (m.present) n += static_cast<std::uint64_t>(m.violations + m.certificate_violations);
  return n;
}

/// What the bounds achieved: the a-priori certified share (the elementwise or the
/// margin-directed certificate, whichever proves more; "(margin)" names the latter), or why
/// there is none.
Cell bounds_cell(const AuditDocument& doc, std::size_t c) {
  if (const std::uint64_t v = chain_violations(doc, c); v > 0)
    return Cell::of_text(fmt::format("VIOLATED: {}", v)).marked(Mark::Bad);
  const CertifiedView& k = doc.classification[c].certified;
  if (!k.present || doc.samples == 0) return Cell::missing("not computed");
  const MarginView& m = doc.classification[c].margin;
  const long margin_prior = m.present && m.a_priori_present ? m.a_priori_det : 0;
  const long margin_post = m.present ? m.a_posteriori_det : 0;
  const double n = static_cast<double>(doc.samples);
  const bool a_priori_run = k.a_priori_present || (m.present && m.a_priori_present);
  const long prior = std::max(k.a_priori_present ? k.a_priori_det : 0L, margin_prior);
  const char* prior_tag = margin_prior > (k.a_priori_present ? k.a_priori_det : 0L) ? " (margin)" : "";
  if (prior > 0 && !*prior_tag) return Cell::of_percent(static_cast<double>(prior) / n);
  if (prior > 0) return Cell::of_text(fmt::format("{}{}", percent_text(static_cast<double>(prior) / n), prior_tag));
  const std::string a_priori = a_priori_run ? "0%" : "not run";
  const long post = std::max(k.a_posteriori_det, margin_post);
  if (post > 0)
    return Cell::of_text(fmt::format("{} (a post. {}{})", a_priori, percent_text(static_cast<double>(post) / n),
                                     margin_post > k.a_posteriori_det ? ", margin" : ""));
  return Cell::of_text(a_priori_run ? "uninformative: 0%" : "not run (a post. 0%)").marked(Mark::Warn);
}

}  // namespace

Table verdict_table(const AuditDocument& doc) {
  if (!doc.classifies()) return task_table(doc, 0);  // an output that is not a class score vector
  Table t;
  t.caption = fmt::format("Verdict per chain, against the {} reference over {} samples", doc.reference, doc.samples);
  t.columns = {{"chain", "", "", false},
               {"flips", "", "", true, "flips_vs_reference"},
               {"Δ acc. pp", "$\\Delta$ acc. pp", "", true, "accuracy_change_vs_reference_pp"},
               {"certified", "", "", true, "certified_fraction"},
               {"inf/nan", "", "", true, "nonfinite_samples"},
               {"most local error", "", "", false, "worst_layer"},
               {"share", "", "", true, "worst_layer_share"},
               {"bounds a priori", "", "", false, "bounds"}};
  t.columns[2].optional = true;  // without labels there is no accuracy
  for (std::size_t c = 0; c < doc.chains.size(); ++c) {
    const ChainClassificationView& k = doc.classification[c];
    std::vector<Cell> row = {Cell::of_chain(doc.chains[c].name),
                             Cell::of_count(static_cast<double>(k.flips_vs_reference)).marked(k.flips_vs_reference ? Mark::Warn : Mark::None)};
    row.push_back(doc.has_labels() ? Cell::of_change(100 * (k.accuracy - doc.reference_accuracy), 2) : Cell::missing());
    row.push_back(Cell::of_percent(k.certified_fraction).marked(k.certified_fraction < 1 ? Mark::Warn : Mark::None));
    const long nonfinite = std::max(k.first_nonfinite_samples, k.nonfinite);
    row.push_back(Cell::of_count(static_cast<double>(nonfinite)).marked(nonfinite ? Mark::Bad : Mark::None));
    const int worst = worst_local_layer(doc, c);
    const double sum = summed_local_rel(doc, c);
    if (worst >= 0 && sum > 0) {
      row.push_back(Cell::of_code(doc.layers[worst].name));
      row.push_back(Cell::of_percent(doc.layers[worst].chains[c].local.normwise_max / sum, 0));
    } else {
      row.push_back(Cell::missing("no error"));
      row.push_back(Cell::missing());
    }
    row.push_back(bounds_cell(doc, c));
    t.rows.push_back(std::move(row));
  }
  t.notes = {
      "flips and Δ acc.: against the reference's predictions and accuracy; certified: samples with Γ > 2δ (observed drift); "
      "inf/nan: samples whose values went non-finite in some layer.",
      "most local error: the layer whose own rounding (local ‖rel‖ max) is largest; share: its part of the sum of every "
      "layer's local ‖rel‖ max (a first-order measure, not an attribution of the output drift).",
      "bounds a priori: samples whose class the deterministic a-priori error bounds prove equal to the exact network's "
      "(a post.: the bounds propagated along the chain's own values); uninformative when they prove none; VIOLATED: "
      "elements whose observed error exceeded a deterministic bound (a bug)."};
  return t;
}

Table module_table(const AuditDocument& doc, std::size_t c, const std::vector<Module>& modules, const std::vector<std::size_t>& which,
                   bool compact) {
  const ChainView& ch = doc.chains[c];
  Table t;
  t.caption = fmt::format("{}, {}: error per module over {} samples", model_name(doc), chain_label(ch.name), doc.samples);
  std::string label;
  for (unsigned char x : model_name(doc) + "-" + ch.name) label += std::isalnum(x) ? static_cast<char>(std::tolower(x)) : '-';
  t.label = "tab:fpaudit-" + label;
  // The terminal (compact) spells the titles short: its groups say the rest.
  t.columns = {{"module", "", "", false, "module"}, {"kind", "", "", false, "kind"}};
  if (!compact) t.columns.push_back({"layers", "", "", true, "layers"});
  t.columns.push_back({compact ? "‖rel‖" : "‖rel‖ max", "$\\|\\mathrm{rel}\\|$ max", "local", true, "local_normwise_max"});
  t.columns.push_back({"share", "", "local", true, "local_share"});
  if (!compact) t.columns.push_back({"abs max", "", "output", true, "propagated_abs_max"});
  t.columns.push_back({compact ? "‖rel‖" : "‖rel‖ max", "$\\|\\mathrm{rel}\\|$ max", "output", true, "propagated_normwise_max"});
  t.columns.push_back(optional({compact ? "local" : "det. local", "", "obs/bound", true, "det_local"}));
  t.columns.push_back(optional({compact ? "prop." : "det. prop.", "", "obs/bound", true, "det_propagated"}));
  t.columns.push_back(optional({"viol.", "", "", true, "violations"}));
  t.columns.push_back(optional({"inf/nan", "", "", true, "inf_nan"}));
  t.columns.push_back({compact ? "room" : "headroom", "", "", true, "headroom_log2"});

  const double sum = summed_local_rel(doc, c);
  double largest = 0;
  for (const Module& m : modules) largest = std::max(largest, module_stats(doc, m, c).local_rel);
  for (const std::size_t i : which) {
    const Module& m = modules[i];
    const ModuleStats s = module_stats(doc, m, c);
    std::vector<Cell> row = {Cell::of_code(m.name), Cell::of_text(m.kind)};
    if (!compact) row.push_back(Cell::of_count(static_cast<double>(m.layers.size())));
    if (!s.computes) {
      row.push_back(Cell::missing("exact"));
      row.push_back(Cell::of_text(""));
    } else if (s.local_layer < 0) {
      row.insert(row.end(), {Cell::missing(), Cell::missing()});
    } else {
      Cell rel = Cell::of_real(s.local_rel);
      rel.heat = largest > 0 && s.local_rel > 0 ? std::clamp(1 + std::log10(s.local_rel / largest) / 3, 0.0, 1.0) : 0;
      if (s.local_rel == largest && largest > 0) rel.mark = Mark::Strong;
      row.push_back(rel);
      row.push_back(sum > 0 ? Cell::of_percent(s.local_rel / sum, 0) : Cell::missing());
    }
    auto measured = [&](double v) { return s.propagated_measured ? Cell::of_real(v) : Cell::missing(); };
    if (!compact) row.push_back(measured(s.propagated_abs));
    row.push_back(measured(s.propagated_rel));
    row.push_back(module_ratio(s.local_bounded, s.local_ratio, 0));
    row.push_back(module_ratio(s.propagated_bounded, s.propagated_ratio, 0));
    row.push_back(Cell::of_count(static_cast<double>(s.violations)).marked(s.violations ? Mark::Bad : Mark::None));
    row.push_back(Cell::of_count(static_cast<double>(s.nonfinite)).marked(s.nonfinite ? Mark::Bad : Mark::None));
    row.push_back(std::isfinite(s.headroom_log2) ? Cell::of_fixed(s.headroom_log2, 1) : Cell::missing());
    t.rows.push_back(std::move(row));
  }
  return t;
}

std::vector<std::size_t> modules_that_matter(const AuditDocument& doc, std::size_t c, const std::vector<Module>& modules, std::size_t n) {
  // A violated bound first, then values gone non-finite, then the largest local error.
  struct Rank {
    std::size_t module;
    bool violated, nonfinite;
    double local;
  };
  std::vector<Rank> ranks;
  for (std::size_t i = 0; i < modules.size(); ++i) {
    const ModuleStats s = module_stats(doc, modules[i], c);
    if (!s.computes && !s.violations && !s.nonfinite) continue;
    ranks.push_back({i, s.violations > 0, s.nonfinite > 0, s.local_rel});
  }
  std::stable_sort(ranks.begin(), ranks.end(), [](const Rank& a, const Rank& b) {
    if (a.violated != b.violated) return a.violated;
    if (a.nonfinite != b.nonfinite) return a.nonfinite;
    return a.local > b.local;
  });
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < ranks.size() && i < n; ++i) out.push_back(ranks[i].module);
  return out;
}

std::vector<std::string> module_notes() {
  return {"A module is a run of layers that share a node-name prefix, or a LayerNorm, GELU or attention pattern of "
          "operators. local ‖rel‖ max: the largest local error of its layers (each measured on its own, relative to a "
          "different tensor, so they are not added); share: that error's part of the sum over every layer of the chain; "
          "output: the propagated error of its last layer, what it hands on; obs/bound: the largest ratio of any of its "
          "layers; viol.: violations summed over its layers; inf/nan: the largest count of one layer; headroom: the smallest."};
}

}  // namespace fpaudit
