// The HTML report: one self-contained file (inline CSS, plots as inline SVG, no script, no font,
// no link to anything outside it), so it can be mailed, attached to an issue or archived.
// Reading order: what was audited; which predictions are safe; which layer creates error and how
// close the bounds come; where the dynamic range runs out.
#include <cmath>

#include <fmt/format.h>

#include "report/audit_report.h"  // kAuditJsonVersion
#include "report/number_text.h"
#include "report/render.h"
#include "report/report_plots.h"

namespace fpaudit {

namespace {

std::string esc(const std::string& s) {
  std::string out;
  for (char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += ch;
    }
  }
  return out;
}

const char* const kStyle = R"(
:root { --ink: #1d2329; --muted: #5b6670; --rule: #d5dbe0; --bad: #b42318; --warn: #9a6700; --ok: #1e6b35; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1340px; padding: 24px 28px 48px; color: var(--ink); background: #fff;
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 34px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--rule); }
h3 { font-size: 15px; margin: 26px 0 6px; }
code { font: 12.5px/1.3 ui-monospace, "DejaVu Sans Mono", monospace; }
.meta { border-collapse: collapse; margin: 10px 0 4px; }
.meta th { text-align: left; font-weight: 600; color: var(--muted); padding: 2px 16px 2px 0; vertical-align: top; }
.meta td { padding: 2px 0; }
div.wide { overflow-x: auto; max-width: 100%; }
table.data { border-collapse: collapse; margin: 6px 0 4px; font-variant-numeric: tabular-nums; }
table.data th, table.data td { padding: 3px 7px; border-bottom: 1px solid #eceff2; white-space: nowrap; }
table.data td code { display: inline-block; max-width: 34ch; overflow: hidden; text-overflow: ellipsis; vertical-align: bottom; }
table.data thead th { white-space: normal; }
details.module { margin: 0; border-bottom: 1px solid #eceff2; }
details.module > summary { cursor: pointer; padding: 3px 4px; }
details.module > summary:hover { background: #f5f8fa; }
details.module > summary .kind { color: var(--muted); }
details.module > div.wide { margin: 0 0 8px 18px; }
table.data thead th { font-weight: 600; font-size: 12.5px; color: var(--muted); border-bottom: 1px solid var(--rule);
                      vertical-align: bottom; }
table.data thead tr.groups th { text-align: center; border-bottom: 1px solid var(--rule); color: var(--ink); }
table.data td.num, table.data th.num { text-align: right; }
table.data tbody tr:hover { background: #f5f8fa; }
td.missing { color: #98a2ab; }
td.strong { font-weight: 700; }
td.warn { color: var(--warn); font-weight: 600; }
td.bad { color: var(--bad); font-weight: 700; }
ul.findings { padding-left: 20px; margin: 10px 0; }
ul.findings li { margin: 3px 0; }
.note { background: #fff7e6; border-left: 4px solid #e6a700; padding: 8px 12px; margin: 12px 0; }
figure { margin: 10px 0 18px; }
figure svg { max-width: 100%; height: auto; display: block; }
svg text { font-family: system-ui, "DejaVu Sans", sans-serif; }
figcaption { color: var(--muted); font-size: 13px; max-width: 860px; }
.chain { display: grid; grid-template-columns: minmax(0, 1fr); gap: 4px; }
p.missing { color: #98a2ab; font-style: italic; }
p.caption { color: var(--muted); margin: 2px 0 8px; }
ul.glossary { color: var(--muted); font-size: 13px; padding-left: 20px; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
)";

constexpr std::size_t kNameChars = 34;

std::string cell_html(const Cell& c, const Column& col) {
  std::string cls = col.numeric ? "num" : "";
  auto add = [&](const char* k) { cls += cls.empty() ? k : std::string(" ") + k; };
  if (c.kind == CellKind::Missing) add("missing");
  if (c.mark == Mark::Strong) add("strong");
  if (c.mark == Mark::Warn) add("warn");
  if (c.mark == Mark::Bad) add("bad");
  std::string attrs = cls.empty() ? "" : " class=\"" + cls + "\"";
  // Heat: the share of the chain's largest local error, as an orange wash (darker: more error).
  if (c.heat >= 0) attrs += fmt::format(" style=\"background: rgba(230, 110, 40, {:.2f})\"", 0.05 + 0.35 * c.heat);
  std::string text = esc(cell_text(c));
  // A long name keeps its tail, which says the most; the whole name is in the tooltip.
  if (c.kind == CellKind::Code) {
    std::string shown = c.text;
    if (shown.size() > kNameChars) shown = "…" + shown.substr(shown.size() - (kNameChars - 1));
    text = fmt::format("<code title=\"{}\">{}</code>", esc(c.text), esc(shown));
  } else if (c.kind == CellKind::Text && !c.shown.empty()) {
    text = fmt::format("<span title=\"{}\">{}</span>", esc(c.text), text);
  }
  return "<td" + attrs + ">" + text + "</td>";
}

std::string table_html(const Table& t) {
  // Wrapped so that a table wider than the page (long layer names) scrolls on its own.
  std::string out = t.label.empty() ? "<div class=\"wide\"><table class=\"data\">\n<thead>\n"
                                     : fmt::format("<div class=\"wide\"><table class=\"data\" id=\"{}\">\n<thead>\n", esc(t.label));
  bool grouped = false;
  for (const Column& c : t.columns) grouped = grouped || !c.group.empty();
  if (grouped) {
    out += "<tr class=\"groups\">";
    for (std::size_t i = 0; i < t.columns.size();) {
      std::size_t n = 1;
      while (i + n < t.columns.size() && t.columns[i + n].group == t.columns[i].group) ++n;
      out += fmt::format("<th colspan=\"{}\">{}</th>", n, esc(t.columns[i].group));
      i += n;
    }
    out += "</tr>\n";
  }
  out += "<tr>";
  for (const Column& c : t.columns) out += fmt::format("<th{}>{}</th>", c.numeric ? " class=\"num\"" : "", esc(c.title));
  out += "</tr>\n</thead>\n<tbody>\n";
  for (const auto& row : t.rows) {
    out += "<tr>";
    for (std::size_t i = 0; i < row.size(); ++i) out += cell_html(row[i], t.columns[i]);
    out += "</tr>\n";
  }
  out += "</tbody>\n</table></div>\n";
  for (const std::string& n : t.notes) out += fmt::format("<p class=\"caption\">{}</p>\n", esc(n));
  return out;
}

/// A chain's error tables. A model whose layers form modules gets one row per module, then each
/// module of several layers as a <details> that opens to its layers' rows (the same columns for
/// every module, so they read as one table); a model of single layers gets its layer table.
std::string chain_tables(const AuditDocument& doc, std::size_t c, const std::vector<Module>& modules) {
  Table layers = layer_table(doc, c);
  layers.caption.clear();
  drop_empty_columns(layers);
  if (modules.size() == doc.layers.size()) return table_html(layers);
  std::vector<std::size_t> all(modules.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  Table t = module_table(doc, c, modules, all, false);
  t.caption.clear();
  drop_empty_columns(t);
  std::string out = table_html(t);
  out += "<p class=\"caption\">Layers of each module:</p>\n";
  for (const Module& m : modules) {
    if (m.layers.size() < 2) continue;
    Table part = layers;
    part.label.clear();
    part.notes.clear();
    part.rows.clear();
    for (const int l : m.layers) part.rows.push_back(layers.rows[l]);
    out += fmt::format("<details class=\"module\"><summary><code title=\"{}\">{}</code> <span class=\"kind\">{}, {} layers</span></summary>\n",
                       esc(m.name), esc(m.name), esc(m.kind), m.layers.size());
    out += table_html(part) + "</details>\n";
  }
  return out;
}

std::string shape_text(const std::vector<long>& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

std::string header(const AuditDocument& doc) {
  std::string out = fmt::format("<h1>fpaudit audit: {}</h1>\n<table class=\"meta\">\n", esc(model_name(doc)));
  auto row = [&](const char* k, const std::string& v) { out += fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", k, v); };
  row("model", fmt::format("<code>{}</code> (opset {}, {}): <code>{}</code> {} → <code>{}</code> {}", esc(doc.model_path), doc.opset,
                           esc(doc.producer.empty() ? "unknown producer" : doc.producer), esc(doc.input_name),
                           shape_text(doc.input_shape), esc(doc.output_name), shape_text(doc.output_shape)));
  row("data", fmt::format("{} samples of <code>{}</code>{}", doc.samples, esc(doc.input_path),
                          doc.has_labels() ? fmt::format(", labels <code>{}</code>", esc(doc.labels_path)) : ", no labels"));
  std::string chains;
  for (const ChainView& c : doc.chains)
    chains += fmt::format("{}<b>{}</b> ({} storage, {} accumulation, {})", chains.empty() ? "" : "; ", esc(c.name), esc(c.storage),
                          esc(c.accumulator), esc(c.schedule));
  row("chains", chains);
  row("reference", fmt::format("{}; probabilistic bounds with λ = {}", esc(doc.reference), compact_text(doc.lambda)));
  std::string run = fmt::format("fpaudit {}", esc(doc.fpaudit_version));
  if (std::isfinite(doc.seconds)) run += fmt::format(", {} threads, {:.1f} s", doc.threads, doc.seconds);
  row("run", run);
  return out + "</table>\n";
}

std::string figure(const PlotBatch& batch, int index, const std::string& caption) {
  if (index < 0) return "";
  if (!batch.error.empty()) return "<p class=\"missing\">Plot missing (see the note above).</p>\n";
  return "<figure>\n" + batch.svgs[index] + "\n<figcaption>" + caption + "</figcaption>\n</figure>\n";
}

/// Per chain, the samples whose class is not certified, so a reader can look them up.
std::string uncertified_list(const AuditDocument& doc) {
  constexpr std::size_t kShown = 12;
  std::string items;
  for (std::size_t c = 0; c < doc.chains.size(); ++c) {
    std::vector<std::string> shown;
    long count = 0, flipped = 0;
    for (const SampleView& s : doc.records) {
      if (s.chains[c].certified) continue;
      ++count;
      const bool flip = s.chains[c].top1 != s.reference_top1;
      flipped += flip;
      if (shown.size() < kShown) shown.push_back(fmt::format("#{}{}", s.index, flip ? " (flipped)" : ""));
    }
    if (count == 0) continue;
    items += fmt::format("<li><b>{}</b>: {} {}, {} flipped: {}{}</li>\n", esc(chain_label(doc.chains[c].name)), count, count == 1 ? "sample" : "samples",
                         flipped, fmt::join(shown, ", "), count > static_cast<long>(shown.size()) ? ", …" : "");
  }
  if (items.empty()) return "<p>Every prediction of every chain is certified.</p>\n";
  return "<p>Samples not certified (Γ ≤ 2δ), by chain:</p>\n<ul class=\"findings\">\n" + items + "</ul>\n";
}

/// The first recorded violations of every layer and chain, for the reader who must find them.
std::string violations_section(const AuditDocument& doc) {
  std::string rows;
  for (const LayerView& layer : doc.layers)
    for (std::size_t c = 0; c < doc.chains.size(); ++c)
      for (const BoundView* b : {&layer.chains[c].local_bound, &layer.chains[c].propagated_bound})
        for (const ViolationView& v : b->first_violations)
          rows += fmt::format("<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
                              "<td class=\"num bad\">{}</td><td class=\"num\">{}</td></tr>\n",
                              esc(layer.name), esc(chain_label(doc.chains[c].name)), b == &layer.chains[c].local_bound ? "local" : "propagated",
                              v.sample, v.element, compact_text(v.observed), compact_text(v.bound));
  if (rows.empty()) return "";
  return "<h2 id=\"violations\">Bound violations</h2>\n<p>An observed error above its deterministic bound is a bug in fpaudit or "
         "an assumption that does not hold; the first ones recorded:</p>\n<table class=\"data\"><thead><tr><th>layer</th>"
         "<th>chain</th><th>kind</th><th class=\"num\">sample</th><th class=\"num\">element</th><th class=\"num\">observed</th>"
         "<th class=\"num\">bound</th></tr></thead>\n<tbody>\n" +
         rows + "</tbody></table>\n";
}

}  // namespace

std::string render_html(const AuditDocument& doc, const HtmlOptions& options) {
  const ReportPlots plots = plan_report_plots(doc);
  const PlotBatch batch = plots.requests.empty() ? PlotBatch{} : run_gnuplot(options.gnuplot, plots.requests);

  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += fmt::format("<title>fpaudit audit: {}</title>\n<style>{}</style>\n</head>\n<body>\n", esc(model_name(doc)), kStyle);
  out += header(doc);

  out += "<h2 id=\"summary\">Summary</h2>\n";
  Table verdict = verdict_table(doc);
  verdict.label = fmt::format("verdict-{}", model_name(doc));
  verdict.caption.clear();
  drop_empty_columns(verdict);
  for (const std::string& line : task_lines(doc)) out += fmt::format("<p class=\"task\">{}</p>\n", esc(line));
  out += table_html(verdict);
  for (std::size_t k = 1; k < doc.tasks.size(); ++k) {
    Table t = task_table(doc, k);
    drop_empty_columns(t);
    out += table_html(t);
  }
  if (doc.classifies()) {  // accuracy, flips and Γ > 2δ describe class scores only
    Table summary = summary_table(doc);
    drop_empty_columns(summary);
    out += table_html(summary);
  }
  if (!doc.parameter_causes.empty()) {
    out += "<h2 id=\"parameters\">Parameters damaged by the storage formats</h2>\n";
    Table p = parameter_table(doc);
    p.caption.clear();
    out += table_html(p);
  }
  out += "<ul class=\"findings\">\n";
  for (const std::string& f : findings(doc)) out += fmt::format("<li>{}</li>\n", esc(f));
  out += "</ul>\n";
  if (!batch.error.empty())
    out += fmt::format("<p class=\"note\" id=\"plots-missing\"><b>Plots are missing:</b> {}. The tables below are complete. "
                       "Install gnuplot (Debian: <code>gnuplot-nox</code>) and render again with "
                       "<code>fpaudit report audit.json --format html</code>.</p>\n",
                       esc(batch.error));

  if (doc.classifies()) {  // Γ against 2δ of the output read as one class vector: a classification's only
    out += "<h2 id=\"predictions\">Which predictions are safe</h2>\n";
    std::string margins = "Each point is one sample in one chain: the reference's margin Γ against twice the chain's logit drift δ. "
                          "In the shaded region below the diagonal Γ &gt; 2δ, and the chain provably predicts the reference's class. "
                          "Zero and non-finite values are drawn on the edges.";
    if (plots.margins_thinned)
      margins += fmt::format(" Every uncertified sample is drawn, and evenly spaced certified ones ({} per chain at most).",
                             plots.margin_points_per_chain);
    out += figure(batch, plots.margins, margins);
    out += uncertified_list(doc);
  }

  out += "<h2 id=\"layers\">Error per layer</h2>\n<p>Which layer creates error (local, shaded: darker is more) and which only "
         "carries it (propagated); the layer that creates the most is in bold. Observed/bound: how close each deterministic and "
         "probabilistic bound comes to the error it bounds.</p>\n";
  const std::vector<Module> modules = group_modules(doc.layers);
  if (modules.size() < doc.layers.size())
    out += fmt::format("<p>The {} layers form {} modules: {} Open a module to see its layers.</p>\n", doc.layers.size(), modules.size(),
                       esc(module_notes()[0]));
  for (std::size_t c = 0; c < doc.chains.size(); ++c) {
    const ChainView& ch = doc.chains[c];
    out += fmt::format("<section class=\"chain\" id=\"chain-{}\">\n<h3>{}: {}</h3>\n", c, esc(chain_label(ch.name)), esc(ch.arithmetic_text()));
    out += chain_tables(doc, c, modules);
    out += figure(batch, plots.bounds[c],
                  fmt::format("{}: the largest observed error over its bound, per layer (log scale). Points under the dashed line "
                              "are within the bound; layers without a point have no bound or no error.",
                              esc(chain_label(ch.name))));
    out += "</section>\n";
  }

  out += "<h2 id=\"range\">Dynamic range: headroom and overflow</h2>\n";
  std::string range = "Binades between the largest value each layer produced and the storage format's largest finite number; "
                      "at 0 the next doubling overflows. Red points count elements that went infinite or NaN.";
  if (!plots.wide_range_chains.empty())
    range += fmt::format(" Not drawn, with at least {:g} binades of headroom everywhere: {}.", kHeadroomPlotLimit,
                         esc(fmt::format("{}", fmt::join(plots.wide_range_chains, ", "))));
  if (plots.headroom >= 0) out += figure(batch, plots.headroom, range);
  else out += "<p>" + range + "</p>\n";

  out += violations_section(doc);
  out += "<h2 id=\"columns\">Columns</h2>\n<ul class=\"glossary\">\n";
  for (const std::string& g : glossary()) out += fmt::format("<li>{}</li>\n", esc(g));
  out += "</ul>\n";
  out += fmt::format("<footer>fpaudit {} · audit JSON schema {} version {}</footer>\n</body>\n</html>\n", esc(doc.fpaudit_version),
                     kAuditSchema, kAuditJsonVersion);
  return out;
}

}  // namespace fpaudit
