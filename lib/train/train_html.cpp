// train-step's HTML report: the tables, and per gradient tensor an inline SVG histogram of its
// exact magnitudes times the loss scale, over the ranges of binary16 where a value flushes to 0,
// turns subnormal, stays normal or overflows. No external resource, no gnuplot.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "train/train_report.h"

namespace fpaudit::train {

namespace {

std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '&') o += "&amp;";
    else if (c == '"') o += "&quot;";
    else o += c;
  }
  return o;
}

std::string html_table(const Table& t) {
  std::string o = fmt::format("<table id=\"{}\"><caption>{}</caption><tr>", esc(t.label), esc(t.caption));
  for (const Column& c : t.columns) o += "<th>" + esc(c.group.empty() ? c.title : c.group + " " + c.title) + "</th>";
  o += "</tr>\n";
  for (const auto& row : t.rows) {
    o += "<tr>";
    for (const Cell& c : row) {
      const char* cls = c.mark == Mark::Bad ? " class=\"bad\"" : c.mark == Mark::Warn ? " class=\"warn\"" : c.mark == Mark::Strong ? " class=\"strong\"" : "";
      o += fmt::format("<td{}>{}</td>", cls, esc(cell_text(c)));
    }
    o += "</tr>\n";
  }
  o += "</table>\n";
  for (const std::string& n : t.notes) o += "<p class=\"note\">" + esc(n) + "</p>\n";
  return o;
}

/// log2 of the loss scale, for shifting the binned magnitudes (scales are powers of two here;
/// another scale shifts by its rounded logarithm).
int scale_shift(double scale) { return static_cast<int>(std::lround(std::log2(scale))); }

/// One histogram: bars per power of two of S·|ḡ|, bands for binary16's ranges.
std::string histogram_svg(const GradientStats& g, int shift) {
  constexpr int lo = -40, hi = 20;  // the plotted binades 2^lo .. 2^hi
  constexpr int W = 480, H = 120, left = 30, bottom = 20;
  std::vector<long> bins(hi - lo + 1, 0);
  for (int b = 0; b < kHistogramBins; ++b) {
    const int e = std::clamp(b + kHistogramLow + shift, lo, hi);
    bins[static_cast<std::size_t>(e - lo)] += g.histogram[static_cast<std::size_t>(b)];
  }
  const long peak = std::max<long>(1, *std::max_element(bins.begin(), bins.end()));
  const double bw = static_cast<double>(W - left) / static_cast<double>(bins.size());
  auto x_of = [&](int e) { return left + (e - lo) * bw; };
  std::string o = fmt::format("<svg width=\"{}\" height=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">", W, H + bottom);
  // Bands by binade: [2^e, 2^(e+1)) with e < −25 rounds to 0; e = −25 .. −15 is subnormal (the
  // binade [2^-25, 2^-24) rounds to 2^-24, its lower end alone to 0); −14 .. 15 normal; 16 up
  // overflows or lies beyond 65504.
  auto band = [&](int a, int b, const char* colour) {
    o += fmt::format("<rect x=\"{:.1f}\" y=\"0\" width=\"{:.1f}\" height=\"{}\" fill=\"{}\"/>", x_of(a), x_of(b) - x_of(a), H, colour);
  };
  band(lo, -25, "#f6d5d5");
  band(-25, -14, "#f9ead0");
  band(-14, 16, "#dff0dc");
  band(16, hi + 1, "#f6d5d5");
  for (std::size_t i = 0; i < bins.size(); ++i) {
    if (!bins[i]) continue;
    const double h = static_cast<double>(H - 4) * static_cast<double>(bins[i]) / static_cast<double>(peak);
    o += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"#3b6ea8\"><title>2^{}: {}</title></rect>",
                     x_of(lo + static_cast<int>(i)) + 0.5, H - h, bw - 1, h, lo + static_cast<int>(i), bins[i]);
  }
  for (int e = lo; e <= hi; e += 10)
    o += fmt::format("<text x=\"{:.1f}\" y=\"{}\" font-size=\"10\">2^{}</text>", x_of(e), H + 14, e);
  o += "</svg>";
  return o;
}

}  // namespace

std::string train_html(const TrainResult& r, const TrainReportSource& s) {
  std::string o = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>fpaudit train-step " + esc(s.model) +
                  "</title><style>body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse;margin:1em 0}"
                  "td,th{border-bottom:1px solid #ccc;padding:2px 6px;text-align:right}caption{text-align:left;font-weight:bold}"
                  ".bad{color:#b00;font-weight:bold}.warn{color:#a60}.strong{font-weight:bold}.note{font-size:small;color:#555}"
                  ".hist{display:inline-block;margin:4px}</style></head><body>\n";
  o += fmt::format("<h1>fpaudit train-step: {}</h1><p>{} samples of {}, fpaudit {}, {:.1f} s</p>\n", esc(s.model), r.samples, esc(s.input), esc(s.version), r.seconds);
  o += html_table(train_summary_table(r));
  o += html_table(train_scale_table(r));
  // The histograms at the first 16-bit chain's scale (binary16's bands), else at scale 1.
  double scale = 1;
  for (const ChainTrainResult& c : r.chains)
    if (c.storage == "binary16") {
      scale = c.scale;
      break;
    }
  o += fmt::format("<h2>Exact gradient magnitudes times the loss scale {}</h2><p>Red: flushed to 0 or overflowing in binary16; "
                   "orange: subnormal; green: normal.</p>\n", scale);
  for (const GradientStats& g : r.reference_gradients)
    o += "<div class=\"hist\"><div>" + esc(g.name) + "</div>" + histogram_svg(g, scale_shift(scale)) + "</div>\n";
  for (std::size_t c = 0; c < r.chains.size(); ++c) o += html_table(train_gradient_table(r, c));
  o += html_table(train_update_table(r));
  o += html_table(train_trajectory_table(r));
  o += "</body></html>\n";
  return o;
}

}  // namespace fpaudit::train
