// The terminal rendering, at most 100 columns wide. By default: one verdict line per chain, then
// per chain the five modules that matter most. With per_layer: per chain a summary and two
// aligned tables (errors, bounds) of every layer. Colour (ANSI) only marks what the plain text
// already says.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "report/number_text.h"
#include "report/render.h"

namespace fpaudit {

namespace {

const char* const kRed = "\033[31m";
const char* const kYellow = "\033[33m";
const char* const kBold = "\033[1m";
const char* const kReset = "\033[0m";

constexpr std::size_t kNameWidth = 22;

/// Long ONNX names keep their tail, which says the most ("~ocks.0/attn/MatMul_1").
std::string clip_tail(const std::string& s, std::size_t w) {
  return s.size() <= w ? s : fmt::format("~{}", s.substr(s.size() - (w - 1)));
}

/// Right-aligns `text` in `w` columns, wrapped in a colour code when `code` is set.
std::string coloured(const std::string& text, std::size_t w, const char* code) {
  const std::string cell = fmt::format("{:>{}}", text, w);
  return code ? std::string(code) + cell + kReset : cell;
}

std::string measured(const Quantiles& q, double v) { return q.count ? compact_text(v) : "-"; }

struct RatioText {
  std::string text;
  const char* colour = nullptr;
};
/// `inherited`: a data-moving layer's bound, the one it received (no warning when tight).
RatioText ratio(const BoundView& b, bool probabilistic, bool colour, bool inherited = false) {
  if (b.checked == 0) return {b.unbounded ? "no bound" : "-"};
  const double v = probabilistic ? b.prob_ratio.max : b.ratio.max;
  const char* code = nullptr;
  if (!probabilistic && (b.violations || v > 1)) code = kRed;
  else if (v > (probabilistic ? 1.0 : 0.5) && !inherited) code = kYellow;
  return {compact_text(v), colour ? code : nullptr};
}

std::string chain_block(const AuditDocument& doc, std::size_t c, bool colour) {
  const ChainView& ch = doc.chains[c];
  const ChainClassificationView& k = doc.classification[c];
  std::string out = fmt::format("{}{} — {}{}\n", colour ? kBold : "", chain_label(ch.name), ch.arithmetic_text(), colour ? kReset : "");
  std::string line = doc.has_labels() ? fmt::format("accuracy {}", percent_text(k.accuracy, 2)) : "no labels";
  if (doc.has_labels()) line += fmt::format(" (reference {})", percent_text(doc.reference_accuracy, 2));
  line += fmt::format("; flips: {} vs reference", k.flips_vs_reference);
  if (doc.has_fp32()) line += fmt::format(", {} vs fp32", k.flips_vs_fp32);
  const char* cert = colour && k.certified_fraction < 1 ? kYellow : "";
  out += fmt::format("  {}\n  certified (Γ > 2δ): {}{}{} of {} samples\n", line, cert, percent_text(k.certified_fraction),
                     *cert ? kReset : "", doc.samples);
  // Certified predicted next to certified observed (theory/a-priori-certificate.md).
  if (const CertifiedView& v = k.certified; v.present) {
    auto pct = [&](long n) { return percent_text(doc.samples ? static_cast<double>(n) / static_cast<double>(doc.samples) : NAN); };
    // Audits since issue 17 state the failure probabilities of both probabilistic certificates,
    // per sample and per run, on a line of their own; older ones the a-priori one, per sample.
    const bool per_run = !std::isnan(v.a_posteriori_failure_probability);
    // Audits without an fp32 chain have no "= fp32 = exact" certificate.
    const std::string with_fp32 =
        v.a_priori_all_present ? fmt::format(", = fp32 = exact {} / {}", pct(v.a_priori_all_det), pct(v.a_priori_all_prob)) : std::string();
    const std::string a_priori = !v.a_priori_present ? std::string("not computed")
                                 : per_run ? fmt::format("{} / {}{}", pct(v.a_priori_det), pct(v.a_priori_prob), with_fp32)
                                           : fmt::format("{} / {} (fails w.p. ≤ {:.2g}){}", pct(v.a_priori_det), pct(v.a_priori_prob),
                                                         v.failure_probability, with_fp32);
    out += fmt::format("  certified det / prob: a priori {}; a posteriori {} / {}\n", a_priori, pct(v.a_posteriori_det),
                       pct(v.a_posteriori_prob));
    if (per_run) {
      const std::string pri = v.a_priori_present ? fmt::format("a priori {:.2g} / {:.2g}; ", v.failure_probability, v.failure_probability_run)
                                                 : std::string();
      out += fmt::format("  prob. fails w.p. ≤ (sample / run): {}a posteriori {:.2g} / {:.2g}\n", pri,
                         v.a_posteriori_failure_probability, v.a_posteriori_failure_probability_run);
    }
    if (v.violations)
      out += fmt::format("  {}CERTIFIED YET FLIPPED: {}{}\n", colour ? kRed : "", v.violations, colour ? kReset : "");
  }
  // The margin-directed certificates (theory/margin-bound.md), when recorded.
  if (const MarginView& m = k.margin; m.present) {
    auto pct = [&](long n) { return percent_text(doc.samples ? static_cast<double>(n) / static_cast<double>(doc.samples) : NAN); };
    const std::string pri = m.a_priori_present ? fmt::format("{} / {}", pct(m.a_priori_det), pct(m.a_priori_prob)) : std::string("not computed");
    out += fmt::format("  margin certified det / prob: a priori {}; a posteriori {} / {} (fails w.p. ≤ {:.2g}); drift/bound p50 {:.2g} / {:.2g}\n",
                       pri, pct(m.a_posteriori_det), pct(m.a_posteriori_prob), m.failure_probability, m.ratio_det, m.ratio_prob);
    if (m.violations || m.certificate_violations)
      out += fmt::format("  {}MARGIN BOUND VIOLATED: {} drifts above the bound, {} certified yet flipped{}\n", colour ? kRed : "",
                         m.violations, m.certificate_violations, colour ? kReset : "");
  }
  // Fields of a newer audit, as they are.
  for (const ExtraField& f : k.extra) out += fmt::format("  {}: {}\n", extra_title(f.key), cell_text(extra_cell(f)));
  if (k.lemma_violations)
    out += fmt::format("  {}LEMMA VIOLATIONS: {}{}\n", colour ? kRed : "", k.lemma_violations, colour ? kReset : "");

  // Errors: which layer creates error (local) and which only carries it (propagated).
  out += fmt::format("  {:>3} {:<{}} {:<7} {:-^19} {:-^29} {:-^13}\n", "", "", kNameWidth, "", " propagated ", " local ",
                     " range ");
  out += fmt::format("  {:>3} {:<{}} {:<7} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7} {:>5}\n", "#", "layer", kNameWidth, "op", "abs max",
                     "norm rel", "abs max", "norm rel", "ulp p99", "inf/nan", "room");
  for (const LayerView& layer : doc.layers) {
    const LayerChainView& st = layer.chains[c];
    const std::uint64_t bad = st.events.overflow + st.events.nan;
    const double room = st.events.headroom_log2;
    std::string local = layer.exact_op ? fmt::format("{:>9} {:>9} {:>9}", "exact", "", "")
                                       : fmt::format("{:>9} {:>9} {:>9}", measured(st.local.abs, st.local.abs.max),
                                                     measured(st.local.abs, st.local.normwise_max),
                                                     measured(st.local.ulps, st.local.ulps.p99));
    out += fmt::format("  {:>3} {:<{}} {:<7} {:>9} {:>9} {} {} {:>5}\n", layer.index, clip_tail(layer.name, kNameWidth), kNameWidth,
                       clip_tail(layer.op, 7), measured(st.propagated.abs, st.propagated.abs.max),
                       measured(st.propagated.abs, st.propagated.normwise_max), local,
                       coloured(std::to_string(bad), 7, colour && bad ? kRed : nullptr),
                       std::isfinite(room) ? fmt::format("{:.1f}", room) : "-");
  }
  // Bounds: the observed error over its bound, largest per layer; above 1 a violation.
  out += fmt::format("  {:>3} {:<{}} {:<7} {:-^43} {:-^15}\n", "", "", kNameWidth, "", " local: observed / bound ",
                     " propagated ");
  out += fmt::format("  {:>3} {:<{}} {:<7} {:>9} {:>9} {:>9} {:>13} {:>9} {:>5}\n", "#", "bounds", kNameWidth, "", "bound", "det.",
                     "prob.", "exceeded/max", "det.", "viol");
  for (const LayerView& layer : doc.layers) {
    const LayerChainView& st = layer.chains[c];
    const BoundView& q = st.local_bound;
    std::string local;
    if (layer.exact_op) {
      local = fmt::format("{:>9} {:>9} {:>9} {:>13}", "exact", "", "", "");
    } else {
      const RatioText det = ratio(q, false, colour), prob = ratio(q, true, colour);
      const std::string exceeded =
          q.checked ? compact_text(q.exceedance_rate) + "/" + compact_text(q.promised_failure_probability) : "-";
      local = fmt::format("{:>9} {} {} {:>13}", q.checked ? compact_text(q.bound.max) : "-", coloured(det.text, 9, det.colour),
                          coloured(prob.text, 9, prob.colour), exceeded);
    }
    const RatioText prop = ratio(st.propagated_bound, false, colour, layer.exact_op);
    const std::uint64_t viol = q.violations + st.propagated_bound.violations;
    out += fmt::format("  {:>3} {:<{}} {:<7} {} {} {}\n", layer.index, clip_tail(layer.name, kNameWidth), kNameWidth,
                       clip_tail(layer.op, 7), local, coloured(prop.text, 9, prop.colour),
                       coloured(std::to_string(viol), 5, colour && viol ? kRed : nullptr));
  }
  return out + "\n";
}

constexpr std::size_t kShownModules = 5;

/// Lines that must never hide behind a summary: a certificate contradicted, a lemma violated.
std::string alarms(const AuditDocument& doc, bool colour) {
  std::string out;
  for (std::size_t c = 0; c < doc.chains.size(); ++c) {
    const ChainClassificationView& k = doc.classification[c];
    if (k.certified.present && k.certified.violations)
      out += fmt::format("  {}{}: CERTIFIED YET FLIPPED: {}{}\n", colour ? kRed : "", chain_label(doc.chains[c].name), k.certified.violations,
                         colour ? kReset : "");
    if (k.lemma_violations)
      out += fmt::format("  {}{}: LEMMA VIOLATIONS: {}{}\n", colour ? kRed : "", chain_label(doc.chains[c].name), k.lemma_violations,
                         colour ? kReset : "");
  }
  return out;
}

/// Notes as lines of at most 96 characters, broken between words.
std::string wrapped(const std::vector<std::string>& notes) {
  std::string out;
  for (const std::string& note : notes) {
    std::string line;
    std::size_t pos = 0;
    while (pos < note.size()) {
      std::size_t end = note.find(' ', pos);
      if (end == std::string::npos) end = note.size();
      const std::string word = note.substr(pos, end - pos);
      if (!line.empty() && line.size() + 1 + word.size() > 96) out += line + "\n", line.clear();
      line += (line.empty() ? "" : " ") + word;
      pos = end + 1;
    }
    if (!line.empty()) out += line + "\n";
  }
  return out;
}

constexpr std::size_t kShownCauses = 8;

/// The other outputs' task tables, then the parameters the formats damage (the first few: the
/// overflows first, then the flushed, then the rest).
std::string task_report(const AuditDocument& doc, const Table& first, bool colour) {
  std::string out;
  for (std::size_t k = 1; k < doc.tasks.size(); ++k) {
    Table t = task_table(doc, k);
    drop_empty_columns(t);
    out += fmt::format("output '{}' ({}):\n", doc.tasks[k].name, doc.tasks[k].task) + table_terminal(t, colour, 24) + "\n";
  }
  for (const std::string& note : first.notes)
    if (note.find("CERTIFIED YET FLIPPED") != std::string::npos) out += "  " + note + "\n";
  if (doc.parameter_causes.empty()) return out;
  Table p = parameter_table(doc);
  std::vector<std::size_t> order(p.rows.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto rank = [&](std::size_t i) {
    const ParameterCauseView& v = doc.parameter_causes[i];
    return v.overflow > 0 ? 0 : v.flushed > 0 ? 1 : 2;
  };
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return rank(a) < rank(b); });
  std::vector<std::vector<Cell>> rows;
  for (std::size_t i = 0; i < order.size() && i < kShownCauses; ++i) rows.push_back(p.rows[order[i]]);
  p.rows = std::move(rows);
  out += fmt::format("parameters damaged by the storage formats ({} of {}; all in audit.json):\n", p.rows.size(),
                     doc.parameter_causes.size());
  return out + table_terminal(p, colour, 24) + "\n";
}

std::string verdict_report(const AuditDocument& doc, bool colour) {
  std::string out = fmt::format("verdict against the {} reference:\n", doc.reference);
  for (const std::string& line : task_lines(doc)) out += "  " + line + "\n";
  Table verdict = verdict_table(doc);
  drop_empty_columns(verdict);
  out += table_terminal(verdict, colour, 24) + (doc.classifies() ? alarms(doc, colour) : "") + "\n";
  out += task_report(doc, verdict, colour);
  const std::vector<Module> modules = group_modules(doc.layers);
  const bool grouped = modules.size() < doc.layers.size();
  for (std::size_t c = 0; c < doc.chains.size(); ++c) {
    const std::vector<std::size_t> top = modules_that_matter(doc, c, modules, kShownModules);
    out += fmt::format("{}{} ({}){}: top {} of {} {}\n", colour ? kBold : "", chain_label(doc.chains[c].name), doc.chains[c].arithmetic_text(),
                       colour ? kReset : "", top.size(), grouped ? modules.size() : doc.layers.size(), grouped ? "modules" : "layers");
    Table t = module_table(doc, c, modules, top, true);
    drop_empty_columns(t);
    out += table_terminal(t, colour, 24) + "\n";
  }
  if (doc.classifies())
    out +=
        "flips, Δ acc.: against the reference. certified: Γ > 2δ. inf/nan: samples with a non-finite\n"
        "value. most local error: the layer whose own rounding error (local ‖rel‖) is largest; share:\n"
        "its part of the sum of all layers' local ‖rel‖ (first-order, not an attribution of the drift).\n"
        "bounds a priori: classes proved by the a-priori error bounds, elementwise or margin-directed\n"
        "(margin), whichever proves more (uninformative: none).\n";
  else
    out += wrapped(verdict.notes) +
           wrapped({"inf/nan: samples with a non-finite value. most local error: the layer whose own rounding error "
                    "(local ‖rel‖) is largest; share: its part of the sum of all layers' local ‖rel‖ (first-order, not an "
                    "attribution of the drift)."});
  if (!doc.parameter_causes.empty())
    out += wrapped({"parameters damaged: weights and constants a chain's storage format overflows (±Inf, NaN or "
                    "saturated), flushes to zero or makes subnormal, at the layer that uses them, with that layer's own "
                    "error (local ‖rel‖) and its output elements gone inf/nan."});
  out +=
      "Modules: layers sharing a name prefix, or a LayerNorm, GELU or attention pattern. local ‖rel‖:\n"
      "the largest local error of its layers; output ‖rel‖: its last layer's propagated error;\n"
      "obs/bound: largest observed error over deterministic bound of its layers (above 1 is a\n"
      "violation); room: fewest binades below the format's largest finite number. Columns that are\n"
      "zero or empty in every row shown are left out.\n"
      "--per-layer prints every layer's errors and bounds.\n";
  return out;
}

/// The --compare runs: the runtime against the reference and its judging chain's bound, then
/// against every chain.
std::string compare_report(const AuditDocument& doc, bool colour) {
  if (doc.compare.empty()) return "";
  const Table t = compare_table(doc, false);
  return "real runtimes (--compare), against the reference:\n" + table_terminal(t, colour, 24) + "\n" +
         table_terminal(compare_chains_table(doc), colour, 24) + wrapped(t.notes);
}

}  // namespace

