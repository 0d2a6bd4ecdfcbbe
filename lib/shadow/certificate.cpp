#include "shadow/certificate.h"

#include <cmath>

#include "bounds/transfer.h"

namespace fpaudit {

bool radius_certified(const double* z, const double* r, long n) {
  if (n <= 0) return false;
  long t = 0;
  for (long j = 0; j < n; ++j) {
    if (std::isnan(z[j]) || std::isnan(r[j])) return false;
    if (z[j] > z[t]) t = j;
  }
  for (long j = 0; j < n; ++j) {
    if (j == t) continue;
    // z_t - z_j rounded down against r_t + r_j rounded up: the comparison errs on the safe side.
    if (!(bounds::down(z[t] - z[j]) > bounds::up(r[t] + r[j]))) return false;
  }
  return true;
}

std::vector<double> radius_sum(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> r(a.size());
  for (std::size_t j = 0; j < a.size(); ++j) r[j] = bounds::up(a[j] + b[j]);
  return r;
}

AprioriVerdict certify_a_priori(const std::vector<double>& z, const std::vector<double>& R, const AprioriState& chain,
                                const AprioriState* fp32, int slot) {
  const long n = static_cast<long>(z.size());
  auto certified = [&](const std::vector<double>& E) { return radius_certified(z.data(), radius_sum(E, R).data(), n); };
  auto larger = [](const std::vector<double>& a, const std::vector<double>& b) {
    std::vector<double> m(a.size());
    for (std::size_t j = 0; j < a.size(); ++j) m[j] = std::fmax(a[j], b[j]);
    return m;
  };
  const std::vector<double>& d = chain.det(slot).data;
  const std::vector<double>& p = chain.prob(slot).data;
  AprioriVerdict v;
  v.chain = {certified(d), certified(p)};
  if (fp32) v.with_fp32 = {certified(larger(d, fp32->det(slot).data)), certified(larger(p, fp32->prob(slot).data))};
  v.failure = probability_sum(chain.failure_probability(), !fp32 || &chain == fp32 ? 0.0 : fp32->failure_probability());
  for (long j = 0; j < n; ++j) v.delta_bound = std::fmax(v.delta_bound, bounds::up(d[j] + R[j]));
  return v;
}

}  // namespace fpaudit
