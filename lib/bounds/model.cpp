#include "bounds/model.h"

#include <cmath>
#include <limits>

namespace fpaudit::bounds {

namespace {
/// Half the spacing of the subnormals (or, without them, the smallest normal): the most an
/// underflowing rounding to nearest can add in absolute terms.
double eta_of(const Format& f) { return f.subnormals ? 0.5 * min_positive(f) : min_normal(f); }
}  // namespace

ArithmeticModel ArithmeticModel::of(const Arithmetic& a) {
  ArithmeticModel m;
  m.schedule = a.schedule();
  m.max_storage = std::numeric_limits<double>::max();
  m.libm_rel = 2.0 * std::ldexp(1.0, -52);
  if (a.is_reference()) {
    // binary64 storage; sums exact (ExactArithmetic) then rounded once.
    m.u_storage = std::ldexp(1.0, -53);
    m.eta_storage = std::ldexp(1.0, -1075);
    m.exact_sums = a.name() == "exact";
    // mpfr:BITS rounds each step to BITS ≥ 64 bits, then the result once to binary64.
    m.u_acc = m.exact_sums ? 0.0 : std::ldexp(1.0, -64);
    m.eta_acc = 0.0;
    return m;
  }
  m.u_storage = unit_roundoff(a.storage());
  m.u_acc = unit_roundoff(a.accumulator());
  m.eta_storage = eta_of(a.storage());
  m.eta_acc = eta_of(a.accumulator());
  m.max_storage = max_finite(a.storage());
  return m;
}

double gamma(long k, double u) {
  const double ku = static_cast<double>(k) * u;
  return ku < 1 ? ku / (1 - ku) : std::numeric_limits<double>::infinity();
}

double gamma_probabilistic(long k, double u, double lambda) {
  return std::expm1(lambda * std::sqrt(static_cast<double>(k)) * u + static_cast<double>(k) * u * u / (1 - u));
}

double probabilistic_failure(long k, double u, double lambda) {
  const double p = 2.0 * static_cast<double>(k) * std::exp(-lambda * lambda * (1 - u) * (1 - u) / 2);
  return p < 1 ? p : 1.0;
}

}  // namespace fpaudit::bounds
