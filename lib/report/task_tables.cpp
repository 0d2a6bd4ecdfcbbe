// The verdict of outputs that are not classifications (regress, segment, detect: shadow/task.h)
// and the parameter-level causes table, shared by the terminal, Markdown and HTML renderings.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "report/modules.h"
#include "report/number_text.h"
#include "report/render.h"

namespace fpaudit {

namespace {

Cell share(long part, long whole, bool bad_if_any) {
  if (whole <= 0) return Cell::missing();
  Cell c = Cell::of_percent(static_cast<double>(part) / static_cast<double>(whole));
  if (bad_if_any && part > 0) c.mark = Mark::Warn;
  if (!bad_if_any && part < whole) c.mark = Mark::Warn;
  return c;
}

Cell real_or_missing(double v) { return std::isnan(v) ? Cell::missing() : Cell::of_real(v); }

/// The layer with the largest local error and its share, as the classification verdict shows it.
void add_worst_layer(const AuditDocument& doc, std::size_t c, std::vector<Cell>& row) {
  const int worst = worst_local_layer(doc, c);
  const double sum = summed_local_rel(doc, c);
  if (worst >= 0 && sum > 0) {
    row.push_back(Cell::of_code(doc.layers[static_cast<std::size_t>(worst)].name));
    row.push_back(Cell::of_percent(doc.layers[static_cast<std::size_t>(worst)].chains[c].local.normwise_max / sum, 0));
  } else {
    row.push_back(Cell::missing("no error"));
    row.push_back(Cell::missing());
  }
}

std::string shape_text(const std::vector<long>& s) {
  std::string out = "[";
  for (std::size_t d = 0; d < s.size(); ++d) out += (d ? ", " : "") + std::to_string(s[d]);
  return out + "]";
}

}  // namespace

std::vector<std::string> task_lines(const AuditDocument& doc) {
  std::vector<std::string> out;
  for (const OutputTaskView& t : doc.tasks) {
    std::string detail = t.reason;
    if (t.task == "regress") detail = fmt::format("tolerance rtol={} atol={}; {}", compact_text(t.rtol), compact_text(t.atol), detail);
    if (t.task == "segment" && t.reason.find("axis") == std::string::npos) detail = fmt::format("classes along axis {}; {}", t.class_axis, detail);
    if (t.task == "detect" && t.reason.find("threshold") == std::string::npos)
      detail = fmt::format("threshold {}; {}", compact_text(t.threshold), detail);
    out.push_back(doc.tasks.size() == 1 ? fmt::format("task: {} ({})", t.task, detail)
                                        : fmt::format("task of output '{}': {} ({})", t.name, t.task, detail));
  }
  return out;
}

Table task_table(const AuditDocument& doc, std::size_t k) {
  const OutputTaskView& t = doc.tasks.at(k);
  Table tb;
  tb.label = fmt::format("task-{}-{}", model_name(doc), k);
  tb.columns = {{"chain", "", "", false}};
  const bool regress = t.task == "regress";
  if (regress) {
    tb.caption = fmt::format("Output '{}' {} as a regression, against the {} reference over {} samples: tolerance atol + "
                             "rtol·|ref| with rtol={}, atol={}",
                             t.name, shape_text(t.shape), doc.reference, doc.samples, compact_text(t.rtol), compact_text(t.atol));
    tb.columns.push_back({"within tol.", "", "samples", true, "within_tolerance_observed"});
    tb.columns.push_back({"proved", "", "samples", true, "within_tolerance_proved"});
    tb.columns.push_back({"max abs", "", "error", true, "max_abs"});
    tb.columns.push_back({"‖rel‖ max", "$\\|\\mathrm{rel}\\|$ max", "error", true, "normwise_max"});
    tb.columns.push_back({"cos min", "", "error", true, "cosine_min"});
    tb.columns.push_back({"obs/bound", "", "", true, "bound_ratio_max"});
  } else {
    tb.caption = fmt::format("Output '{}' {} as {}, against the {} reference over {} samples", t.name, shape_text(t.shape),
                             t.task == "detect" ? fmt::format("decisions y > {}", compact_text(t.threshold))
                                                : fmt::format("{} classes along axis {}", t.task == "segment" ? "per-pixel" : "its",
                                                              t.class_axis),
                             doc.reference, doc.samples);
    tb.columns.push_back({"flipped", "", t.task == "classify" ? "samples" : "pixels", true, "flipped_share"});
    tb.columns.push_back({"with a flip", "", "samples", true, "samples_flipped"});
    tb.columns.push_back({"certified", "", "observed", true, "certified_share"});
    tb.columns.push_back({"by bounds", "", "certified", true, "certified_bound_share"});
    tb.columns.push_back({"min margin", "", "", true, "min_margin"});
  }
  tb.columns.push_back({"inf/nan", "", "", true, "nonfinite_samples"});
  tb.columns.back().optional = true;
  tb.columns.push_back({"most local error", "", "", false, "worst_layer"});
  tb.columns.push_back({"share", "", "", true, "worst_layer_share"});
  for (std::size_t c = 0; c < doc.chains.size(); ++c) {
    const TaskChainView& s = t.chains[c];
    std::vector<Cell> row = {Cell::of_chain(doc.chains[c].name)};
    if (regress) {
      row.push_back(share(s.within_observed, s.samples, false));
      row.push_back(share(s.within_proved, s.samples, false));
      row.push_back(real_or_missing(s.max_abs));
      row.push_back(real_or_missing(s.normwise_max));
      row.push_back(real_or_missing(s.cosine_min));
      Cell ratio = real_or_missing(s.bound_ratio_max);
      if (s.bound_ratio_max > 1) ratio.mark = Mark::Bad;
      row.push_back(ratio);
    } else {
      row.push_back(share(s.flipped, s.decisions, true));
      row.push_back(Cell::of_count(static_cast<double>(s.samples_flipped)).marked(s.samples_flipped ? Mark::Warn : Mark::None));
      row.push_back(share(s.certified_observed, s.decisions, false));
      row.push_back(share(s.certified_bound, s.decisions, false));
      row.push_back(real_or_missing(s.min_margin));
    }
    const long nonfinite = std::max(regress ? s.nonfinite : 0L, doc.classification[c].first_nonfinite_samples);
    row.push_back(Cell::of_count(static_cast<double>(nonfinite)).marked(nonfinite ? Mark::Bad : Mark::None));
    add_worst_layer(doc, c, row);
    tb.rows.push_back(std::move(row));
  }
  if (regress)
    tb.notes = {"within tol.: samples whose every element has |y − ref| ≤ atol + rtol·|ref| (observed); proved: samples "
                "whose deterministic a-posteriori bound proves |y − exact| ≤ atol + rtol·|exact| for every element.",
                "‖rel‖ max: largest ‖y − ref‖₂/‖ref‖₂ of a sample; cos min: smallest cosine between y and ref; obs/bound: "
                "largest observed error over its deterministic bound (above 1 is a violation)."};
  else
    tb.notes = {t.task == "detect"
                    ? "flipped: decisions y > threshold that differ from the reference's; certified observed: |y − ref| < "
                      "|ref − threshold|; by bounds: the deterministic a-posteriori bound below |ref − threshold|; min margin: "
                      "smallest |ref − threshold|."
                    : "flipped: pixels whose top class differs from the reference's; certified observed: Γ > 2δ at the pixel "
                      "(top-1 minus top-2 reference score over twice the largest drift); by bounds: the deterministic "
                      "a-posteriori bounds prove the class; min margin: smallest Γ of a pixel."};
  for (std::size_t c = 0; c < doc.chains.size(); ++c)
    if (t.chains[c].violations > 0)
      tb.notes.push_back(fmt::format("{}: CERTIFIED YET FLIPPED: {} decisions (a bug).", chain_label(doc.chains[c].name), t.chains[c].violations));
  return tb;
}

Table parameter_table(const AuditDocument& doc) {
  Table t;
  t.caption = "Parameters the chains' storage formats damage, at the layer where they act";
  t.label = fmt::format("parameters-{}", model_name(doc));
  t.columns = {{"chain", "", "", false, "chain"},         {"layer", "", "", false, "layer"},
               {"parameter", "", "", false, "parameter"}, {"overflow", "", "elements", true, "overflow"},
               {"flushed", "", "elements", true, "flushed"}, {"subnormal", "", "elements", true, "subnormal"},
               {"max abs", "", "", true, "max_magnitude"}, {"‖rel‖", "$\\|\\mathrm{rel}\\|$", "layer local", true, "local_normwise_max"},
               {"inf/nan", "", "layer output", true, "output_inf_nan"}};
  for (const ParameterCauseView& p : doc.parameter_causes) {
    std::vector<Cell> row = {Cell::of_chain(p.chain), Cell::of_code(p.layer_name), Cell::of_code(p.parameter)};
    row.push_back(Cell::of_count(static_cast<double>(p.overflow)).marked(p.overflow ? Mark::Bad : Mark::None));
    row.push_back(Cell::of_count(static_cast<double>(p.flushed)).marked(p.flushed ? Mark::Warn : Mark::None));
    row.push_back(Cell::of_count(static_cast<double>(p.subnormal)));
    row.push_back(real_or_missing(p.max_magnitude));
    row.push_back(real_or_missing(p.local_normwise_max));
    const double nonfinite = static_cast<double>(p.output_overflow + p.output_nan);
    row.push_back(Cell::of_count(nonfinite).marked(nonfinite > 0 ? Mark::Bad : Mark::None));
    t.rows.push_back(std::move(row));
  }
  t.notes = {"overflow: elements beyond the format's overflow threshold (now ±Inf, NaN or saturated); flushed: nonzero "
             "elements rounded to 0; subnormal: rounded below the smallest normal number; max abs: the exact parameter's "
             "largest magnitude; layer local ‖rel‖: the error that layer creates in the chain (its local ‖rel‖ max); "
             "inf/nan: its output elements that went non-finite."};
  return t;
}

}  // namespace fpaudit
