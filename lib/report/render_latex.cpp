// The LaTeX rendering: booktabs tables (summary, the task verdicts of outputs that are not
// output 0's classes, then one per chain) in a file to \input into a paper, with captions and
// labels (tab:fpaudit-MODEL-CHAIN) and the column definitions as comments.
#include <fmt/format.h>

#include "report/render.h"

namespace fpaudit {

std::string render_latex(const AuditDocument& doc) {
  std::string out = fmt::format("% fpaudit {}: audit of {} on {} samples of {} (reference: {}).\n", doc.fpaudit_version,
                                doc.model_path, doc.samples, doc.input_path, doc.reference);
  out += "% Tables for \\input{}: they need \\usepackage{booktabs} in the preamble. The per-layer tables are\n";
  out += "% wide: in a two-column paper use table* (or drop columns).\n";
  out += "% The layer that creates the most error in each chain is in bold.\n";
  for (const std::string& g : glossary()) out += "% " + g + "\n";
  // Outputs judged otherwise than as output 0's classes: how, and their verdict per chain.
  if (doc.task_verdicts())
    for (const std::string& line : task_lines(doc)) out += "% " + line + "\n";
  out += "\n";
  out += table_latex(summary_table(doc));
  for (std::size_t k = 0; k < doc.tasks.size() && doc.task_verdicts(); ++k) {
    if (k == 0 && doc.classifies()) continue;  // the summary table is its verdict
    out += "\n";
    out += table_latex(task_table(doc, k));
  }
  for (std::size_t c = 0; c < doc.chains.size(); ++c) {
    out += "\n";
    out += table_latex(layer_table(doc, c));
  }
  return out;
}

}  // namespace fpaudit
