#include "shadow/bound_check.h"

#include <cmath>

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

}  // namespace fpaudit
