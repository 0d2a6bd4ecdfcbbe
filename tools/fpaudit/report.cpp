// fpaudit report RUN.json [--format md|tex|html|table|csv] [--out DIR]: renders a saved audit,
// exactly as `fpaudit audit --format` renders a fresh one. One format without --out goes to
// stdout; with --out every format is written there (the table still to stdout).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>

#include "fpaudit/commands.h"
#include "fpaudit/output_set.h"
#include "fpaudit/report_output.h"
#include "report/audit_document.h"

namespace fpaudit::cli {

namespace {

struct ReportCommandOptions {
  std::string run;
  std::vector<std::string> formats = {"table"};
  std::string out;
  std::string gnuplot;
  bool per_layer = false;
};

int run_report_command(const ReportCommandOptions& opt) {
  if (opt.out.empty() && opt.formats.size() > 1)
    throw std::invalid_argument("several formats need --out DIR (one format without --out goes to stdout)");
  const AuditDocument doc = read_audit_document(opt.run);
  if (opt.out.empty()) {
    std::fputs(render_report(doc, opt.formats.at(0), opt.gnuplot, isatty(1) != 0, opt.per_layer).c_str(), stdout);
    return 0;
  }
  const std::vector<std::string> files = report_set_names(opt.formats, !doc.compare.empty());
  const bool table = std::find(opt.formats.begin(), opt.formats.end(), "table") != opt.formats.end();
  if (table) std::fputs(render_report(doc, "table", opt.gnuplot, isatty(1) != 0, opt.per_layer).c_str(), stdout);
  if (files.empty()) return 0;
  // Files rendered from the audit a folder's set came from join that set; others replace it.
  std::ifstream in(opt.run, std::ios::binary);
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  OutputSet set(opt.out, files);
  write_report_files(doc, nullptr, opt.formats, set.staging(), opt.gnuplot);
  set.commit(run_id_of(text));
  fmt::print("{}wrote {}\n", table ? "\n" : "", set.summary());
  return 0;
}

}  // namespace

void set_report_command(CLI::App& app, int& status) {
  auto opt = std::make_shared<ReportCommandOptions>();
  CLI::App* sub = app.add_subcommand("report", "Render a saved audit (audit.json) as a table, CSV, Markdown, LaTeX or HTML");
  sub->add_option("run", opt->run, "The audit JSON written by fpaudit audit")->required();
  sub->add_option("--format", opt->formats, "table, csv, md, tex, html (comma-separated; several need --out)")
      ->delimiter(',')
      ->check(CLI::IsMember({"table", "csv", "md", "tex", "html"}))
      ->capture_default_str();
  sub->add_option("--out", opt->out, "Folder for layers.csv, samples.csv, audit.md, audit.tex, audit.html (default: stdout)");
  add_gnuplot_option(sub, opt->gnuplot);
  sub->add_flag("--per-layer", opt->per_layer, "Table: every layer's errors and bounds instead of the verdict and top modules");
  sub->callback([opt, &status] { status = run_report_command(*opt); });
}

}  // namespace fpaudit::cli
