#include "bounds/sums.h"

#include <cmath>

#include "bounds/transfer.h"

namespace fpaudit::bounds {

SumError sum_error(const ArithmeticModel& m, long n, double S, double lambda) {
  SumError r;
  if (n <= 0) return r;
  if (m.exact_sums) {
    // One rounding of the exact sum into binary64.
    r.det = r.prob = m.storage.error(S);
  } else {
    const long depth = rounding_depth(m.schedule, n);
    const double growth = rounding_growth(depth, m.u_sum);
    // Every step may underflow once (n steps); what it adds is carried by the roundings above
    // it, at most depth - 1 of them.
    const double underflow = m.eta_sum > 0 ? static_cast<double>(n) * m.eta_sum * (1 + rounding_growth(depth - 1, m.u_sum)) : 0.0;
    r.det = (growth * S + underflow) * safety(4);
    const double gp = gamma_probabilistic(depth, m.u_sum, lambda);
    if (lambda > 0 && gp < growth) {
      r.prob = (gp * S + underflow) * safety(4);
      r.failure = probabilistic_failure(n, m.u_sum, lambda);
    } else {
      r.prob = r.det;
    }
    if (m.sum_rounded_to_storage) {
      // The finished sum, |ŝ| ≤ S + det, is rounded into binary64 once more (mpfr:BITS).
      const double last = m.storage.error(up(S + r.det));
      r.det = up(r.det + last);
      r.prob = up(r.prob + last);
    }
  }
  r.magnitude = up(S + r.det);
  // Every partial sum is at most S(1+u)^d + nη ≤ magnitude: below the accumulator's largest finite
  // value nothing overflows. Beyond, a partial sum may overflow and the theorem says nothing.
  if (!m.acc.saturates && !(r.magnitude < m.acc.max_finite)) {
    r.det = r.prob = r.magnitude = __builtin_inf();
    r.failure = 0;
  }
  return r;
}

}  // namespace fpaudit::bounds
