// Several audits merged into one results table (models × chains), in the style of a paper's
// results table: what a chain costs in accuracy, how much of it is certified, and how tight the
// bounds are.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "report/render.h"

namespace fpaudit {

namespace {

/// Extra classification fields that predict certification a priori, over all documents.
std::vector<std::string> predicted_keys(const std::vector<AuditDocument>& docs) {
  std::vector<std::string> keys;
  for (const AuditDocument& d : docs)
    for (const ChainClassificationView& k : d.classification)
      for (const ExtraField& f : k.extra)
        if (f.key.find("predicted") != std::string::npos && f.value.is_number() &&
            std::find(keys.begin(), keys.end(), f.key) == keys.end())
          keys.push_back(f.key);
  return keys;
}

Cell predicted_cell(const ChainClassificationView& k, const std::string& key) {
  for (const ExtraField& f : k.extra) {
    if (f.key != key) continue;
    const double v = f.value.get<double>();
    if (f.value.is_number_integer()) return Cell::of_count(v);
    return key.find("fraction") != std::string::npos ? Cell::of_percent(v) : Cell::of_real(v);
  }
  return Cell::missing();
}

}  // namespace

Table comparison_table(const std::vector<AuditDocument>& docs, bool repeat_model) {
  Table t;
  t.caption = "Accuracy, certified predictions and bound tightness per model and chain";
  t.caption_latex = "Accuracy, certified predictions ($\\Gamma>2\\delta$) and bound tightness per model and chain";
  t.label = "tab:fpaudit-comparison";
  const std::vector<std::string> predicted = predicted_keys(docs);
  t.columns = {{"model", "", "", false, "model"},
               {"chain", "", "", false, "chain"},
               {"samples", "", "", true, "samples"},
               {"accuracy", "", "", true, "accuracy"},
               {"Δ vs fp32 (pp)", "$\\Delta$ vs fp32 (pp)", "", true, "accuracy_change_vs_fp32_pp"},
               {"certified", "", "", true, "certified_fraction"}};
  for (const std::string& k : predicted) {
    std::string title = k;
    std::replace(title.begin(), title.end(), '_', ' ');
    t.columns.push_back({title, "", "", true, k});
  }
  t.columns.insert(t.columns.end(), {{"flips", "", "", true, "flips_vs_reference"},
                                     {"max δ", "max $\\delta$", "", true, "delta_max"},
                                     {"max obs/bound", "", "", true, "max_observed_over_bound"},
                                     {"time (s)", "", "", true, "audit_seconds"}});
  for (const AuditDocument& d : docs) {
    if (!t.rows.empty()) t.rules.push_back(t.rows.size());
    const int f = d.chain_index("fp32");
    for (std::size_t c = 0; c < d.chains.size(); ++c) {
      const ChainClassificationView& k = d.classification[c];
      const bool first = c == 0 || repeat_model;
      std::vector<Cell> row = {first ? Cell::of_text(model_name(d)) : Cell::of_text(""), Cell::of_chain(d.chains[c].name),
                               Cell::of_count(static_cast<double>(d.samples))};
      row.push_back(d.has_labels() ? Cell::of_percent(k.accuracy, 2) : Cell::missing());
      row.push_back(d.has_labels() && f >= 0 && static_cast<int>(c) != f ? Cell::of_change(100 * (k.accuracy - d.classification[f].accuracy), 2) : Cell::missing());
      row.push_back(Cell::of_percent(k.certified_fraction).marked(k.certified_fraction < 1 ? Mark::Warn : Mark::None));
      for (const std::string& key : predicted) row.push_back(predicted_cell(k, key));
      row.push_back(Cell::of_count(static_cast<double>(k.flips_vs_reference)));
      row.push_back(Cell::of_real(k.delta_max));
      const ClosestBound b = closest_bound(d, c);
      row.push_back(b.layer < 0 ? Cell::missing() : Cell::of_real(b.ratio).marked(b.ratio > 1 ? Mark::Bad : Mark::None));
      if (!first) row.push_back(Cell::of_text(""));
      else row.push_back(std::isfinite(d.seconds) ? Cell::of_real(d.seconds) : Cell::missing());
      t.rows.push_back(std::move(row));
    }
  }
  t.notes.push_back(
      "certified: share of samples with Γ > 2δ (the chain provably predicts the reference's class); flips: predictions that differ "
      "from the reference's; max δ: largest logit drift from the reference; max obs/bound: largest observed error over its "
      "deterministic bound in any layer (above 1 is a violation); time: the whole audit, all chains.");
  return t;
}

}  // namespace fpaudit
