// train-step's tables and the text formats built from them.
#include "train/train_report.h"

#include <cmath>

#include <fmt/format.h>

namespace fpaudit::train {

namespace {

double share(long part, long whole) { return whole > 0 ? static_cast<double>(part) / static_cast<double>(whole) : 0.0; }
std::string power(int e) { return fmt::format("2^{}", e); }
std::string range_text(const ScaleRange& r) { return r.empty() ? "none" : fmt::format("2^{} .. 2^{}", r.low, r.high); }

struct Totals {
  long nonzero = 0, flushed = 0, subnormal = 0, overflow = 0;
  SumCheck sums;
  long bounded = 0, within = 0;  ///< gradients with a Theorem 4 bound, and those within it
};

Totals totals(const ChainTrainResult& c) {
  Totals t;
  for (std::size_t i = 0; i < c.gradients.size(); ++i) {
    const GradientStats& g = c.gradients[i];
    t.nonzero += g.exact_nonzero, t.flushed += g.flushed, t.subnormal += g.subnormal, t.overflow += g.overflow;
    t.sums.merge(g.sums);
    if (std::isfinite(g.backward_bound)) {
      ++t.bounded;
      if (g.backward_error <= g.backward_bound) ++t.within;
    }
  }
  return t;
}

Cell ratio_cell(double v) { return std::isfinite(v) ? Cell::of_real(v) : Cell::missing(std::isnan(v) ? "NaN" : "∞"); }

/// v / ‖g̃‖ (a normwise relative value); "none" where v is NaN (no bound), v itself where g̃ = 0.
Cell relative(double v, double reference) {
  if (std::isnan(v)) return Cell::missing("none");
  return ratio_cell(reference > 0 ? v / reference : v);
}

/// (L_chain,0 − L_chain,T) / (L_ref,0 − L_ref,T): 1 when the chain's loss falls as the reference's.
double loss_progress(const std::vector<double>& chain, const std::vector<double>& ref) {
  const double dr = ref.front() - ref.back();
  return dr != 0 ? (chain.front() - chain.back()) / dr : NAN;
}

}  // namespace

Table train_summary_table(const TrainResult& r) {
  Table t;
  t.caption = fmt::format("Training step: {} samples, {} loss, {} (lr {}), {} step{}", r.samples, loss_name(r.options.loss),
                          optimizer_name(r.options.optimizer.kind), r.options.optimizer.lr, r.options.steps, r.options.steps == 1 ? "" : "s");
  t.label = "tab:train-summary";
  t.columns = {Column("chain", {}, {}, false), Column("loss scale"), Column("flushed or subnormal"), Column("overflow"),
               Column("sums within bound"), Column("max err/bound"), Column("backward within bound"),
               Column("recommended scale", {}, {}, false),
               Column("lost updates", {}, "step 1"), Column("lost, fp32 master", {}, "step 1"), Column("loss progress")};
  for (const ChainTrainResult& c : r.chains) {
    const Totals s = totals(c);
    UpdateCounts pure, master;
    for (const UpdateCounts& u : c.update_pure) pure.merge(u);
    for (const UpdateCounts& u : c.update_master) master.merge(u);
    Cell within = Cell::of_text(fmt::format("{}/{}", s.sums.checked - s.sums.violations, s.sums.checked));
    if (s.sums.violations) within.marked(Mark::Bad);
    Cell composed = s.bounded ? Cell::of_text(fmt::format("{}/{}", s.within, s.bounded)) : Cell::missing("none");
    if (s.within < s.bounded) composed.marked(Mark::Bad);
    Cell flushed = Cell::of_percent(share(s.flushed + s.subnormal, s.nonzero), 2);
    if (s.flushed + s.subnormal) flushed.marked(Mark::Warn);
    Cell overflow = Cell::of_percent(share(s.overflow, s.nonzero), 2);
    if (s.overflow) overflow.marked(Mark::Bad);
    t.rows.push_back({Cell::of_code(c.chain), Cell::of_real(c.scale), flushed, overflow, within, ratio_cell(s.sums.max_ratio), composed,
                      Cell::of_text(power(c.scales.recommended)), Cell::of_percent(share(pure.lost, pure.moved), 2),
                      Cell::of_percent(share(master.lost, master.moved), 2), ratio_cell(loss_progress(c.loss, r.reference_loss))});
  }
  t.notes = {"flushed or subnormal: share of the gradient elements (every tensor) whose exact value is not 0 and that the chain stores as 0 or as a subnormal, at the loss scale",
             "sums within bound: backward sums whose error against the exact sum of the same operands lies within the bound of theory/training-step.md",
             "backward within bound: gradient tensors whose backward-pass error ‖ĝ − g̃‖₂ (g̃: the exact backward pass of the chain's own activations) lies within the bound composed from the layers' local bounds (Theorem 4), of those the bound reaches",
             "lost updates: share of the weights with a non-zero gradient that the step leaves unchanged (w + Δw == w), in the storage format and with fp32 master weights",
             "loss progress: the chain's loss decrease over the steps divided by the reference's (1: as the exact run)"};
  return t;
}

Table train_gradient_table(const TrainResult& r, std::size_t ci) {
  const ChainTrainResult& c = r.chains[ci];
  Table t;
  t.caption = fmt::format("Gradients of chain {} at loss scale {} against the exact gradients", c.chain, c.scale);
  t.label = fmt::format("tab:train-gradients-{}", ci);
  t.columns = {Column("gradient of", {}, {}, false), Column("layer", {}, {}, false), Column("elements"), Column("normwise", {}, "error"),
               Column("cosine", {}, "error"), Column("max abs", {}, "error"), Column("flushed", {}, "share"),
               Column("subnormal", {}, "share"), Column("overflow", {}, "share"), Column("sums"), Column("violations"),
               Column("max err/bound"), Column("error", {}, "backward, normwise"), Column("bound", {}, "backward, normwise")};
  for (const GradientStats& g : c.gradients) {
    Cell v = Cell::of_count(static_cast<double>(g.sums.violations));
    if (g.sums.violations) v.marked(Mark::Bad);
    Cell fl = Cell::of_percent(share(g.flushed, g.exact_nonzero), 2);
    if (g.flushed) fl.marked(Mark::Warn);
    t.rows.push_back({Cell::of_code(g.name), Cell::of_code(g.layer), Cell::of_count(static_cast<double>(g.elements)), ratio_cell(g.normwise),
                      std::isfinite(g.cosine) ? Cell::of_fixed(g.cosine, 6) : Cell::missing("NaN"), ratio_cell(g.max_abs_error), fl,
                      Cell::of_percent(share(g.subnormal, g.exact_nonzero), 2), Cell::of_percent(share(g.overflow, g.elements), 2),
                      g.sums.checked ? Cell::of_count(static_cast<double>(g.sums.checked)) : Cell::missing("exact"), v,
                      g.sums.checked ? ratio_cell(g.sums.max_ratio) : Cell::missing(), relative(g.backward_error, g.backward_reference),
                      relative(g.backward_bound, g.backward_reference)});
  }
  return t;
}

Table train_scale_table(const TrainResult& r) {
  Table t;
  t.caption = "Loss scales S = 2^e: every scaled exact gradient normal and finite, not flushed to 0, and what the recommended one gives";
  t.label = "tab:train-scales";
  t.columns = {Column("chain", {}, {}, false), Column("storage", {}, {}, false), Column("min |g|"), Column("max |g|"),
               Column("all normal", {}, {}, false), Column("no flush", {}, {}, false), Column("dynamic settles", {}, {}, false),
               Column("recommended", {}, {}, false), Column("flushed", {}, "observed at recommended"),
               Column("subnormal", {}, "observed at recommended"), Column("overflow", {}, "observed at recommended")};
  for (const ChainTrainResult& c : r.chains) {
    const LossScaleAnalysis& s = c.scales;
    Cell fl = Cell::of_percent(share(s.flushed, s.checked), 3);
    if (s.flushed) fl.marked(Mark::Warn);
    Cell ov = Cell::of_percent(share(s.overflow, s.checked), 3);
    if (s.overflow) ov.marked(Mark::Bad);
    t.rows.push_back({Cell::of_code(c.chain), Cell::of_text(c.storage), Cell::of_real(s.exact_min), Cell::of_real(s.exact_max),
                      Cell::of_text(range_text(s.all_normal)), Cell::of_text(range_text(s.no_flush)), Cell::of_text(power(s.no_overflow_max)),
                      Cell::of_text(power(s.recommended)).marked(Mark::Strong), fl, Cell::of_percent(share(s.subnormal, s.checked), 3), ov});
  }
  t.notes = {"dynamic settles: the largest power of two at which no scaled exact gradient overflows; dynamic loss scaling (halve on overflow, double after a quiet interval) hovers there"};
  return t;
}

Table train_update_table(const TrainResult& r) {
  Table t;
  t.caption = fmt::format("Step 1 of {}: updates lost (w + Δw == w) in the storage format and with fp32 master weights", optimizer_name(r.options.optimizer.kind));
  t.label = "tab:train-updates";
  t.columns = {Column("chain", {}, {}, false), Column("parameter", {}, {}, false), Column("elements"), Column("lost", {}, "storage format"),
               Column("non-finite", {}, "storage format"), Column("v = 0", {}, "storage format"), Column("lost", {}, "fp32 master"),
               Column("non-finite", {}, "fp32 master")};
  for (const ChainTrainResult& c : r.chains) {
    if (!t.rows.empty()) t.rules.push_back(t.rows.size());
    for (std::size_t k = 0; k < c.update_pure.size(); ++k) {
      const UpdateCounts &p = c.update_pure[k], &m = c.update_master[k];
      Cell nf = Cell::of_count(static_cast<double>(p.nonfinite));
      if (p.nonfinite) nf.marked(Mark::Bad);
      t.rows.push_back({Cell::of_code(c.chain), Cell::of_code(r.parameters[k]), Cell::of_count(static_cast<double>(p.elements)),
                        Cell::of_percent(share(p.lost, p.moved), 2), nf, Cell::of_percent(share(p.second_moment_zero, p.moved), 2),
                        Cell::of_percent(share(m.lost, m.moved), 2), Cell::of_count(static_cast<double>(m.nonfinite))});
    }
  }
  t.notes = {"v = 0: Adam's second moment stored as 0 although its binary64 value is not (then √v̂ + ε is 0 where ε is, and the update is Inf or NaN)"};
  return t;
}

Table train_trajectory_table(const TrainResult& r) {
  Table t;
  t.caption = fmt::format("Loss before each step, and weight drift ‖w − w_ref‖ / ‖w_ref − w_0‖ after it ({} weights)",
                          r.options.master_weights ? "fp32 master" : "storage-format");
  t.label = "tab:train-trajectory";
  t.columns = {Column("step"), Column("reference", {}, "loss")};
  for (const ChainTrainResult& c : r.chains) t.columns.emplace_back(c.chain, "", "loss");
  for (const ChainTrainResult& c : r.chains) t.columns.emplace_back(c.chain, "", "drift");
  for (std::size_t s = 0; s < r.reference_loss.size(); ++s) {
    std::vector<Cell> row{Cell::of_count(static_cast<double>(s + 1)), Cell::of_real(r.reference_loss[s])};
    for (const ChainTrainResult& c : r.chains) row.push_back(ratio_cell(c.loss[s]));
    for (const ChainTrainResult& c : r.chains) row.push_back(s < c.drift.size() ? ratio_cell(c.drift[s]) : Cell::missing());
    t.rows.push_back(std::move(row));
  }
  t.notes = {"the last row's loss is the loss after the last step"};
  return t;
}

std::string train_terminal(const TrainResult& r, const TrainReportSource& s, bool per_tensor) {
  std::string out = fmt::format("fpaudit train-step of {} on {} samples of {} ({} threads, {:.1f} s)\n\n", s.model, r.samples, s.input, r.threads, r.seconds);
  auto section = [&](const Table& t) { out += t.caption + "\n" + table_terminal(t, false, 28) + "\n"; };
  section(train_summary_table(r));
  section(train_scale_table(r));
  if (per_tensor)
    for (std::size_t c = 0; c < r.chains.size(); ++c) section(train_gradient_table(r, c));
  section(train_update_table(r));
  if (r.options.steps > 1) section(train_trajectory_table(r));
  return out;
}

namespace {
std::vector<Table> all_tables(const TrainResult& r) {
  std::vector<Table> ts{train_summary_table(r), train_scale_table(r)};
  for (std::size_t c = 0; c < r.chains.size(); ++c) ts.push_back(train_gradient_table(r, c));
  ts.push_back(train_update_table(r));
  ts.push_back(train_trajectory_table(r));
  return ts;
}
}  // namespace

std::string train_markdown(const TrainResult& r, const TrainReportSource& s) {
  std::string out = fmt::format("# fpaudit train-step: {}\n\n{} samples of `{}`, fpaudit {}\n\n", s.model, r.samples, s.input, s.version);
  for (const Table& t : all_tables(r)) {
    out += "## " + t.caption + "\n\n" + table_markdown(t) + "\n";
    for (const std::string& n : t.notes) out += "- " + n + "\n";
    out += "\n";
  }
  return out;
}

std::string train_latex(const TrainResult& r, const TrainReportSource& s) {
  std::string out = fmt::format("% fpaudit {} train-step of {} on {} samples; needs \\usepackage{{booktabs}}\n", s.version, latex_escape(s.model), r.samples);
  for (const Table& t : all_tables(r)) out += table_latex(t) + "\n";
  return out;
}

std::string train_csv(const TrainResult& r) {
  Table all;
  for (std::size_t c = 0; c < r.chains.size(); ++c) {
    Table t = train_gradient_table(r, c);
    if (all.columns.empty()) {
      all.columns = t.columns;
      all.columns.insert(all.columns.begin(), Column("chain", {}, {}, false));
    }
    for (auto& row : t.rows) {
      row.insert(row.begin(), Cell::of_code(r.chains[c].chain));
      all.rows.push_back(std::move(row));
    }
  }
  return table_csv(all);
}

}  // namespace fpaudit::train
