#include <cmath>

#include <fmt/format.h>

#include "report/audit_report.h"

namespace fpaudit {

namespace {

/// CSV field: numbers in round-trip form ("nan"/"inf" spelled out), text quoted when needed.
std::string field(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmt::format("{}", v);
}
std::string field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return q + "\"";
}

}  // namespace

std::string layers_csv(const AuditResult& r, const Plan& plan) {
  std::string out =
      "layer_index,layer,op,chain,kind,abs_max,abs_mean,abs_p50,abs_p99,rel_max,rel_mean,rel_p50,rel_p99,"
      "ulps_max,ulps_mean,ulps_p50,ulps_p99,normwise_max,normwise_mean,cosine_min,cosine_mean,"
      "overflow,nan,flushed,subnormal,headroom_log2\n";
  for (std::size_t l = 0; l < plan.layers().size(); ++l) {
    const Node& node = *plan.layers()[l].node;
    for (std::size_t c = 0; c < r.chains.size(); ++c) {
      const LayerChainStats& st = r.stats[l][c];
      const EventStats& ev = st.events;
      for (int kind = 0; kind < 2; ++kind) {
        const ErrorStats& e = kind == 0 ? st.propagated : st.local;
        const double cos_mean = e.samples ? e.sum_cosine / static_cast<double>(e.samples) : 1.0;
        out += fmt::format("{},{},{},{},{}", l, field(node.name), node.op_type, field(r.chains[c].name), kind == 0 ? "propagated" : "local");
        for (const Summary* s : {&e.abs, &e.rel, &e.ulps})
          out += fmt::format(",{},{},{},{}", field(s->max), field(s->mean()), field(s->quantile(0.5)), field(s->quantile(0.99)));
        out += fmt::format(",{},{},{},{}", field(e.normwise.max), field(e.normwise.mean()), field(e.min_cosine), field(cos_mean));
        out += fmt::format(",{},{},{},{},{}\n", ev.overflow, ev.nan, ev.flushed, ev.subnormal,
                           field(headroom_log2(r.chains[c].storage, ev.max_magnitude)));
      }
    }
  }
  return out;
}

std::string samples_csv(const AuditResult& r) {
  std::string out = "index,label,reference_top1,margin_reference,margin_fp32";
  for (const ChainSpec& c : r.chains)
    out += fmt::format(",{0}_top1,{0}_delta_reference,{0}_certified,{0}_first_nonfinite_layer", field(c.name));
  out += "\n";
  for (const SampleRecord& rec : r.records) {
    out += fmt::format("{},{},{},{},{}", rec.index, rec.label, rec.ref_top1, field(rec.margin_ref), field(rec.margin_fp32));
    for (const ChainVerdict& v : rec.chains)
      out += fmt::format(",{},{},{},{}", v.top1, field(v.delta_ref), rec.margin_ref > 2 * v.delta_ref ? 1 : 0, v.first_nonfinite_layer);
    out += "\n";
  }
  return out;
}

}  // namespace fpaudit
