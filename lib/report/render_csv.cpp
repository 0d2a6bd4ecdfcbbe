// layers.csv and samples.csv: every number of the JSON's per-layer and per-sample records, flat,
// for spreadsheets and pandas. The columns are a contract: add new ones at the end only.
#include <cmath>

#include <fmt/format.h>

#include "report/number_text.h"
#include "report/render.h"

namespace fpaudit {

namespace {

/// CSV text field, quoted when it holds a comma, a quote or a newline.
std::string field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return q + "\"";
}

}  // namespace

std::string render_layers_csv(const AuditDocument& doc) {
  std::string out =
      "layer_index,layer,op,chain,kind,abs_max,abs_mean,abs_p50,abs_p99,rel_max,rel_mean,rel_p50,rel_p99,"
      "ulps_max,ulps_mean,ulps_p50,ulps_p99,normwise_max,normwise_mean,cosine_min,cosine_mean,"
      "overflow,nan,flushed,subnormal,headroom_log2\n";
  for (const LayerView& layer : doc.layers) {
    for (std::size_t c = 0; c < doc.chains.size(); ++c) {
      const LayerChainView& st = layer.chains[c];
      for (const ErrorView* e : {&st.propagated, &st.local}) {
        out += fmt::format("{},{},{},{},{}", layer.index, field(layer.name), layer.op, field(doc.chains[c].name),
                           e == &st.propagated ? "propagated" : "local");
        for (const Quantiles* q : {&e->abs, &e->rel, &e->ulps})
          out += fmt::format(",{},{},{},{}", roundtrip_text(q->max), roundtrip_text(q->mean), roundtrip_text(q->p50),
                             roundtrip_text(q->p99));
        out += fmt::format(",{},{},{},{}", roundtrip_text(e->normwise_max), roundtrip_text(e->normwise_mean),
                           roundtrip_text(e->cosine_min), roundtrip_text(e->cosine_mean));
        const EventView& ev = st.events;
        out += fmt::format(",{},{},{},{},{}\n", ev.overflow, ev.nan, ev.flushed, ev.subnormal, roundtrip_text(ev.headroom_log2));
      }
    }
  }
  return out;
}

std::string render_samples_csv(const AuditDocument& doc) {
  std::string out = "index,label,reference_top1,margin_reference,margin_fp32";
  for (const ChainView& c : doc.chains)
    out += fmt::format(",{0}_top1,{0}_delta_reference,{0}_certified,{0}_first_nonfinite_layer", field(c.name));
  out += "\n";
  for (const SampleView& rec : doc.records) {
    out += fmt::format("{},{},{},{},{}", rec.index, rec.label, rec.reference_top1, roundtrip_text(rec.margin_reference),
                       roundtrip_text(rec.margin_fp32));
    for (const SampleChainView& v : rec.chains)
      out += fmt::format(",{},{},{},{}", v.top1, roundtrip_text(v.delta_reference), v.certified ? 1 : 0, v.first_nonfinite_layer);
    out += "\n";
  }
  return out;
}

std::string render_tasks_csv(const AuditDocument& doc) {
  std::string out =
      "output,task,chain,samples,within_tolerance_observed,within_tolerance_proved,elements_outside_tolerance,"
      "nonfinite_samples,max_abs,normwise_max,normwise_mean,cosine_min,bound_max,bound_ratio_max,decisions,flipped,"
      "samples_flipped,certified_observed,certified_bound,violations,min_margin\n";
  // A real field: empty where the JSON has null (not this task's, or no finite value).
  auto real = [](double v) { return std::isnan(v) ? std::string() : roundtrip_text(v); };
  for (const OutputTaskView& t : doc.tasks) {
    const bool regress = t.task == "regress";
    for (std::size_t c = 0; c < doc.chains.size() && c < t.chains.size(); ++c) {
      const TaskChainView& s = t.chains[c];
      out += fmt::format("{},{},{},{}", field(t.name), t.task, field(doc.chains[c].name), s.samples);
      if (regress)
        out += fmt::format(",{},{},{},{},{},{},{},{},{},{},,,,,,,", s.within_observed, s.within_proved, s.outside, s.nonfinite,
                           real(s.max_abs), real(s.normwise_max), real(s.normwise_mean), real(s.cosine_min), real(s.bound_max),
                           real(s.bound_ratio_max));
      else
        out += fmt::format(",,,,,,,,,,,{},{},{},{},{},{},{}", s.decisions, s.flipped, s.samples_flipped, s.certified_observed,
                           s.certified_bound, s.violations, real(s.min_margin));
      out += "\n";
    }
  }
  return out;
}

}  // namespace fpaudit
