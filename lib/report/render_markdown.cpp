// The Markdown report: what was audited, the summary table, the findings in sentences, and one
// per-layer table per chain, ready to paste into a README, an issue or a paper draft.
#include <cmath>
#include <string_view>

#include <fmt/format.h>

#include "report/number_text.h"
#include "report/render.h"

namespace fpaudit {

namespace {

std::string shape_text(const std::vector<long>& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

std::string code(const std::string& s) { return "`" + s + "`"; }

/// Plain text (a layer name in a sentence) with Markdown's special characters escaped.
std::string markdown_text(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (std::string_view("\\`*_[]<|").find(ch) != std::string_view::npos) out += '\\';
    out += ch;
  }
  return out;
}

}  // namespace

std::string render_markdown(const AuditDocument& doc) {
  std::string out = fmt::format("# fpaudit audit: {}\n\n", model_name(doc));
  out += "| | |\n|---|---|\n";
  out += fmt::format("| model | {} (opset {}, {}): {} {} → {} {} |\n", code(doc.model_path), doc.opset,
                     doc.producer.empty() ? "unknown producer" : doc.producer, code(doc.input_name), shape_text(doc.input_shape),
                     code(doc.output_name), shape_text(doc.output_shape));
  out += fmt::format("| data | {} samples of {}{} |\n", doc.samples, code(doc.input_path),
                     doc.has_labels() ? fmt::format(", labels {}", code(doc.labels_path)) : ", no labels");
  out += fmt::format("| reference | {}; probabilistic bounds with λ = {} |\n", doc.reference, compact_text(doc.lambda));
  out += fmt::format("| run | fpaudit {}", doc.fpaudit_version);
  if (std::isfinite(doc.seconds)) out += fmt::format(", {} threads, {:.1f} s", doc.threads, doc.seconds);
  out += " |\n\n## Summary\n\n";

  for (const std::string& line : task_lines(doc)) out += "- " + markdown_text(line) + "\n";
  if (!doc.tasks.empty()) out += "\n";
  Table verdict = verdict_table(doc);
  verdict.caption.clear();
  drop_empty_columns(verdict);
  out += table_markdown(verdict) + "\n";
  for (std::size_t k = 1; k < doc.tasks.size(); ++k) {
    Table t = task_table(doc, k);
    drop_empty_columns(t);
    out += table_markdown(t) + "\n";
  }
  if (doc.classifies()) {  // accuracy, flips and Γ > 2δ describe class scores only
    Table summary = summary_table(doc);
    summary.caption.clear();
    drop_empty_columns(summary);
    out += table_markdown(summary) + "\n";
  }
  if (!doc.compare.empty()) {
    out += "\n## Real runtimes (--compare)\n\n";
    Table c = compare_table(doc, false);
    c.caption.clear();
    out += table_markdown(c) + "\n" + table_markdown(compare_chains_table(doc)) + "\n";
    for (const std::string& note : c.notes) out += "- " + markdown_text(note) + "\n";
  }
  if (!doc.parameter_causes.empty()) {
    out += "\n## Parameters damaged by the storage formats\n\n";
    Table p = parameter_table(doc);
    p.caption.clear();
    out += table_markdown(p) + "\n";
  }
  for (const std::string& f : findings(doc)) {
    out += "- ";
    out += markdown_text(f);
    out += "\n";
  }

  out += "\n## Error per layer\n\nThe layer that creates the most error in each chain is in bold.\n";
  for (std::size_t c = 0; c < doc.chains.size(); ++c) {
    const ChainView& ch = doc.chains[c];
    out += fmt::format("\n### {}: {}\n\n", chain_label(ch.name), ch.arithmetic_text());
    Table t = layer_table(doc, c);
    t.caption.clear();
    drop_empty_columns(t);
    out += table_markdown(t);
  }
  out += "\n## Columns\n\n";
  for (const std::string& g : glossary()) out += "- " + g + "\n";
  return out;
}

}  // namespace fpaudit
