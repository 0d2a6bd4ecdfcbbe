#include "bounds/sums.h"

namespace fpaudit::bounds {

SumError sum_error(const ArithmeticModel& m, long n, double S, double lambda) {
  if (n <= 0 || m.exact_sums) return sum_error(m, n, SumConstants{}, S);
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
    memo = {m.schedule, n, m.u_sum, m.eta_sum, lambda, sum_error_constants(m, n, lambda)};
  return sum_error(m, n, memo.c, S);
}

}  // namespace fpaudit::bounds
