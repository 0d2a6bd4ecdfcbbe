#include "bounds/sums.h"

#include <cmath>

#include "bounds/sum_constants.h"
#include "bounds/transfer.h"

namespace fpaudit::bounds {

SumError sum_error(const ArithmeticModel& m, long n, double S, double lambda) {
  SumError r;
  if (n <= 0) return r;
  if (m.exact_sums) {
    // One rounding of the exact sum into binary64.
    r.det = r.prob = m.storage.error(S);
  } else {
    // Theorem 1 for the IEEE schedules, the tensor-core rule for tensor-core blocks.
    // The constants depend on the schedule, n, the formats and λ only, and one operator asks for
    // the same ones once per output element: remember the last set per thread (the powering,
    // expm1 and exp behind them cost more than everything else in a GEMM's bound).
    struct Memo {
      DotSchedule schedule;
      long n = -1;
      double u = 0, eta = 0, lambda = 0;
      SumConstants c;
    };
    thread_local Memo memo;
    if (memo.n != n || !(memo.schedule == m.schedule) || memo.u != m.u_sum || memo.eta != m.eta_sum || memo.lambda != lambda)
      memo = {m.schedule, n, m.u_sum, m.eta_sum, lambda, sum_constants(m.schedule, n, m.u_sum, m.eta_sum, lambda)};
    const SumConstants& c = memo.c;
    r.det = (c.gamma * S + c.eta) * safety(4);
    r.prob = (c.gamma_prob * S + c.eta) * safety(4);
    r.failure = c.failure;
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
