#include <cmath>

#include <fmt/format.h>

#include "report/audit_report.h"

namespace fpaudit {

namespace {

/// A short number for a narrow column: 3 significant digits, "-" for nothing measured.
std::string num(double v, std::uint64_t count = 1) {
  if (count == 0) return "-";
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0) return "0";
  return fmt::format("{:.3g}", v);
}

std::string clip(const std::string& s, std::size_t width) {
  return s.size() <= width ? s : s.substr(0, width - 1) + "~";
}

const char* kRed = "\033[31m";
const char* kBold = "\033[1m";
const char* kReset = "\033[0m";

}  // namespace

std::string audit_table(const AuditResult& r, const Plan& plan, bool colour) {
  std::string out;
  const double n = static_cast<double>(r.samples);
  for (std::size_t c = 0; c < r.chains.size(); ++c) {
    const ChainSpec& spec = r.chains[c];
    const ChainClassification& k = r.classification[c];
    out += fmt::format("{}{} — {} storage, {} accumulation, {} sums{}\n", colour ? kBold : "", spec.name, spec.storage.name,
                       spec.accumulator.name, schedule_name(spec.schedule), colour ? kReset : "");
    std::string acc = r.has_labels ? fmt::format("accuracy {:.2f}%", 100.0 * k.correct / n) : "no labels";
    if (r.has_labels) acc += fmt::format(" (reference {:.2f}%)", 100.0 * r.reference_correct / n);
    const bool have_fp32 = !r.records.empty() && r.records[0].fp32_top1 >= 0;
    out += fmt::format("  {}, flips vs reference {}, vs fp32 {}, certified Γ>2δ {:.1f}% of {} samples\n", acc,
                       k.flips_vs_ref, have_fp32 ? std::to_string(k.flips_vs_fp32) : "n/a", 100.0 * k.certified_vs_ref / n,
                       r.samples);
    if (k.lemma_violations) out += fmt::format("  {}LEMMA VIOLATIONS: {}{}\n", colour ? kRed : "", k.lemma_violations, colour ? kReset : "");
    out += fmt::format("  {:<20} {:<8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>4} {:>4} {:>5} {:>5}\n", "layer", "op",
                       "abs max", "ulp p50", "ulp p99", "norm rel", "loc abs", "loc p99", "ovf", "nan", "flush", "room");
    for (std::size_t l = 0; l < plan.layers().size(); ++l) {
      const PlannedLayer& layer = plan.layers()[l];
      const LayerChainStats& st = r.stats[l][c];
      const EventStats& ev = st.events;
      const bool bad = ev.overflow || ev.nan;
      const double room = headroom_log2(spec.storage, ev.max_magnitude);
      const ErrorStats& p = st.propagated;
      const ErrorStats& q = st.local;
      out += fmt::format("  {:<20} {:<8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {}{:>4} {:>4}{} {:>5} {:>5}\n",
                         clip(layer.node->name, 20), clip(layer.node->op_type, 8), num(p.abs.max, p.abs.count),
                         num(p.ulps.quantile(0.5), p.ulps.count), num(p.ulps.quantile(0.99), p.ulps.count),
                         num(p.normwise.max, p.normwise.count),
                         layer.kernel->exact() ? "exact" : num(q.abs.max, q.abs.count),
                         layer.kernel->exact() ? "" : num(q.ulps.quantile(0.99), q.ulps.count),
                         bad && colour ? kRed : "", ev.overflow, ev.nan, bad && colour ? kReset : "", ev.flushed,
                         std::isinf(room) ? "-" : fmt::format("{:.1f}", room));
    }
    // Bounds: observed error over the deterministic bound (violations when above 1), and how
    // often the probabilistic bound was exceeded against the probability it promised.
    out += fmt::format("  {:<20} {:<8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>6} {:>15}\n", "bounds", "", "prop bnd", "obs/bnd",
                       "obs/bnd", "loc bnd", "obs/bnd", "viol", "prob exceeded");
    out += fmt::format("  {:<20} {:<8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>6} {:>15}\n", "", "", "max", "max", "p50", "max", "max",
                       "", "rate/promised");
    for (std::size_t l = 0; l < plan.layers().size(); ++l) {
      const PlannedLayer& layer = plan.layers()[l];
      const BoundStats& p = r.stats[l][c].propagated_bound;
      const BoundStats& q = r.stats[l][c].local_bound;
      const std::uint64_t viol = p.violations + q.violations;
      const double rate = q.checked ? static_cast<double>(q.prob_exceeded) / static_cast<double>(q.checked) : 0.0;
      auto bounded = [](const BoundStats& b, double v) { return b.checked ? num(v) : (b.unbounded ? std::string("no rule") : "-"); };
      out += fmt::format("  {:<20} {:<8} {:>9} {:>9} {:>9} {:>9} {:>9} {}{:>6}{} {:>15}\n", clip(layer.node->name, 20),
                         clip(layer.node->op_type, 8), bounded(p, p.bound.max), bounded(p, p.ratio.max),
                         bounded(p, p.ratio.quantile(0.5)), bounded(q, q.bound.max), bounded(q, q.ratio.max),
                         viol && colour ? kRed : "", viol, viol && colour ? kReset : "",
                         q.checked ? fmt::format("{:.2g}/{:.2g}", rate, q.max_failure_probability) : std::string("-"));
    }
    out += "\n";
  }
  out += "propagated: the chain's own values against the reference; local: the error the layer itself creates\n"
         "(reference input rounded to the chain's format, weights exact in the reference). ulp: in units in the last\n"
         "place of the chain's storage format at the reference value; loc: local. norm rel: largest ||y - r|| / ||r|| of a sample.\n"
         "room: binades between the largest value seen and the format's largest finite number.\n"
         "bnd: deterministic error bound (theory/); obs/bnd above 1 is a violation. prob exceeded: share of elements\n"
         "above the probabilistic (Higham-Mary) local bound, against the per-element failure probability promised.\n";
  return out;
}

}  // namespace fpaudit
