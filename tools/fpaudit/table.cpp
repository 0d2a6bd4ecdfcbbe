// fpaudit table RUN.json... [--format md|tex|csv] [--out FILE]: several audits (models × chains)
// merged into one comparison table, the kind a paper's results section shows.
#include <cstdio>
#include <memory>

#include "common/atomic_file.h"
#include "fpaudit/commands.h"
#include "fpaudit/output_set.h"
#include "report/render.h"
#include "train/train_report.h"

namespace fpaudit::cli {

namespace {

struct TableCommandOptions {
  std::vector<std::string> runs;
  std::string format = "md";
  std::string out;
};

int run_table_command(const TableCommandOptions& opt) {
  if (!opt.out.empty()) check_output_file(opt.out);
  std::vector<AuditDocument> docs;
  std::vector<nlohmann::json> training;  // train-step runs get a table of their own
  for (const std::string& run : opt.runs) {
    if (const auto j = train::read_train_json(run)) training.push_back(*j);
    else docs.push_back(read_audit_document(run));
  }
  auto render = [&](const Table& t) { return opt.format == "tex" ? table_latex(t) : opt.format == "csv" ? table_csv(t) : table_markdown(t); };
  // CSV rows stand alone (each names its model); Markdown and LaTeX name a model once per group.
  std::string text = docs.empty() ? "" : render(comparison_table(docs, opt.format == "csv"));
  if (!training.empty()) text += (text.empty() ? "" : "\n") + render(train::train_comparison_table(training));
  if (opt.out.empty()) std::fputs(text.c_str(), stdout);
  else {
    write_file_atomic(opt.out, text);
    std::printf("wrote %s\n", opt.out.c_str());
  }
  return 0;
}

}  // namespace

void set_table_command(CLI::App& app, int& status) {
  auto opt = std::make_shared<TableCommandOptions>();
  CLI::App* sub = app.add_subcommand("table", "Merge several saved audits into one comparison table (models x chains)");
  sub->add_option("runs", opt->runs, "Audit JSON files written by fpaudit audit (or fpaudit train-step --json)")->required();
  sub->add_option("--format", opt->format, "md, tex or csv")->check(CLI::IsMember({"md", "tex", "csv"}))->capture_default_str();
  sub->add_option("--out", opt->out, "Write the table to this file (default: stdout)");
  sub->callback([opt, &status] { status = run_table_command(*opt); });
}

}  // namespace fpaudit::cli
