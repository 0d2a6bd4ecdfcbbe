// A runtime's outputs against the reference and the chains (shadow/external_outputs.h).
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/arithmetic.h"
#include "shadow/classify.h"
#include "shadow/external_outputs.h"
#include "shadow/plan.h"

namespace fpaudit {

void check_external_runs(const std::vector<ExternalRun>& runs, const Plan& plan, const std::vector<ChainSpec>& chains,
                         long input_samples, long audited) {
  const Shape& out = plan.slots()[plan.output_slots().at(0)].shape;
  const long per_sample = static_cast<long>(element_count(out));
  for (const ExternalRun& r : runs) {
    auto refuse = [&](const std::string& problem) { throw ModelError(fmt::format("{}: --compare {}: {}", r.file, r.name, problem)); };
    if (!r.chain.empty() && std::none_of(chains.begin(), chains.end(), [&](const ChainSpec& c) { return c.name == r.chain; }))
      refuse(fmt::format("chain '{}' is not among the audited chains", r.chain));
    const Shape& s = r.outputs.shape;
    const long rows = s.empty() ? 0 : static_cast<long>(s[0]);
    if (!is_float(r.outputs.dtype) || s.empty() || element_count(Shape(s.begin() + 1, s.end())) != per_sample ||
        rows < audited || rows > input_samples)
      refuse(fmt::format("shape {} of {} does not hold the model's output {} for the {} audited samples (expected "
                         "floating-point [M, ...] with {} values per sample, {} <= M <= {}: row i for input sample i)",
                         shape_string(s), dtype_name(r.outputs.dtype), shape_string(out), audited, per_sample, audited,
                         input_samples));
    for (long i = 0; i < audited * per_sample; ++i)
      if (!std::isfinite(r.outputs.values[static_cast<std::size_t>(i)]))
        refuse(fmt::format("sample {} element {} is {}", i / per_sample, i % per_sample,
                           std::isnan(r.outputs.values[static_cast<std::size_t>(i)]) ? "NaN" : "infinite"));
  }
}

std::vector<ExternalSample> judge_external(const std::vector<ExternalRun>& runs, long sample, const std::vector<double>& z,
                                           const std::vector<const std::vector<double>*>& chain_outputs) {
  const long n = static_cast<long>(z.size());
  std::vector<ExternalSample> judged;
  for (const ExternalRun& r : runs) {
    const double* y = r.outputs.values.data() + sample * n;
    ExternalSample e;
    e.top1 = top_two(y, n).top1;
    e.delta_ref = max_distance(y, z.data(), n);
    double diff2 = 0, ref2 = 0;
    for (long j = 0; j < n; ++j) diff2 += (y[j] - z[j]) * (y[j] - z[j]), ref2 += z[j] * z[j];
    e.normwise = ref2 > 0 ? std::sqrt(diff2 / ref2) : (diff2 > 0 ? INFINITY : 0.0);
    for (const std::vector<double>* c : chain_outputs) e.delta_chain.push_back(max_distance(y, c->data(), n));
    judged.push_back(std::move(e));
  }
  return judged;
}

std::vector<ExternalSummary> summarize_external(const std::vector<ExternalRun>& runs, const std::vector<ChainSpec>& chains,
                                                const std::vector<SampleRecord>& records) {
  std::vector<ExternalSummary> out;
  for (std::size_t k = 0; k < runs.size(); ++k) {
    ExternalSummary s;
    s.name = runs[k].name;
    s.file = runs[k].file;
    s.samples = static_cast<long>(records.size());
    s.max_delta_chain.assign(chains.size(), 0.0);
    s.top1_differs_chain.assign(chains.size(), 0);
    double normwise_sum = 0;
    for (const SampleRecord& r : records) {
      const ExternalSample& e = r.external.at(k);
      s.max_abs = std::fmax(s.max_abs, e.delta_ref);
      s.normwise_max = std::fmax(s.normwise_max, e.normwise);
      normwise_sum += e.normwise;
      if (r.label >= 0 && e.top1 == r.label) ++s.correct;
      if (e.top1 != r.ref_top1) ++s.flips_vs_ref;
      if (observed_certified(r.margin_ref, e.delta_ref, 0.0)) ++s.certified;
      for (std::size_t c = 0; c < chains.size(); ++c) {
        s.max_delta_chain[c] = std::fmax(s.max_delta_chain[c], e.delta_chain[c]);
        if (e.top1 != r.chains[c].top1) ++s.top1_differs_chain[c];
      }
    }
    s.normwise_mean = records.empty() ? 0 : normwise_sum / static_cast<double>(records.size());
    // The judging chain: named, or the closest (first on a tie).
    std::size_t judge = 0;
    s.chain_named = !runs[k].chain.empty();
    for (std::size_t c = 0; c < chains.size(); ++c) {
      if (s.chain_named ? chains[c].name == runs[k].chain : s.max_delta_chain[c] < s.max_delta_chain[judge]) judge = c;
    }
    s.chain = chains.at(judge).name;
    for (const SampleRecord& r : records) {
      const double delta = r.external[k].delta_ref, bound = r.chains[judge].delta_bound;
      if (!std::isfinite(bound) || !std::isfinite(delta)) {
        ++s.unbounded;
        continue;
      }
      if (delta <= bound) ++s.within_bound;
      else ++s.outside_bound;
      if (bound > 0) s.max_bound_ratio = std::fmax(s.max_bound_ratio, delta / bound);
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace fpaudit
