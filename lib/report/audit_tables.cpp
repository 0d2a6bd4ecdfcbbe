// The summary and per-layer tables, the findings and the glossary: what every human-readable
// format shows, decided once here and spelled by each format's renderer.
#include <algorithm>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "report/number_text.h"
#include "report/render.h"

namespace fpaudit {

namespace {

/// An observed/bound ratio: above 1 a deterministic bound is violated; above 1/2 it is close.
/// `inherited`: the bound of a layer that only moves data, which is the one it received (at the
/// input, the input's rounding error itself, so a ratio of 1 there is no warning).
Cell ratio_cell(const BoundView& b, bool probabilistic, bool inherited = false) {
  if (b.checked == 0) return Cell::missing(b.unbounded ? "no bound" : "");
  Cell c = Cell::of_real(probabilistic ? b.prob_ratio.max : b.ratio.max);
  if (probabilistic) {
    // A probabilistic bound may be exceeded now and then; that is a warning, not an error.
    if (c.value > 1) c.mark = Mark::Warn;
  } else if (b.violations > 0 || c.value > 1) {
    c.mark = Mark::Bad;
  } else if (c.value > 0.5 && !inherited) {
    c.mark = Mark::Warn;
  }
  return c;
}

/// Where a layer's local error sits between the chain's largest and a thousandth of it (log scale).
double heat(double v, double largest) {
  if (!(v > 0) || !(largest > 0)) return 0;
  return std::clamp(1 + std::log10(v / largest) / 3, 0.0, 1.0);
}

/// The non-exact layer with the largest local normwise error in chain c, or -1.
int largest_local_layer(const AuditDocument& doc, std::size_t c) {
  int best = -1;
  for (std::size_t l = 0; l < doc.layers.size(); ++l) {
    const ErrorView& e = doc.layers[l].chains[c].local;
    if (doc.layers[l].exact_op || e.abs.count == 0 || !(e.normwise_max > 0)) continue;
    if (best < 0 || e.normwise_max > doc.layers[best].chains[c].local.normwise_max) best = static_cast<int>(l);
  }
  return best;
}

}  // namespace

std::string extra_title(const std::string& key) {
  std::string t = key;
  std::replace(t.begin(), t.end(), '_', ' ');
  std::replace(t.begin(), t.end(), '.', ' ');
  return t;
}

Cell extra_cell(const ExtraField& f) {
  if (f.value.is_number_integer()) return Cell::of_count(f.value.get<double>());
  if (f.value.is_number()) {
    const double v = f.value.get<double>();
    const bool fraction = f.key.find("fraction") != std::string::npos || f.key.find("accuracy") != std::string::npos;
    return fraction && v >= 0 && v <= 1 ? Cell::of_percent(v) : Cell::of_real(v);
  }
  if (f.value.is_boolean()) return Cell::of_text(f.value.get<bool>() ? "yes" : "no");
  if (f.value.is_string()) return Cell::of_text(f.value.get<std::string>());
  return Cell::missing();
}

namespace {

/// The keys of extra classification fields over all chains, in first-seen order.
std::vector<std::string> extra_keys(const AuditDocument& doc) {
  std::vector<std::string> keys;
  for (const ChainClassificationView& k : doc.classification)
    for (const ExtraField& f : k.extra)
      if (std::find(keys.begin(), keys.end(), f.key) == keys.end()) keys.push_back(f.key);
  return keys;
}

std::string label_part(const std::string& s) {
  std::string out;
  for (unsigned char ch : s) out += std::isalnum(ch) ? static_cast<char>(std::tolower(ch)) : '-';
  return out;
}

}  // namespace

ClosestBound closest_bound(const AuditDocument& doc, std::size_t c) {
  ClosestBound best;
  for (std::size_t l = 0; l < doc.layers.size(); ++l) {
    const LayerChainView& st = doc.layers[l].chains[c];
    // Layers that only move data are skipped: their bound is the one they received, and at the
    // input it is the input's own rounding error (observed/bound exactly 1, trivially).
    if (doc.layers[l].exact_op) continue;
    for (const BoundView* b : {&st.local_bound, &st.propagated_bound}) {
      if (b->checked == 0) continue;
      if (best.layer < 0 || b->ratio.max > best.ratio) best = {static_cast<int>(l), b->ratio.max, b == &st.local_bound};
    }
  }
  return best;
}

std::string model_name(const AuditDocument& doc) {
  return std::filesystem::path(doc.model_path).stem().string();
}

Table summary_table(const AuditDocument& doc) {
  Table t;
  t.caption = fmt::format("{}: classification of {} samples in each chain (reference: {})", model_name(doc), doc.samples,
                          doc.reference);
  t.label = fmt::format("tab:fpaudit-{}-summary", label_part(model_name(doc)));
  const bool labels = doc.has_labels(), fp32 = doc.has_fp32();
  const std::vector<std::string> extras = extra_keys(doc);
  long lemma = 0;
  for (const ChainClassificationView& k : doc.classification) lemma += k.lemma_violations;

  t.columns = {{"chain", "", "", false}, {"storage", "", "", false}, {"accumulation", "", "", false}};
  if (labels) t.columns.push_back({"accuracy", "", "", true, "accuracy"});
  if (labels && fp32) t.columns.push_back({"Δ vs fp32 (pp)", "$\\Delta$ vs fp32 (pp)", "", true, "accuracy_change_vs_fp32_pp"});
  t.columns.push_back({"flips vs ref.", "", "", true, "flips_vs_reference"});
  if (fp32) t.columns.push_back({"flips vs fp32", "", "", true, "flips_vs_fp32"});
  t.columns.push_back({"certified Γ>2δ", "certified $\\Gamma>2\\delta$", "", true, "certified_fraction"});
  // The certificates (a priori / a posteriori, deterministic / probabilistic), when recorded.
  const bool recorded = std::any_of(doc.classification.begin(), doc.classification.end(),
                                    [](const ChainClassificationView& k) { return k.certified.present; });
  // Columns of 0% in every chain crowd out the rest: one note says it instead.
  const bool certificates = recorded && std::any_of(doc.classification.begin(), doc.classification.end(), [](const ChainClassificationView& k) {
                              const CertifiedView& v = k.certified;
                              return v.a_priori_det || v.a_priori_prob || v.a_posteriori_det || v.a_posteriori_prob;
                            });
  if (certificates) {
    t.columns.push_back({"a priori det/prob", "", "certified", false, "certified_a_priori"});
    t.columns.push_back({"a post. det/prob", "", "certified", false, "certified_a_posteriori"});
  }
  const bool margin = std::any_of(doc.classification.begin(), doc.classification.end(),
                                  [](const ChainClassificationView& k) { return k.margin.present; });
  if (margin) {
    t.columns.push_back({"margin a priori", "", "certified", false, "margin_certified_a_priori"});
    t.columns.push_back({"margin a post.", "", "certified", false, "margin_certified_a_posteriori"});
  }
  for (const std::string& k : extras) t.columns.push_back({extra_title(k), "", "", true, k});
  t.columns.push_back({"max δ", "max $\\delta$", "", true, "delta_max"});
  t.columns.push_back({"non-finite", "", "", true, "nonfinite_samples"});
  t.columns.back().optional = true;
  if (lemma) t.columns.push_back({"lemma violations", "", "", true, "lemma_violations"});

  const int f = doc.chain_index("fp32");
  for (std::size_t c = 0; c < doc.chains.size(); ++c) {
    const ChainView& ch = doc.chains[c];
    const ChainClassificationView& k = doc.classification[c];
    std::vector<Cell> row = {Cell::of_chain(ch.name), Cell::of_text(ch.storage), Cell::of_text(ch.accumulator)};
    if (labels) row.push_back(Cell::of_percent(k.accuracy, 2));
    if (labels && fp32)
      row.push_back(static_cast<int>(c) == f ? Cell::missing() : Cell::of_change(100 * (k.accuracy - doc.classification[f].accuracy), 2));
    row.push_back(Cell::of_count(static_cast<double>(k.flips_vs_reference)).marked(k.flips_vs_reference ? Mark::Warn : Mark::None));
    if (fp32) row.push_back(Cell::of_count(static_cast<double>(k.flips_vs_fp32)));
    row.push_back(Cell::of_percent(k.certified_fraction).marked(k.certified_fraction < 1 ? Mark::Warn : Mark::None));
    // "det% / prob%" of the samples, for the certificate columns.
    auto pair = [&](long det, long prob) {
      const double n = doc.samples ? static_cast<double>(doc.samples) : NAN;
      return Cell::of_text(percent_text(static_cast<double>(det) / n) + " / " + percent_text(static_cast<double>(prob) / n));
    };
    if (certificates) {
      const CertifiedView& v = k.certified;
      row.push_back(v.present && v.a_priori_present ? pair(v.a_priori_det, v.a_priori_prob) : Cell::missing());
      row.push_back(v.present ? pair(v.a_posteriori_det, v.a_posteriori_prob) : Cell::missing());
    }
    if (margin) {
      const MarginView& m = k.margin;
      row.push_back(m.present && m.a_priori_present ? pair(m.a_priori_det, m.a_priori_prob) : Cell::missing());
      row.push_back(m.present ? pair(m.a_posteriori_det, m.a_posteriori_prob) : Cell::missing());
    }
    for (const std::string& key : extras) {
      const auto it = std::find_if(k.extra.begin(), k.extra.end(), [&](const ExtraField& e) { return e.key == key; });
      row.push_back(it == k.extra.end() ? Cell::missing() : extra_cell(*it));
    }
    row.push_back(Cell::of_real(k.delta_max));
    row.push_back(Cell::of_count(static_cast<double>(k.nonfinite)).marked(k.nonfinite ? Mark::Bad : Mark::None));
    if (lemma) row.push_back(Cell::of_count(static_cast<double>(k.lemma_violations)).marked(k.lemma_violations ? Mark::Bad : Mark::None));
    t.rows.push_back(std::move(row));
  }
  if (labels) t.notes.push_back(fmt::format("Reference accuracy: {}.", percent_text(doc.reference_accuracy, 2)));
  if (recorded && !certificates)
    t.notes.push_back("certified a priori and a posteriori (deterministic and probabilistic): 0% in every chain; "
                      "theory/a-priori-certificate.md.");
  if (certificates)
    t.notes.push_back("certified a priori / a posteriori (deterministic / probabilistic): samples whose class is proved equal "
                      "to the exact network's from error bounds alone, computed from the model and the input without running "
                      "the chain (a priori) or along the chain's own values (a posteriori); theory/a-priori-certificate.md.");
  return t;
}

Table layer_table(const AuditDocument& doc, std::size_t c) {
  const ChainView& ch = doc.chains[c];
  Table t;
  t.caption = fmt::format("{}, {}: {}; error per layer over {} samples", model_name(doc), ch.name, ch.arithmetic_text(),
                          doc.samples);
  t.label = fmt::format("tab:fpaudit-{}-{}", label_part(model_name(doc)), label_part(ch.name));
  const std::string norm = "$\\|\\mathrm{rel}\\|$ max";
  t.columns = {{"#", "", "", true, "layer_index"},
               {"layer", "", "", false, "layer"},
               {"op", "", "", false, "op"},
               {"abs max", "", "propagated"},
               {"‖rel‖ max", norm, "propagated"},
               {"abs max", "", "local"},
               {"‖rel‖ max", norm, "local"},
               {"ulp p99", "", "local"},
               {"det. local", "", "obs/bound"},
               {"prob. local", "", "obs/bound"},
               {"det. prop.", "", "obs/bound"},
               {"inf/nan", "", "", true, "inf_nan"},
               {"headroom", "", "", true, "headroom_log2"}};
  for (const char* title : {"det. local", "prob. local", "det. prop.", "inf/nan"})
    for (Column& col : t.columns) col.optional = col.optional || col.title == title;
  const int strong = largest_local_layer(doc, c);
  const double largest = strong >= 0 ? doc.layers[strong].chains[c].local.normwise_max : 0;
  for (std::size_t l = 0; l < doc.layers.size(); ++l) {
    const LayerView& layer = doc.layers[l];
    const LayerChainView& st = layer.chains[c];
    std::vector<Cell> row = {Cell::of_count(layer.index), Cell::of_code(layer.name), Cell::of_text(layer.op)};
    auto measured = [](const Quantiles& q, double v) { return q.count ? Cell::of_real(v) : Cell::missing(); };
    row.push_back(measured(st.propagated.abs, st.propagated.abs.max));
    row.push_back(measured(st.propagated.abs, st.propagated.normwise_max));
    if (layer.exact_op) {
      row.insert(row.end(), {Cell::missing("exact"), Cell::of_text(""), Cell::of_text(""), Cell::of_text(""), Cell::of_text("")});
    } else {
      Cell rel = measured(st.local.abs, st.local.normwise_max);
      rel.heat = heat(st.local.normwise_max, largest);
      if (static_cast<int>(l) == strong) rel.mark = Mark::Strong;
      row.push_back(measured(st.local.abs, st.local.abs.max));
      row.push_back(rel);
      row.push_back(measured(st.local.ulps, st.local.ulps.p99));
      row.push_back(ratio_cell(st.local_bound, false));
      row.push_back(ratio_cell(st.local_bound, true));
    }
    row.push_back(ratio_cell(st.propagated_bound, false, layer.exact_op));
    const double nonfinite = static_cast<double>(st.events.overflow + st.events.nan);
    row.push_back(Cell::of_count(nonfinite).marked(nonfinite > 0 ? Mark::Bad : Mark::None));
    row.push_back(std::isfinite(st.events.headroom_log2) ? Cell::of_fixed(st.events.headroom_log2, 1) : Cell::missing());
    t.rows.push_back(std::move(row));
  }
  return t;
}

std::vector<std::string> findings(const AuditDocument& doc) {
  std::vector<std::string> out;
  for (std::size_t c = 0; c < doc.chains.size(); ++c) {
    const ChainClassificationView& k = doc.classification[c];
    std::string s = fmt::format("{}: {} of {} predictions certified (Γ > 2δ), {} {} against the reference", chain_label(doc.chains[c].name),
                                k.certified_vs_reference, doc.samples, k.flips_vs_reference,
                                k.flips_vs_reference == 1 ? "flip" : "flips");
    if (const int l = largest_local_layer(doc, c); l >= 0)
      s += fmt::format("; most error created at {} (local ‖rel‖ {})", doc.layers[l].name,
                       compact_text(doc.layers[l].chains[c].local.normwise_max));
    if (const ClosestBound b = closest_bound(doc, c); b.layer >= 0)
      s += fmt::format("; {} {} ({}, {})", b.ratio > 1 ? "a bound is VIOLATED: observed/bound reaches" : "bounds hold with observed/bound at most",
                       compact_text(b.ratio), b.local ? "local" : "propagated", doc.layers[b.layer].name);
    std::uint64_t violations = 0, overflow = 0;
    int unbounded = 0;
    for (const LayerView& layer : doc.layers) {
      unbounded += !layer.exact_op && layer.chains[c].local_bound.checked == 0 && layer.chains[c].local_bound.unbounded > 0;
      violations += layer.chains[c].local_bound.violations + layer.chains[c].propagated_bound.violations;
      overflow += layer.chains[c].events.overflow + layer.chains[c].events.nan;
    }
    if (unbounded) s += fmt::format("; {} {} without a bound", unbounded, unbounded == 1 ? "layer" : "layers");
    if (violations) s += fmt::format("; {} bound {} in all", violations, violations == 1 ? "violation" : "violations");
    if (k.first_nonfinite_layer >= 0 && k.first_nonfinite_layer < static_cast<int>(doc.layers.size()))
      s += fmt::format("; values went non-finite in {} {}, first at {}", k.first_nonfinite_samples,
                       k.first_nonfinite_samples == 1 ? "sample" : "samples", doc.layers[k.first_nonfinite_layer].name);
    else if (!overflow)
      s += "; no overflow";
    if (k.lemma_violations) s += fmt::format("; {} LEMMA VIOLATIONS (certified yet flipped: a bug in fpaudit)", k.lemma_violations);
    out.push_back(s + ".");
  }
  return out;
}

std::vector<std::string> glossary() {
  return {
      "propagated: the chain's own values against the reference; local: the error the layer itself creates "
      "(its input is the reference's, rounded to the chain's format).",
      "abs max: largest |y − r| over all elements and samples; ‖rel‖ max: largest ‖y − r‖₂ / ‖r‖₂ of one sample; "
      "ulp p99: 99th percentile of |y − r| in units in the last place of the storage format.",
      "observed / bound: largest ratio of the observed error to its bound, per element; det.: the deterministic bound "
      "(above 1 is a violation); prob.: the probabilistic bound (above 1 now and then is allowed).",
      "exact: a layer that moves or selects data creates no error of its own; no bound: no rule applies, or a value "
      "upstream overflowed.",
      "inf/nan: elements that went infinite or NaN where the reference is finite; headroom: binades between the largest "
      "value seen and the format's largest finite number.",
      "certified Γ>2δ: samples whose reference margin Γ (top-1 minus top-2 logit) exceeds twice the chain's logit drift "
      "δ, so the chain provably predicts the reference's class."};
}

}  // namespace fpaudit
