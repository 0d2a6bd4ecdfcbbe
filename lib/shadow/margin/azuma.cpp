#include "shadow/margin/azuma.h"

#include <cmath>

#include "bounds/signed_sums.h"
#include "bounds/sums.h"
#include "shadow/margin/rounding.h"

namespace fpaudit::margin {

namespace {

/// x² rounded up (x ≥ 0).
double square_up(double x) { return bounds::up(x * x); }

/// The largest rounding depth of a sum of at most n terms under s: the kernel may skip terms
/// (padding), and the tree of fewer terms must be covered too.
long max_depth(const DotSchedule& s, long n) {
  long d = 0;
  for (long k = 1; k <= n; ++k) d = std::max(d, rounding_depth(s, k));
  return d;
}

}  // namespace

bool azuma_local(const BackwardStep& step, const bounds::ArithmeticModel& m, const double* mid, const double* rad,
                 std::span<const Tensor* const> rounded, AzumaLocal& out, const Tensor* lo, const Tensor* hi, double lambda) {
  // Round-to-nearest trees of roundings only: no tensor-core truncation, no saturation, no
  // reference-style exact sums (theory/margin-bound-azuma.md, assumptions).
  if (m.exact_sums || m.sum_rounded_to_storage || m.reference || m.schedule.order == SumOrder::TensorCore ||
      m.acc.saturates || m.storage.saturates)
    return false;
  thread_local BackwardStep::AbsSums a;
  const long K = step.abs_sums(mid, rad, rounded, a);
  if (K <= 0) return false;
  thread_local DotSchedule memo_schedule;
  thread_local long memo_k = -1, memo_d = 0;
  if (memo_k != K || !(memo_schedule == m.schedule)) {
    memo_k = K;
    memo_schedule = m.schedule;
    memo_d = max_depth(m.schedule, K);
  }
  const long d = memo_d;
  const double u = m.u_sum, eta = m.eta_sum;
  // Lemma 2: every partial result of the sum carries at most d − 1 roundings, so the value z_v a
  // rounding v of the tree rounds is at most g1·(A_v + Kη), A_v the Σ|t| of the terms below v;
  // Σ_v A_v² ≤ d·S², and a sum of K terms has at most 2K roundings.
  const double g1 = bounds::up(1 + bounds::rounding_growth(d - 1, u));
  const double root_d = bounds::up(std::sqrt(static_cast<double>(d)));
  const double under = bounds::up(bounds::up(static_cast<double>(K) * eta) * bounds::up(std::sqrt(2.0 * static_cast<double>(K))));
  const double sum_eta = bounds::up(static_cast<double>(K) * eta);
  // Lemma 2′: a sequential sum (every step rounds acc + t_k) on its signed-sum event, where every
  // prefix's accumulated δ-error is at most b: z_k ≤ w_k + b + Kη, and Σ_k z_k² ≤ (√V + √K(b + Kη))².
  // Where λu√K < 1/2, as the dot-product rule requires of that event (bounds/signed_sums.h).
  const double root_k = bounds::up(std::sqrt(static_cast<double>(K)));
  thread_local std::vector<double> V;
  const bool signed_form =
      lo && hi && bounds::signed_sum_holds(m, K, lambda) && step.prefix_variance(*lo, *hi, rounded, V) && V.size() == a.S.size();
  const bounds::SignedSumB b_of(m, lambda, K);  // b(V) per output, its constants once
  out.signed_events = 0;
  out.q.resize(a.S.size());
  out.h.resize(a.S.size());
  for (std::size_t i = 0; i < a.S.size(); ++i) {
    const double S = a.S[i];
    double q = square_up(bounds::up(u * bounds::up(g1 * bounds::up(bounds::up(root_d * S) + under))));
    if (signed_form) {
      const double b = b_of(V[i]);
      const double q_signed =
          square_up(bounds::up(u * bounds::up(bounds::up(std::sqrt(V[i])) + bounds::up(root_k * bounds::up(b + sum_eta)))));
      if (q_signed < q) {  // NaN never taken
        q = q_signed;
        ++out.signed_events;
      }
    }
    double h = sum_eta;
    const bounds::SumError sum = bounds::sum_error(m, K, S, 0);
    // z of the epilogue's roundings: |ŝ + b| ≤ |Σt + b| + |ŝ − Σt| ≤ Y + det, and ≤ |ŝ| + |b|.
    double z = bounds::min_num(bounds::up(a.Y[i] + sum.det), bounds::up(sum.magnitude + a.B[i]));
    if (a.B[i] != 0) {
      // y1 = round_A(ŝ + b) (the plain epilogue of theory/dot-product.md).
      q = bounds::up(q + square_up(bounds::up(m.acc.u * z)));
      h = bounds::up(h + m.acc.eta);
      z = bounds::up(z + m.acc.error(z));
    }
    if (m.storage_differs) {
      // y = round_S(y1) when storage and accumulation differ.
      q = bounds::up(q + square_up(bounds::up(m.storage.u * z)));
      h = bounds::up(h + m.storage.eta);
      z = bounds::up(z + m.storage.error(z));
    }
    // A value that may overflow: nothing is claimed.
    if (!(sum.magnitude < m.acc.max_finite) || !(z < m.storage.max_finite)) q = h = INFINITY;
    out.q[i] = bounds::nan_to_inf(q * bounds::safety(8));
    out.h[i] = bounds::nan_to_inf(h * bounds::safety(8));
  }
  return true;
}

}  // namespace fpaudit::margin
