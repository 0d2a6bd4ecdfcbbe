#include "report/report_plots.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "report/table.h"

namespace fpaudit {

namespace {

/// One colour per chain, in chain order (a qualitative palette readable on white).
const char* chain_colour(std::size_t c) {
  static const char* const palette[] = {"#4d4d4d", "#d95f02", "#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#a6761d", "#1f78b4"};
  return palette[c % (sizeof palette / sizeof *palette)];
}

// Chain names may hold '@' (fp16@pairwise-8), which gnuplot's enhanced text mode would take as
// markup: keys and labels that show chain names are set noenhanced.

/// A value for a gnuplot data file: "?" (missing) unless finite and positive (the axes are log).
std::string positive(double v) { return std::isfinite(v) && v > 0 ? fmt::format("{:.6g}", v) : "?"; }

/// Hollow and filled point shapes that stay distinguishable where lines overlap.
const int kPointTypes[] = {7, 6, 5, 4};

/// A value for a gnuplot data file, "?" (missing) when not finite.
std::string datum(double v) { return std::isfinite(v) ? fmt::format("{:.6g}", v) : "?"; }

/// The x axis of per-layer plots: one tic per layer labelled "index op" for small models,
/// numeric tics for large ones.
std::string layer_axis(const AuditDocument& doc) {
  std::string s = fmt::format("set xrange [-0.5:{}]\nset xlabel 'layer'\n", static_cast<double>(doc.layers.size()) - 0.5);
  if (doc.layers.size() <= 30) s += "set xtics rotate by -40 left noenhanced font ',9'\n";
  return s;
}
std::string layer_tic(const AuditDocument& doc, const LayerView& layer) {
  if (doc.layers.size() > 30) return "";
  return fmt::format(" \"{} {}\"", layer.index, layer.op);
}
std::string tic_using(const AuditDocument& doc, int column) {
  return doc.layers.size() <= 30 ? fmt::format(":xtic({})", column) : "";
}

/// Powers of ten around [lo, hi]: the range of a log axis.
std::pair<double, double> decades(double lo, double hi) {
  return {std::pow(10.0, std::floor(std::log10(lo))), std::pow(10.0, std::ceil(std::log10(hi)))};
}

int bounds_plot(const AuditDocument& doc, std::size_t c, std::vector<PlotRequest>& out) {
  std::string data = "# layer  det_local  prob_local  det_propagated  tic\n";
  double lo = INFINITY, hi = 0;
  for (const LayerView& layer : doc.layers) {
    const LayerChainView& st = layer.chains[c];
    const bool local = !layer.exact_op && st.local_bound.checked > 0;
    const double v[3] = {local ? st.local_bound.ratio.max : NAN, local ? st.local_bound.prob_ratio.max : NAN,
                         st.propagated_bound.checked ? st.propagated_bound.ratio.max : NAN};
    for (double x : v)
      if (std::isfinite(x) && x > 0) lo = std::min(lo, x), hi = std::max(hi, x);
    data += fmt::format("{} {} {} {}{}\n", layer.index, positive(v[0]), positive(v[1]), positive(v[2]), layer_tic(doc, layer));
  }
  if (!(hi > 0)) return -1;
  const auto [ylo, yhi] = decades(lo, std::max(hi, 10.0));
  PlotRequest r;
  r.name = fmt::format("bounds-{}", c);
  r.width = 900;
  r.height = 300;
  r.data.emplace_back(r.name + ".dat", data);
  r.script = "set datafile missing '?'\nset logscale y\nset format y '10^{%L}'\n";
  r.script += fmt::format("set yrange [{:g}:{:g}]\n", ylo, yhi);
  r.script += "set ylabel 'observed / bound'\nset grid ytics lc rgb '#e0e0e0'\nset key outside right top font ',9' samplen 2\n";
  r.script += layer_axis(doc);
  r.script += fmt::format(
      "plot '{0}' using 1:2{1} with points pt 7 ps 0.9 lc rgb '#1f78b4' title 'deterministic, local', \\\n"
      "     '' using 1:3 with points pt 9 ps 0.9 lc rgb '#e6ab02' title 'probabilistic, local', \\\n"
      "     '' using 1:4 with points pt 6 ps 1.1 lc rgb '#4d4d4d' title 'deterministic, propagated', \\\n"
      "     1 with lines dt 2 lw 1.5 lc rgb '#c0392b' title 'the bound (above: violated)'\n",
      r.name + ".dat", tic_using(doc, 5));
  out.push_back(std::move(r));
  return static_cast<int>(out.size()) - 1;
}

int margins_plot(const AuditDocument& doc, ReportPlots& plots) {
  const long n = static_cast<long>(doc.records.size());
  if (n == 0) return -1;
  const long stride = (n + kMaxMarginPoints - 1) / kMaxMarginPoints;
  plots.margins_thinned = stride > 1;
  double lo = INFINITY, hi = 0;
  for (const SampleView& s : doc.records) {
    for (const SampleChainView& v : s.chains)
      for (double x : {s.margin_reference, 2 * v.delta_reference})
        if (std::isfinite(x) && x > 0) lo = std::min(lo, x), hi = std::max(hi, x);
  }
  if (!(hi > 0)) return -1;
  const auto [axis_lo, axis_hi] = decades(lo, hi);
  // Zero (a tie, or no drift) and Inf (non-finite logits) have no place on a log axis: they are
  // drawn on the edges.
  auto clamp = [&](double x) { return std::isnan(x) ? NAN : std::clamp(x, axis_lo, axis_hi); };
  std::string data, nonfinite;
  long drawn = 0;
  for (std::size_t c = 0; c < doc.chains.size(); ++c) {
    data += fmt::format("# {}: margin_reference  two_delta\n", doc.chains[c].name);
    long count = 0;
    for (long i = 0; i < n; ++i) {
      const SampleView& s = doc.records[i];
      if (i % stride != 0 && s.chains[c].certified) continue;
      ++count;
      // A non-finite drift gets a marker of its own on the top edge, so it cannot be missed.
      if (std::isinf(s.chains[c].delta_reference)) nonfinite += fmt::format("{} {}\n", datum(clamp(s.margin_reference)), datum(axis_hi));
      else data += fmt::format("{} {}\n", datum(clamp(s.margin_reference)), datum(clamp(2 * s.chains[c].delta_reference)));
    }
    drawn = std::max(drawn, count);
    data += "\n\n";
  }
  data += "# non-finite drift (any chain): margin_reference  top of the axis\n" + nonfinite;
  plots.margin_points_per_chain = drawn;
  PlotRequest r;
  r.name = "margins";
  r.width = 760;
  r.height = 560;
  r.data.emplace_back("margins.dat", data);
  // A near-square plot area on the left, the key beside it (margins fixed in screen units).
  r.script = "set datafile missing '?'\nset logscale xy\nset format x '10^{%L}'\nset format y '10^{%L}'\n";
  r.script += "set lmargin at screen 0.1\nset rmargin at screen 0.68\nset bmargin at screen 0.12\nset tmargin at screen 0.96\n";
  r.script += fmt::format("set xrange [{0:g}:{1:g}]\nset yrange [{0:g}:{1:g}]\n", axis_lo, axis_hi);
  r.script += "set xlabel 'margin Γ of the reference logits (top-1 minus top-2)'\nset ylabel '2δ: twice the logit drift of the chain'\n";
  r.script += "set grid lc rgb '#e8e8e8'\nset key at screen 0.71, screen 0.96 left top Left reverse noenhanced font ',10' samplen 1\n";
  // The certified region, below the diagonal (the axes share one range, so it is y < x).
  r.script += "set object 1 polygon from graph 0,0 to graph 1,0 to graph 1,1 to graph 0,0 "
              "fillstyle solid 0.12 noborder fillcolor rgb '#2e9d4f' behind\n";
  r.script += "plot x with lines lw 1.2 lc rgb '#2e9d4f' title 'Γ = 2δ; below: certified', \\\n";
  for (std::size_t c = 0; c < doc.chains.size(); ++c)
    r.script += fmt::format("     'margins.dat' index {} using 1:2 with points pt 7 ps 0.45 lc rgb '{}' title '{}'{}", c, chain_colour(c),
                            chain_label(doc.chains[c].name), c + 1 < doc.chains.size() || !nonfinite.empty() ? ", \\\n" : "\n");
  if (!nonfinite.empty())
    r.script += fmt::format("     'margins.dat' index {} using 1:2 with points pt 9 ps 1.3 lc rgb '#c0392b' title 'δ = ∞ (logits not finite)'\n",
                            doc.chains.size());
  plots.requests.push_back(std::move(r));
  return static_cast<int>(plots.requests.size()) - 1;
}

int headroom_plot(const AuditDocument& doc, ReportPlots& plots) {
  std::vector<std::size_t> drawn;
  for (std::size_t c = 0; c < doc.chains.size(); ++c) {
    double least = INFINITY;
    std::uint64_t bad = 0;
    for (const LayerView& layer : doc.layers) {
      least = std::min(least, layer.chains[c].events.headroom_log2);
      bad += layer.chains[c].events.overflow + layer.chains[c].events.nan;
    }
    if (least < kHeadroomPlotLimit || bad) drawn.push_back(c);
    else plots.wide_range_chains.push_back(chain_label(doc.chains[c].name));
  }
  if (drawn.empty() || doc.layers.empty()) return -1;
  std::string data, bad_data;
  int bad_chains = 0;  // chains with an overflow: each gets a label row of its own above the axis
  for (std::size_t c : drawn) {
    std::string bad;
    data += fmt::format("# {}: layer  headroom_log2  tic\n", doc.chains[c].name);
    for (const LayerView& layer : doc.layers) {
      const EventView& ev = layer.chains[c].events;
      data += fmt::format("{} {}{}\n", layer.index, std::isfinite(ev.headroom_log2) ? fmt::format("{:.4g}", ev.headroom_log2) : "?",
                          layer_tic(doc, layer));
      if (ev.overflow + ev.nan) bad += fmt::format("{} 0 \"{} {}\"\n", layer.index, chain_label(doc.chains[c].name), ev.overflow + ev.nan);
    }
    data += "\n\n";
    if (!bad.empty()) {
      bad_data += fmt::format("# {}: layer  0  label\n{}\n\n", doc.chains[c].name, bad);
      ++bad_chains;
    }
  }
  PlotRequest r;
  r.name = "headroom";
  r.width = 1100;
  r.height = 340;
  r.data.emplace_back("headroom.dat", data);
  r.script = "set datafile missing '?'\nset yrange [0:*]\nset offsets 0, 0, graph 0.1, 0\nset ylabel 'headroom (binades)'\n";
  r.script += "set grid ytics lc rgb '#e0e0e0'\nset key top right noenhanced font ',9' samplen 2\n";
  r.script += layer_axis(doc);
  r.script += "plot ";
  // Chains sharing a storage format often coincide: each gets its own point shape and dash.
  for (std::size_t i = 0; i < drawn.size(); ++i)
    r.script += fmt::format("{}'headroom.dat' index {} using 1:2{} with linespoints pt {} ps {} dt {} lw 1.5 lc rgb '{}' title '{}'",
                            i ? ", \\\n     " : "", i, i == 0 ? tic_using(doc, 3) : "", kPointTypes[i % 4], 0.7 + 0.3 * (i % 4),
                            1 + i % 4, chain_colour(drawn[i]), chain_label(doc.chains[drawn[i]].name));
  if (!bad_data.empty()) {
    r.data.emplace_back("overflow.dat", bad_data);
    r.script += ", \\\n     'overflow.dat' using 1:2 with points pt 7 ps 1.4 lc rgb '#c0392b' title 'inf/nan (chain count)'";
    for (int i = 0; i < bad_chains; ++i)
      r.script += fmt::format(", \\\n     'overflow.dat' index {} using 1:2:3 with labels offset 0,{:.1f} noenhanced font ',9' tc rgb '#c0392b' notitle", i,
                              1.0 + 1.2 * i);
  }
  r.script += "\n";
  plots.requests.push_back(std::move(r));
  return static_cast<int>(plots.requests.size()) - 1;
}

}  // namespace

ReportPlots plan_report_plots(const AuditDocument& doc) {
  ReportPlots plots;
  plots.margins = margins_plot(doc, plots);
  for (std::size_t c = 0; c < doc.chains.size(); ++c) plots.bounds.push_back(bounds_plot(doc, c, plots.requests));
  plots.headroom = headroom_plot(doc, plots);
  return plots;
}

}  // namespace fpaudit
