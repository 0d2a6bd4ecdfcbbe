// Every rendering of two fixed audits against its golden file: the shipped MLP on 60 samples
// (labels, an fp32 chain, one uncertified bf16 sample) and a 3-layer model built to break
// things (tests/report/data/README.md): overflow to Inf in fp16, no labels, no fp32 chain,
// LaTeX specials in layer names, a hand-inserted bound violation, and classification fields of
// a newer audit. The HTML goldens are rendered without gnuplot, so no gnuplot version enters;
// the plots' scripts and data have goldens of their own.
#include <doctest/doctest.h>

#include "golden.h"
#include "report/render.h"
#include "report/report_plots.h"

using namespace fpaudit;
using fpaudit::test::check_golden;
using fpaudit::test::data_file;

namespace {

const char* const kFixtures[] = {"mlp_60", "edge_6"};

AuditDocument fixture(const std::string& name) { return read_audit_document(data_file(name + ".json")); }

/// The plots' gnuplot script followed by each data file, as one text.
std::string plot_inputs(const AuditDocument& doc) {
  const ReportPlots plots = plan_report_plots(doc);
  std::string out = "=== plots.gp\n" + gnuplot_script(plots.requests);
  for (const PlotRequest& r : plots.requests)
    for (const auto& [name, content] : r.data) out += "=== " + name + "\n" + content;
  return out;
}

/// Removes ANSI colour codes (ESC [ ... m).
std::string strip_ansi(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\033') {
      while (i < s.size() && s[i] != 'm') ++i;
      continue;
    }
    out += s[i];
  }
  return out;
}

/// Display width of the widest line (UTF-8 code points).
std::size_t widest_line(const std::string& text) {
  std::size_t widest = 0, width = 0;
  for (unsigned char ch : text) {
    if (ch == '\n') width = 0;
    else if ((ch & 0xC0) != 0x80) widest = std::max(widest, ++width);
  }
  return widest;
}

}  // namespace

TEST_CASE("golden renderings of each fixture") {
  for (const char* name : kFixtures) {
    CAPTURE(name);
    const AuditDocument doc = fixture(name);
    const std::string n = name;
    check_golden(n + ".table.txt", render_terminal(doc, false, true));  // --per-layer: the tables as before
    check_golden(n + ".verdict.txt", render_terminal(doc, false));      // the default
    check_golden(n + ".layers.csv", render_layers_csv(doc));
    check_golden(n + ".samples.csv", render_samples_csv(doc));
    check_golden(n + ".md", render_markdown(doc));
    check_golden(n + ".tex", render_latex(doc));
    check_golden(n + ".html", render_html(doc, HtmlOptions{"/nonexistent/gnuplot"}));
    check_golden(n + ".plots.txt", plot_inputs(doc));
  }
}

TEST_CASE("golden comparison tables of both fixtures") {
  const std::vector<AuditDocument> docs = {fixture("mlp_60"), fixture("edge_6")};
  check_golden("comparison.md", table_markdown(comparison_table(docs, false)));
  check_golden("comparison.tex", table_latex(comparison_table(docs, false)));
  check_golden("comparison.csv", table_csv(comparison_table(docs, true)));
}

TEST_CASE("the terminal table fits 100 columns, and colour only adds codes") {
  for (const char* name : kFixtures) {
    CAPTURE(name);
    const AuditDocument doc = fixture(name);
    for (const bool per_layer : {false, true}) {
      CAPTURE(per_layer);
      const std::string plain = render_terminal(doc, false, per_layer), coloured = render_terminal(doc, true, per_layer);
      CHECK(widest_line(plain) <= 100);
      CHECK(plain.find('\033') == std::string::npos);
      CHECK(coloured.find("\033[1m") != std::string::npos);  // chain titles in bold
      CHECK(strip_ansi(coloured) == plain);
    }
  }
  // The edge fixture's overflow and violation are red; its uncertified fp16 share is yellow.
  const std::string edge = render_terminal(fixture("edge_6"), true, true);
  CHECK(edge.find("\033[31m      1\033[0m") != std::string::npos);
  CHECK(edge.find("\033[31m     1.04\033[0m") != std::string::npos);
  CHECK(edge.find("\033[33m83.3%\033[0m") != std::string::npos);
  // The same in the verdict: the violated bound and the non-finite samples red, the share yellow.
  const std::string verdict = render_terminal(fixture("edge_6"), true);
  CHECK(verdict.find("\033[31mVIOLATED: 1\033[0m") != std::string::npos);
  CHECK(verdict.find("\033[33m    83.3%\033[0m") != std::string::npos);  // padded to the title "certified"
}

TEST_CASE("the margin plot thins large runs but keeps every uncertified sample") {
  AuditDocument doc = fixture("mlp_60");
  const SampleView first = doc.records[0];
  doc.records.clear();
  for (long i = 0; i < 5000; ++i) {
    SampleView s = first;
    s.index = i;
    for (SampleChainView& v : s.chains) v.certified = i % 1000 != 7;  // 5 uncertified per chain
    doc.records.push_back(s);
  }
  const ReportPlots plots = plan_report_plots(doc);
  CHECK(plots.margins_thinned);
  // 5000 samples at stride 3: 1667 evenly spaced, plus the 5 uncertified ones off the stride
  // (i % 1000 == 7 and i % 3 != 0: 7, 1007, 2007, 3007 and 4007 all qualify except 2007).
  CHECK(plots.margin_points_per_chain == 1667 + 4);
}