std::string render_terminal(const AuditDocument& doc, bool colour, bool per_layer) {
  // Paths can be long: each gets a line of its own.
  std::string out = fmt::format("fpaudit audit of {}\n  on {} samples of {}\n  reference: {}", doc.model_path, doc.samples,
                                doc.input_path, doc.reference);
  if (std::isfinite(doc.seconds)) out += fmt::format("; {} threads, {:.1f} s", doc.threads, doc.seconds);
  out += "\n\n";
  if (!per_layer) return out + verdict_report(doc, colour) + compare_report(doc, colour);
  for (const std::string& line : task_lines(doc)) out += line + "\n";
  if (!doc.parameter_causes.empty())
    out += "parameters damaged by the storage formats:\n" + table_terminal(parameter_table(doc), colour, 24) + "\n";
  else if (!doc.tasks.empty())
    out += "\n";
  for (std::size_t c = 0; c < doc.chains.size(); ++c) out += chain_block(doc, c, colour);
  out +=
      "propagated: the chain's own values against the reference; local: the error the layer itself\n"
      "creates (its input is the reference's, rounded to the chain's format). norm rel: largest\n"
      "||y - r|| / ||r|| of one sample. ulp: units in the last place of the chain's storage format.\n"
      "inf/nan: elements that went non-finite; room: binades left below the largest finite number.\n"
      "bound: largest deterministic local bound; det./prob.: largest observed error over its\n"
      "deterministic/probabilistic bound (det. above 1 is a violation); exceeded/max: share of\n"
      "elements above the probabilistic bound / the failure probability it allows each element.\n";
  return out + compare_report(doc, colour);
}

}  // namespace fpaudit
