#include "shadow/classify.h"

#include <cmath>

#include "bounds/transfer.h"

namespace fpaudit {

TopTwo top_two(const double* z, long n) {
  TopTwo t;
  if (n <= 0) return t;
  for (long j = 0; j < n; ++j)
    if (std::isnan(z[j])) return {0, NAN, false};
  int best = 0;
  for (long j = 1; j < n; ++j)
    if (z[j] > z[best]) best = static_cast<int>(j);
  double second = -INFINITY;
  for (long j = 0; j < n; ++j)
    if (j != best && z[j] > second) second = z[j];
  t.top1 = best;
  t.tie = n > 1 && second == z[best];
  t.margin = n > 1 ? z[best] - second : INFINITY;
  if (std::isnan(t.margin)) t.margin = 0;  // Inf - Inf: equal infinite logits, a tie
  return t;
}

double max_distance(const double* a, const double* b, long n) {
  double d = 0;
  for (long j = 0; j < n; ++j) {
    if (std::isnan(a[j]) != std::isnan(b[j])) return INFINITY;
    if (std::isnan(a[j])) continue;
    const double e = a[j] == b[j] ? 0.0 : std::fabs(a[j] - b[j]);  // Inf == Inf gives 0, not NaN
    d = std::isnan(e) ? INFINITY : (e > d ? e : d);
  }
  return d;
}

double probability_sum(double a, double b) {
  const double s = a + b;
  return s == 0 ? 0.0 : std::fmin(1.0, bounds::up(s));  // a sum of zeros is exact
}

bool observed_certified(double margin, double delta, double reference_error) {
  // margin and each |y_j - z_j| are one binary64 rounding of the exact differences: the exact Γ is
  // at least down(margin), the exact δ at most up(delta) (theory/bounds-arithmetic.md §1). An
  // infinite margin (one logit) is exact.
  const double gamma_low = std::isinf(margin) ? margin : bounds::down(margin);
  const double radius = bounds::up(bounds::up(delta) + reference_error);
  return gamma_low > 2 * radius;  // 2·radius is exact (or +Inf)
}

void ChainClassification::add(const SampleRecord& r, const ChainVerdict& v) {
  if (r.label >= 0 && v.top1 == r.label) ++correct;
  if (v.top1 != r.ref_top1) ++flips_vs_ref;
  if (r.fp32_top1 >= 0 && v.top1 != r.fp32_top1) ++flips_vs_fp32;
  // The chain's class equals the reference's with Γ > 2δ alone; the exact network's needs the
  // reference's own error R too.
  const bool cert_ref = observed_certified(r.margin_ref, v.delta_ref, 0.0);
  if (cert_ref) ++certified_vs_ref;
  if (observed_certified(r.margin_ref, v.delta_ref, r.ref_error)) ++certified_vs_exact;
  if (r.margin_ref == 2 * v.delta_ref) ++boundary;
  if (!std::isnan(v.delta_fp32) && observed_certified(r.margin_fp32, v.delta_fp32, 0.0)) ++certified_vs_fp32;
  if (v.tie) ++ties;
  if (cert_ref && v.top1 != r.ref_top1) ++lemma_violations;
  if (std::isinf(v.delta_ref)) ++nonfinite;
  a_priori_det += v.a_priori.det;
  a_priori_prob += v.a_priori.prob;
  a_priori_all_det += v.a_priori_all.det;
  a_priori_all_prob += v.a_priori_all.prob;
  a_posteriori_det += v.a_posteriori.det;
  a_posteriori_prob += v.a_posteriori.prob;
  const bool flipped = v.top1 != r.ref_top1;
  if (flipped && (v.a_priori.det || v.a_posteriori.det || v.a_priori_all.det)) ++certificate_violations;
  if (flipped && (v.a_priori.prob || v.a_posteriori.prob || v.a_priori_all.prob)) ++prob_certificate_failures;
  if (v.a_priori_failure > max_a_priori_failure) max_a_priori_failure = v.a_priori_failure;
  if (v.a_posteriori_failure > max_a_posteriori_failure) max_a_posteriori_failure = v.a_posteriori_failure;
  run_a_priori_failure = probability_sum(run_a_priori_failure, v.a_priori_failure);
  run_a_posteriori_failure = probability_sum(run_a_posteriori_failure, v.a_posteriori_failure);
  const MarginVerdict& m = v.margin;
  margin_a_priori_det += m.a_priori.det;
  margin_a_priori_prob += m.a_priori.prob;
  margin_a_posteriori_det += m.a_posteriori.det;
  margin_a_posteriori_prob += m.a_posteriori.prob;
  margin_violations += m.violations;
  margin_prob_exceeded += m.prob_exceeded;
  if (flipped && (m.a_priori.det || m.a_posteriori.det)) ++margin_certificate_violations;
  if (m.a_priori.prob) margin_max_failure = std::fmax(margin_max_failure, m.apriori_failure);
  if (m.a_posteriori.prob) margin_max_failure = std::fmax(margin_max_failure, m.failure);
}

}  // namespace fpaudit
