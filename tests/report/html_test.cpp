// The HTML report stands alone: nothing in it reaches outside the file (with and without
// plots); without gnuplot it keeps every table and says why the plots are missing; with gnuplot
// every plot is inlined with ids of its own.
#include <regex>

#include <doctest/doctest.h>

#include "golden.h"
#include "report/gnuplot.h"
#include "report/render.h"
#include "report/report_plots.h"

using namespace fpaudit;
using fpaudit::test::data_file;

namespace {

/// Every way an HTML page can load something from elsewhere, as (what, where) pairs.
std::vector<std::string> external_references(const std::string& html) {
  std::vector<std::string> found;
  for (const char* s : {"http:", "https:", "//", "@import", "<link", "<script", "<iframe", "<object", "<embed"})
    if (html.find(s) != std::string::npos) found.push_back(s);
  // src= and href= may only point inside the page (#id) or hold inline data.
  const std::regex attr(R"((src|href)\s*=\s*["']?([^"'\s>]*))", std::regex::icase);
  for (auto it = std::sregex_iterator(html.begin(), html.end(), attr); it != std::sregex_iterator(); ++it) {
    const std::string target = (*it)[2];
    if (target.rfind('#', 0) != 0 && target.rfind("data:", 0) != 0) found.push_back((*it)[0]);
  }
  const std::regex url(R"(url\(\s*["']?([^"')]*))", std::regex::icase);
  for (auto it = std::sregex_iterator(html.begin(), html.end(), url); it != std::sregex_iterator(); ++it) {
    const std::string target = (*it)[1];
    if (target.rfind('#', 0) != 0 && target.rfind("data:", 0) != 0) found.push_back((*it)[0]);
  }
  return found;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

/// Whether a gnuplot on PATH draws SVG (the plot tests need one; CI installs gnuplot-nox).
bool have_gnuplot() {
  PlotRequest probe;
  probe.name = "probe";
  probe.script = "plot x\n";
  return run_gnuplot("gnuplot", {probe}).error.empty();
}

}  // namespace

TEST_CASE("gnuplot's SVG made fit for inlining") {
  const std::string svg =
      "<?xml version=\"1.0\" encoding=\"utf-8\"  standalone=\"no\"?>\n<svg \n width=\"400\" height=\"300\"\n"
      " viewBox=\"0 0 400 300\"\n xmlns=\"http://www.w3.org/2000/svg\"\n xmlns:xlink=\"http://www.w3.org/1999/xlink\"\n>\n\n"
      "<title>Gnuplot</title>\n<desc>Produced by GNUPLOT 5.4 patchlevel 4 </desc>\n\n<g id=\"gnuplot_canvas\">\n"
      "<defs><circle id='gpDot' r='0.5'/></defs>\n<use xlink:href='#gpDot' x='1' clip-path=\"url(#gpClip)\"/>\n</g>\n</svg>\n";
  CHECK(inline_svg(svg, "margins-") ==
        "<svg \n width=\"400\" height=\"300\"\n viewBox=\"0 0 400 300\"\n>\n\n\n\n\n<g id=\"margins-gnuplot_canvas\">\n"
        "<defs><circle id='margins-gpDot' r='0.5'/></defs>\n<use href='#margins-gpDot' x='1' clip-path=\"url(#margins-gpClip)\"/>\n"
        "</g>\n</svg>\n");
}

TEST_CASE("without gnuplot the page keeps its tables and says why the plots are missing") {
  for (const char* name : {"mlp_60.json", "edge_6.json"}) {
    CAPTURE(name);
    const AuditDocument doc = read_audit_document(data_file(name));
    const std::string html = render_html(doc, HtmlOptions{"/nonexistent/gnuplot"});
    CHECK(html.find("<svg") == std::string::npos);
    CHECK(html.find("<p class=\"note\" id=\"plots-missing\"><b>Plots are missing:</b> gnuplot not found at "
                    "&#39;/nonexistent/gnuplot&#39; (No such file or directory).") != std::string::npos);
    CHECK(html.find("id=\"tab:fpaudit-" + model_name(doc) + "-summary\"") != std::string::npos);
    for (const ChainView& c : doc.chains)
      CHECK(html.find("<table class=\"data\" id=\"tab:fpaudit-" + model_name(doc) + "-" + c.name + "\">") != std::string::npos);
    CHECK(external_references(html).empty());
  }
}

TEST_CASE("a gnuplot that fails is reported with its message") {
  const AuditDocument doc = read_audit_document(data_file("edge_6.json"));
  const std::string html = render_html(doc, HtmlOptions{"false"});  // exits 1 without a word
  CHECK(html.find("<b>Plots are missing:</b> gnuplot (&#39;false&#39;) failed with status 1.") != std::string::npos);
}

TEST_CASE("with gnuplot every plot is inlined, with ids of its own and nothing external") {
  if (!have_gnuplot()) {
    MESSAGE("gnuplot not found on PATH: plot rendering not checked (scripts and data still are, by golden files)");
    return;
  }
  for (const char* name : {"mlp_60.json", "edge_6.json"}) {
    CAPTURE(name);
    const AuditDocument doc = read_audit_document(data_file(name));
    const ReportPlots plots = plan_report_plots(doc);
    const std::string html = render_html(doc, HtmlOptions{"gnuplot"});
    CHECK(count(html, "<svg") == plots.requests.size());
    CHECK(html.find("plots-missing") == std::string::npos);
    CHECK(html.find("xmlns") == std::string::npos);
    CHECK(html.find("xlink:") == std::string::npos);
    for (const PlotRequest& r : plots.requests) CHECK(html.find("id=\"" + r.name + "-gnuplot_canvas\"") != std::string::npos);
    const std::vector<std::string> external = external_references(html);
    CHECK_MESSAGE(external.empty(), "external reference: ", external.empty() ? "" : external[0]);
  }
}

TEST_CASE("the plots: margins, one per chain with a bound, and headroom for chains near their range") {
  const ReportPlots mlp = plan_report_plots(read_audit_document(data_file("mlp_60.json")));
  CHECK(mlp.margins == 0);
  CHECK(mlp.bounds == std::vector<int>{1, 2, 3, 4, 5});
  CHECK(mlp.headroom == 6);
  CHECK(mlp.wide_range_chains == std::vector<std::string>{"fp32", "bf16", "bf16-acc32"});
  CHECK_FALSE(mlp.margins_thinned);
  CHECK(mlp.margin_points_per_chain == 60);
}
