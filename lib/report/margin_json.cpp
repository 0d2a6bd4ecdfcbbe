#include "report/margin_json.h"

#include <algorithm>
#include <cmath>

namespace fpaudit {

namespace {

using nlohmann::json;

json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

/// min, p50 and max of observed/bound over the samples with a finite positive bound.
json ratio_summary(std::vector<double> v) {
  if (v.empty()) return nullptr;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  const double median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  return {{"count", n}, {"min", num(v.front())}, {"p50", num(median)}, {"max", num(v.back())}};
}

json ratios(const AuditResult& r, std::size_t c, double MarginVerdict::*bound) {
  std::vector<double> v;
  for (const SampleRecord& rec : r.records) {
    const MarginVerdict& m = rec.chains[c].margin;
    const double b = m.*bound;
    if (std::isfinite(m.drift) && std::isfinite(b) && b > 0) v.push_back(m.drift / b);
  }
  return ratio_summary(std::move(v));
}

/// Per run: the union bound over the samples whose probabilistic margin certificate (a priori or
/// a posteriori) the counts rely on, of each sample's failure probability
/// (theory/probabilistic.md, theory/margin-bound-azuma.md); rounded up, capped at 1.
json run_failure(const AuditResult& r, std::size_t c) {
  double pri = 0, post = 0;
  for (const SampleRecord& rec : r.records) {
    const MarginVerdict& m = rec.chains[c].margin;
    if (m.a_priori.prob) pri = probability_sum(pri, m.apriori_failure);
    if (m.a_posteriori.prob) post = probability_sum(post, m.failure);
  }
  return {{"a_priori", r.apriori ? num(pri) : json(nullptr)}, {"a_posteriori", num(post)}};
}

}  // namespace

json margin_certificates(const AuditResult& r, std::size_t c) {
  if (!r.margin) return {{"available", false}, {"reason", r.margin_missing}};
  const ChainClassification& k = r.classification[c];
  long directions = 0;
  for (const SampleRecord& rec : r.records) directions += rec.chains[c].margin.directions;
  json pri = nullptr;
  if (r.apriori)
    pri = {{"deterministic", k.margin_a_priori_det},
           {"probabilistic", k.margin_a_priori_prob},
           {"ratio", {{"deterministic", ratios(r, c, &MarginVerdict::apriori_det)}, {"probabilistic", ratios(r, c, &MarginVerdict::apriori_prob)}}}};
  return {{"available", true},
          {"a_posteriori", {{"deterministic", k.margin_a_posteriori_det},
                            {"probabilistic", k.margin_a_posteriori_prob},
                            {"ratio", {{"deterministic", ratios(r, c, &MarginVerdict::bound_det)}, {"probabilistic", ratios(r, c, &MarginVerdict::bound_prob)}}}}},
          {"a_priori", pri},
          {"failure_probability", num(k.margin_max_failure)},
          {"failure_probability_run", run_failure(r, c)},
          {"violations", k.margin_violations},
          {"probabilistic_exceeded", k.margin_prob_exceeded},
          {"certificate_violations", k.margin_certificate_violations},
          {"backward_passes", directions}};
}

json margin_blame(const AuditResult& r, const MarginBlame& b) {
  if (!r.margin || b.samples == 0) return nullptr;
  const double n = static_cast<double>(b.samples);
  return {{"bound_share_mean", num(b.bound_share / n)},
          {"observed_share_mean", num(b.observed_share / n)},
          {"bound_max", num(b.bound_max)},
          {"observed_max", num(b.observed_max)}};
}

json margin_sample(const AuditResult& r, const MarginVerdict& v) {
  if (!r.margin || !v.available) return nullptr;
  return {{"certified_a_posteriori", {{"deterministic", v.a_posteriori.det}, {"probabilistic", v.a_posteriori.prob}}},
          {"certified_a_priori", r.apriori ? json{{"deterministic", v.a_priori.det}, {"probabilistic", v.a_priori.prob}} : json(nullptr)},
          {"drift", num(v.drift)},
          {"bound_a_posteriori", {{"deterministic", num(v.bound_det)}, {"probabilistic", num(v.bound_prob)}}},
          {"bound_a_priori", r.apriori ? json{{"deterministic", num(v.apriori_det)}, {"probabilistic", num(v.apriori_prob)}} : json(nullptr)},
          {"failure_probability", {{"a_priori", r.apriori ? num(v.apriori_failure) : json(nullptr)}, {"a_posteriori", num(v.failure)}}},
          {"unstable_relu_units", v.unstable},
          {"violations", v.violations}};
}

}  // namespace fpaudit
