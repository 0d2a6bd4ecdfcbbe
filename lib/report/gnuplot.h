// Drawing plots with gnuplot (Debian's gnuplot-nox, `set terminal svg`) as a subprocess: the
// data and the script go to a fresh temporary folder, gnuplot runs there once for all plots, and
// the SVGs come back cleaned for inlining in an HTML page. A missing or failing gnuplot is an
// answer (the reason), never an exception: the report is still written without its plots.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace fpaudit {

struct PlotRequest {
  std::string name;    ///< file stem of the SVG, and the prefix of its element ids (letters, digits, '-')
  std::string script;  ///< gnuplot commands after `set terminal svg ...` and `set output`; data by relative file name
  std::vector<std::pair<std::string, std::string>> data;  ///< (file name, content) written next to the script
  int width = 560, height = 320;                         ///< SVG size in pixels
};

struct PlotBatch {
  std::vector<std::string> svgs;  ///< one per request, in order, when `error` is empty
  std::string error;              ///< why there are no plots ("gnuplot not found at '/x' (No such file or directory)")
};

/// Runs `gnuplot` (a name searched on PATH, or a path) once over all requests.
PlotBatch run_gnuplot(const std::string& gnuplot, const std::vector<PlotRequest>& requests);

/// The full script gnuplot runs for the requests: terminal, output and each request's script.
std::string gnuplot_script(const std::vector<PlotRequest>& requests);

/// Makes gnuplot's SVG fit for inlining: drops the XML prolog, the namespace URLs and the
/// generator's title, writes xlink:href as href, and prefixes every id (and every reference to
/// one) with `prefix`, so that several plots in one page do not share ids.
std::string inline_svg(const std::string& svg, const std::string& prefix);

}  // namespace fpaudit
