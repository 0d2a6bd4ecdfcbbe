#include "bounds/reductions.h"

#include <cmath>

#include "bounds/sums.h"

namespace fpaudit::bounds {

ElementBound reduction_bound(const ArithmeticModel& m, double lambda, const Enclosure& x, long offset,
                             const std::int64_t* terms, long n, ReductionFinish finish) {
  double S = 0, Ed = 0, Ep = 0;
  for (long k = 0; k < n; ++k) {
    const long i = offset + static_cast<long>(terms[k]);
    S += x.magnitude(i);
    Ed += x.err->data[i];
    Ep += x.err_prob->data[i];
  }
  // Sums of values, no products: no underflow allowance (theory/bounds-arithmetic.md §1(a)).
  const double safe = safety(n + 2);
  S *= safe;
  Ed *= safe;
  Ep *= safe;
  const SumError sum = sum_error(m, n, S, lambda);
  ElementBound b;
  b.failure = sum.failure;
  if (finish.divide) {
    // round_S(ŝ/c): the division rounds once into storage; errors scale by 1/c.
    const double c = finish.divisor;
    const double last = m.storage.error(up(sum.magnitude / c));
    b.det = nan_to_inf(up(up(up(sum.det + Ed) / c) + last) * safety(2));
    b.prob = nan_to_inf(up(up(up(sum.prob + Ep) / c) + last) * safety(2));
  } else {
    const double last = m.storage_differs ? m.storage.error(sum.magnitude) : 0.0;
    b.det = nan_to_inf(up(up(sum.det + Ed) + last));
    b.prob = nan_to_inf(up(up(sum.prob + Ep) + last));
  }
  b.prob = std::fmin(b.det, b.prob);  // the probabilistic bound never needs to exceed the certain one
  return b;
}

ElementBound gathered_dot_bound(const ArithmeticModel& m, double lambda, const Enclosure& a, const std::int64_t* a_terms,
                                const Enclosure& b, const std::int64_t* b_terms, long n) {
  // |â b̂ - ā b̄| ≤ |â|E_b + E_a|b̂| + E_a E_b per term, as in matmul_bound.
  double S = 0, Ed = 0, Ep = 0;
  for (long k = 0; k < n; ++k) {
    const long i = static_cast<long>(a_terms[k]), j = static_cast<long>(b_terms[k]);
    const double am = a.magnitude(i), bm = b.magnitude(j);
    const double ead = a.err->data[i], eap = a.err_prob->data[i], ebd = b.err->data[j], ebp = b.err_prob->data[j];
    S += am * bm;
    Ed += am * ebd + ead * (bm + ebd);
    Ep += am * ebp + eap * (bm + ebp);
  }
  // n products in S, two per term in Ed and Ep (theory/bounds-arithmetic.md §1(a)).
  S = safe_sum(S, n + 4, n);
  Ed = safe_sum(Ed, n + 4, 2 * n);
  Ep = safe_sum(Ep, n + 4, 2 * n);
  ElementBound out;
  const SumError sum = sum_error(m, n, S, lambda);
  // The finished sum, in A, is rounded into storage (no rounding when S = A).
  const double last = m.storage_differs ? m.storage.error(sum.magnitude) : 0.0;
  out.failure = sum.failure;
  out.det = nan_to_inf((sum.det + Ed + last) * safety(4));
  out.prob = std::fmin(out.det, nan_to_inf((sum.prob + Ep + last) * safety(4)));
  return out;
}

ElementBound interpolation_bound(const ArithmeticModel& m, double lambda, const Enclosure& x, const std::int64_t* terms,
                                 const double* weights, long n) {
  // The chain's weight ĉ_k is within e_k = u_S|c_k| + η_S of c_k, so (as in the dot-product
  // rule with an inexact constant operand) Σ ĉx_c - Σ cx̄ ≤ Σ (|c| + e)E + e·|x_c|.
  double S = 0, Ed = 0, Ep = 0;
  for (long k = 0; k < n; ++k) {
    const long i = static_cast<long>(terms[k]);
    const double c = std::fabs(weights[k]);
    const double e = m.storage.error(c);
    const double cm = c + e, xm = x.magnitude(i);
    S += cm * xm;
    Ed += cm * x.err->data[i] + e * xm;
    Ep += cm * x.err_prob->data[i] + e * xm;
  }
  // n products in S, two per term in Ed and Ep (theory/bounds-arithmetic.md §1(a)).
  S = safe_sum(S, n + 4, n);
  Ed = safe_sum(Ed, n + 4, 2 * n);
  Ep = safe_sum(Ep, n + 4, 2 * n);
  const SumError sum = sum_error(m, n, S, lambda);
  const double last = m.storage_differs ? m.storage.error(sum.magnitude) : 0.0;
  const double det = nan_to_inf(up(up(sum.det + Ed) + last));
  return {det, std::fmin(det, nan_to_inf(up(up(sum.prob + Ep) + last))), sum.failure};
}

}  // namespace fpaudit::bounds
