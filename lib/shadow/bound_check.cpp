#include "shadow/bound_check.h"

#include <cmath>

#include "format/format.h"

namespace fpaudit {

std::vector<double>* stats_scratch(long n) {
  thread_local std::vector<double> s[3];
  for (auto& v : s)
    if (static_cast<long>(v.size()) < n) v.resize(static_cast<std::size_t>(n));
  return s;
}

void check_bounds(BoundStats& b, const Tensor& y, const Tensor& r, const Tensor& det, const Tensor& prob, const Tensor& ref_err,
                  long sample, long element_base) {
  std::vector<double>* buf = stats_scratch(y.size());
  double *bound = buf[0].data(), *ratio = buf[1].data(), *prob_ratio = buf[2].data();
  Summary::Running bound_run = b.bound.running(), ratio_run = b.ratio.running(), prob_run = b.prob_ratio.running();
  std::size_t n = 0;
  for (long i = 0; i < y.size(); ++i) {
    const double yv = y.data[i], rv = r.data[i];
    const double tol = det.data[i] + ref_err.data[i];
    if (!(tol < INFINITY)) {
      ++b.unbounded;
      continue;
    }
    double observed;
    if (std::isfinite(yv) && std::isfinite(rv)) {
      // |y - r| computed in binary64 may round up by a factor (1 + 2^-53): allow exactly that.
      observed = std::fabs(yv - rv) * (1 - 0x1p-52);
    } else {
      // A finite bound says the value is finite (and within tol of a finite reference): only the
      // same infinity on both sides meets it.
      observed = yv == rv ? 0.0 : INFINITY;
    }
    bound_run.add(bound[n] = tol);
    ratio_run.add(ratio[n] = tol > 0 ? observed / tol : (observed > 0 ? INFINITY : 0.0));
    if (observed > tol) b.add_violation({sample, element_base + i, observed, tol});
    const double ptol = prob.data[i] + ref_err.data[i];
    prob_run.add(prob_ratio[n] = ptol > 0 ? observed / ptol : (observed > 0 ? INFINITY : 0.0));
    if (observed > ptol) ++b.prob_exceeded;
    ++n;
  }
  b.checked += n;
  b.bound.add_all({bound, n}, bound_run);
  b.ratio.add_all({ratio, n}, ratio_run);
  b.prob_ratio.add_all({prob_ratio, n}, prob_run);
}

/// Compares a chain's output tensor with the reference's, element by element.
void add_errors(ErrorStats& e, const Tensor& y, const Tensor& r, const UlpTable& ulp_of, long sample, long element_base) {
  std::vector<double>* buf = stats_scratch(y.size());
  double *abs_err = buf[0].data(), *rel_err = buf[1].data(), *ulps = buf[2].data();
  Summary::Running abs_run = e.abs.running(), rel_run = e.rel.running(), ulps_run = e.ulps.running();
  double diff2 = 0, ref2 = 0, dot = 0, y2 = 0;
  bool no_worst = e.worst.sample < 0;
  std::size_t n = 0, n_rel = 0;
  for (long i = 0; i < y.size(); ++i) {
    const double yv = y.data[i], rv = r.data[i];
    if (!std::isfinite(yv) || !std::isfinite(rv)) continue;
    const double abs = std::fabs(yv - rv);
    abs_run.add(abs_err[n] = abs);
    if (rv != 0) rel_run.add(rel_err[n_rel++] = abs / std::fabs(rv));
    const double u = abs * ulp_of.inverse(rv);  // = abs / ulp: ulp is a power of two
    // The first value ever, or one above every earlier one (ulps_run.max before this value),
    // moves the worst location.
    if (no_worst || u > ulps_run.max) e.worst = {sample, element_base + i}, no_worst = false;
    ulps_run.add(ulps[n++] = u);
    diff2 += (yv - rv) * (yv - rv);
    ref2 += rv * rv;
    dot += yv * rv;
    y2 += yv * yv;
  }
  e.abs.add_all({abs_err, n}, abs_run);
  e.rel.add_all({rel_err, n_rel}, rel_run);
  e.ulps.add_all({ulps, n}, ulps_run);
  if (ref2 > 0) e.normwise.add(std::sqrt(diff2 / ref2));
  const double cosine = (ref2 > 0 && y2 > 0) ? dot / std::sqrt(ref2 * y2) : (ref2 == y2 ? 1.0 : 0.0);
  e.min_cosine = std::fmin(e.min_cosine, cosine);
  e.sum_cosine += cosine;
  ++e.samples;
}

/// Records overflow, NaN, flush-to-zero, subnormals and magnitude of a chain's own values.
bool add_events(EventStats& ev, const Tensor& y, const Tensor& r, const Format& storage, long sample) {
  const double max = max_finite(storage), tiny = min_normal(storage);
  bool nonfinite = false;
  for (long i = 0; i < y.size(); ++i) {
    const double yv = y.data[i], rv = r.data[i];
    ++ev.elements;
    if (std::isnan(yv)) {
      if (!std::isnan(rv)) ++ev.nan, nonfinite = true;
      continue;
    }
    const double a = std::fabs(yv);
    if (std::isinf(yv) || (a == max && std::fabs(rv) > max)) {
      if (std::isfinite(rv)) ++ev.overflow;
      nonfinite = nonfinite || (std::isinf(yv) && std::isfinite(rv));
      if (std::isinf(yv)) continue;
    }
    if (yv == 0 && rv != 0) ++ev.flushed;
    if (yv != 0 && a < tiny) ++ev.subnormal;
    if (a > ev.max_magnitude) ev.max_magnitude = a;
  }
  if (nonfinite && ev.first_nonfinite_sample < 0) ev.first_nonfinite_sample = sample;
  return nonfinite;
}

}  // namespace fpaudit
