#include "decide/tolerances.h"

#include <cmath>

#include "bounds/transfer.h"

namespace fpaudit {

namespace {

/// The rule of tolerances.h.
void choose(ToleranceFigures& f) {
  f.atol = std::fmin(f.proved_abs, bounds::up(kToleranceSafety * f.observed_abs));
  f.rtol = bounds::up(kToleranceSafety * f.typical_rel);
}

}  // namespace

std::string tolerance_rule() {
  return "atol = min(proved, 4 x observed max |y - r|): alone it covers every element seen, 4 times over; "
         "rtol = 4 x observed median |y - r|/|r|: room in proportion to |expected| beyond the values seen. "
         "proved: the deterministic a-posteriori bound on |y - exact| plus the reference's own (a worst case, often vacuous). "
         "Against fp32: through the exact network, |y - y32| <= |y - exact| + |exact - y32| "
         "(observed abs: the largest |y - y32| seen at the first output)";
}

ToleranceResult derive_tolerances(const Plan& plan, const Constant& inputs, const ToleranceOptions& options,
                                  const std::string& input_name) {
  AuditOptions a;
  a.chains = {options.chain};
  const bool is_fp32 = options.chain.name == "fp32";
  if (!is_fp32) a.chains.push_back(parse_chain("fp32"));
  a.max_samples = options.max_samples;
  a.threads = options.threads;
  a.apriori = false;
  a.margin = false;
  const AuditResult r = run_audit(plan, inputs, nullptr, a, input_name);
  const std::size_t c = 0, f = is_fp32 ? 0 : 1;
  double ref_error = 0, delta_fp32 = 0;  // at the first output, over the samples
  for (const SampleRecord& s : r.records) {
    ref_error = std::fmax(ref_error, s.ref_error);
    delta_fp32 = std::fmax(delta_fp32, std::isnan(s.chains[c].delta_fp32) ? 0.0 : s.chains[c].delta_fp32);
  }
  ToleranceResult out;
  out.chain = options.chain;
  out.samples = r.samples;
  out.seconds = r.seconds;
  for (std::size_t k = 0; k < plan.output_slots().size(); ++k) {
    const int slot = plan.output_slots()[k];
    const int p = plan.producer(slot);
    if (p < 0) continue;  // a graph input passed through: no error
    const auto& row = r.stats[static_cast<std::size_t>(p)];
    OutputTolerance t;
    t.name = plan.slots()[static_cast<std::size_t>(slot)].name;
    t.shape = plan.slots()[static_cast<std::size_t>(slot)].shape;
    // The reference's own bound is recorded at the first output; the others' is below binary64's
    // rounding of the values and left out.
    const double R = k == 0 ? ref_error : 0;
    auto bound = [&](std::size_t chain) {
      const BoundStats& b = row[chain].propagated_bound;
      return b.unbounded > 0 ? INFINITY : b.bound.max;
    };
    t.exact.observed_abs = row[c].propagated.abs.max;
    t.exact.observed_rel = row[c].propagated.rel.max;
    t.exact.typical_rel = row[c].propagated.rel.quantile(0.5);
    t.exact.proved_abs = bounds::up(bound(c) + R);
    choose(t.exact);
    const double rel32 = row[f].propagated.rel.max;
    t.fp32.observed_abs = k == 0 && !is_fp32 ? delta_fp32 : bounds::up(t.exact.observed_abs + row[f].propagated.abs.max);
    t.fp32.observed_rel = is_fp32 ? 0 : rel32 < 1 ? bounds::up(bounds::up(t.exact.observed_rel + rel32) / (1 - rel32)) : INFINITY;
    t.fp32.typical_rel = is_fp32 ? 0 : bounds::up(t.exact.typical_rel + row[f].propagated.rel.quantile(0.5));
    t.fp32.proved_abs = is_fp32 ? 0 : bounds::up(bound(c) + bound(f));
    choose(t.fp32);
    out.outputs.push_back(t);
  }
  return out;
}

}  // namespace fpaudit
