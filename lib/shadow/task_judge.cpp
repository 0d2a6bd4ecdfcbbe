#include "shadow/task_judge.h"

#include <algorithm>

#include "bounds/transfer.h"
#include "shadow/certificate.h"
#include "shadow/classify.h"

namespace fpaudit {

namespace {

/// E + R rounded up; NaN (an unbounded value) becomes +Inf.
double radius(double e, double r) {
  const double s = bounds::up(e + r);
  return std::isnan(s) ? INFINITY : s;
}

void judge_regress(const OutputTask& t, const double* y, const double* z, const double* E, const double* R, long n,
                   TaskSample& s) {
  double diff2 = 0, ref2 = 0, dot = 0, y2 = 0;
  s.within_observed = s.within_proved = true;
  for (long i = 0; i < n; ++i) {
    const double r = radius(E[i], R[i]);
    s.max_bound = std::fmax(s.max_bound, r);
    if (!std::isfinite(y[i]) || !std::isfinite(z[i])) {
      if (y[i] != z[i]) s.nonfinite = true, s.max_abs = INFINITY, ++s.outside, s.within_observed = s.within_proved = false;
      continue;
    }
    const double d = std::fabs(y[i] - z[i]);
    const double az = std::fabs(z[i]);
    s.max_abs = std::fmax(s.max_abs, d);
    if (r > 0) s.bound_ratio = std::fmax(s.bound_ratio, d / r);
    else if (d > 0) s.bound_ratio = INFINITY;
    // Observed: the exact |y − z| (at most up(d)) against the exact tolerance (at least the
    // value computed with downward rounding of each step).
    const double tol = bounds::down(t.tolerance.atol + bounds::down(t.tolerance.rtol * az));
    if (bounds::up(d) > tol) ++s.outside, s.within_observed = false;
    // Proved against the exact network: |z̄| ≥ |z| − R, so atol + rtol·(|z| − R)⁺ is a tolerance
    // no larger than the exact one; E bounds |y − z̄|.
    const double low = std::fmax(0.0, bounds::down(az - (std::isnan(R[i]) ? INFINITY : R[i])));
    const double tol_exact = bounds::down(t.tolerance.atol + bounds::down(t.tolerance.rtol * low));
    if (!(E[i] <= tol_exact)) s.within_proved = false;
    diff2 += (y[i] - z[i]) * (y[i] - z[i]);
    ref2 += z[i] * z[i];
    dot += y[i] * z[i];
    y2 += y[i] * y[i];
  }
  if (s.nonfinite) {
    s.normwise = INFINITY;
    s.cosine = 0;
    return;
  }
  s.normwise = ref2 > 0 ? std::sqrt(diff2 / ref2) : (diff2 > 0 ? INFINITY : 0.0);
  s.cosine = (ref2 > 0 && y2 > 0) ? dot / std::sqrt(ref2 * y2) : (ref2 == y2 ? 1.0 : 0.0);
}

/// Top-1 along the class axis at every pixel (classify: one pixel).
void judge_classes(const OutputTask& t, const double* y, const double* z, const double* E, const double* R, long n,
                   TaskSample& s) {
  const std::size_t a = static_cast<std::size_t>(t.class_axis);
  const long classes = static_cast<long>(t.shape[a]);
  long inner = 1;
  for (std::size_t d = a + 1; d < t.shape.size(); ++d) inner *= static_cast<long>(t.shape[d]);
  const long outer = n / (classes * inner);
  std::vector<double> yc(classes), zc(classes), rc(classes);
  for (long o = 0; o < outer; ++o)
    for (long i = 0; i < inner; ++i) {
      for (long c = 0; c < classes; ++c) {
        const long k = (o * classes + c) * inner + i;
        yc[c] = y[k], zc[c] = z[k], rc[c] = radius(E[k], R[k]);
      }
      const TopTwo ref = top_two(zc.data(), classes), got = top_two(yc.data(), classes);
      const double delta = max_distance(yc.data(), zc.data(), classes);
      const bool flipped = got.top1 != ref.top1 || std::isinf(delta);
      const bool observed = observed_certified(ref.margin, delta, 0.0);
      const bool bounded = radius_certified(zc.data(), rc.data(), classes);
      ++s.decisions;
      s.flipped += flipped;
      s.certified_observed += observed;
      s.certified_bound += bounded;
      s.violations += flipped && (observed || bounded);
      if (!std::isnan(ref.margin)) s.min_margin = std::fmin(s.min_margin, ref.margin);
    }
}

/// y > threshold per element.
void judge_threshold(const OutputTask& t, const double* y, const double* z, const double* E, const double* R, long n,
                     TaskSample& s) {
  const double th = t.threshold;
  for (long i = 0; i < n; ++i) {
    const bool flipped = std::isnan(y[i]) || std::isnan(z[i]) || (y[i] > th) != (z[i] > th);
    // y lies on z's side when |y − z| < |z − th|: compare the error rounded up with the distance
    // to the threshold rounded down (0 at the threshold: nothing is certified there).
    const double dist = std::isnan(z[i]) ? 0.0 : std::fmax(0.0, bounds::down(std::fabs(z[i] - th)));
    const double err = std::isfinite(y[i]) && std::isfinite(z[i]) ? bounds::up(std::fabs(y[i] - z[i])) : INFINITY;
    const bool observed = err < dist;
    const bool bounded = radius(E[i], R[i]) < dist;
    ++s.decisions;
    s.flipped += flipped;
    s.certified_observed += observed;
    s.certified_bound += bounded;
    s.violations += flipped && (observed || bounded);
    if (!std::isnan(z[i])) s.min_margin = std::fmin(s.min_margin, std::fabs(z[i] - th));
  }
}

}  // namespace

TaskSample judge_output(const OutputTask& task, const double* y, const double* z, const double* E, const double* R, long n) {
  TaskSample s;
  switch (task.kind) {
    case TaskKind::Regress: judge_regress(task, y, z, E, R, n, s); break;
    case TaskKind::Classify:
    case TaskKind::Segment: judge_classes(task, y, z, E, R, n, s); break;
    case TaskKind::Detect: judge_threshold(task, y, z, E, R, n, s); break;
  }
  return s;
}

void TaskSummary::add(const TaskSample& s) {
  ++samples;
  within_observed += s.within_observed;
  within_proved += s.within_proved;
  nonfinite += s.nonfinite;
  outside += s.outside;
  max_abs = std::fmax(max_abs, s.max_abs);
  max_normwise = std::fmax(max_normwise, s.normwise);
  sum_normwise += s.normwise;
  min_cosine = std::fmin(min_cosine, s.cosine);
  max_bound = std::fmax(max_bound, s.max_bound);
  max_bound_ratio = std::fmax(max_bound_ratio, s.bound_ratio);
  decisions += s.decisions;
  flipped += s.flipped;
  certified_observed += s.certified_observed;
  certified_bound += s.certified_bound;
  violations += s.violations;
  samples_flipped += s.flipped > 0;
  min_margin = std::fmin(min_margin, s.min_margin);
}

}  // namespace fpaudit
