// The plots of the HTML report, as gnuplot scripts and data worked out from an audit: observed
// error over its bounds per layer (one plot per chain), margins Γ against 2δ per sample with the
// certified region shaded, and headroom and overflow per layer. Kept apart from running gnuplot
// so that tests compare the scripts and data exactly, whatever gnuplot version draws them.
#pragma once

#include <string>
#include <vector>

#include "report/audit_document.h"
#include "report/gnuplot.h"

namespace fpaudit {

struct ReportPlots {
  std::vector<PlotRequest> requests;
  int margins = -1;                 ///< index into requests, -1 when not drawn
  std::vector<int> bounds;          ///< per chain: index into requests, -1 when the chain has no bound
  int headroom = -1;                ///< -1 when no chain comes near its format's range
  std::vector<std::string> wide_range_chains;  ///< chains left out of the headroom plot (never near the limit)
  long margin_points_per_chain = 0;  ///< samples drawn per chain in the margin plot
  bool margins_thinned = false;     ///< every k-th sample drawn (and every uncertified one), not all
};

/// The headroom (binades) below which a chain is drawn in the headroom plot.
constexpr double kHeadroomPlotLimit = 32;
/// At most this many samples per chain in the margin plot, so the page stays small.
constexpr long kMaxMarginPoints = 2000;

ReportPlots plan_report_plots(const AuditDocument& doc);

}  // namespace fpaudit
