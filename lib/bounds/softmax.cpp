#include "bounds/softmax.h"

#include <cmath>
#include <limits>
#include <vector>

#include "bounds/sums.h"

namespace fpaudit::bounds {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

/// sup and inf of p_i = softmax_i over the box Π [L_j, H_j], for every i of the row, in O(n):
///   p_i ≤ 1 / (1 + Σ_{j≠i} e^(L_j - H_i)),   p_i ≥ 1 / (1 + Σ_{j≠i} e^(H_j - L_i)),
/// the sums taken relative to c = max H and corrected outward.
void probability_range(const std::vector<double>& L, const std::vector<double>& H, std::vector<double>& p_hi,
                       std::vector<double>& p_lo) {
  const std::size_t n = L.size();
  double c = -kInf;
  for (double h : H) c = max_num(c, h);
  double sl = 0, sh = 0;
  for (std::size_t j = 0; j < n; ++j) {
    sl += down_libm(std::exp(down(L[j] - c)));
    sh += up_libm(std::exp(up(H[j] - c)));
  }
  // Sums of values, no products: no underflow allowance (theory/bounds-arithmetic.md §1(a)).
  sl = safe_sum_down(sl, static_cast<long>(n), 0);
  sh *= safety(static_cast<long>(n));
  for (std::size_t i = 0; i < n; ++i) {
    // Σ_{j≠i} e^(L_j - c) ≥ sl - e^(L_i - c), then scaled by e^(c - H_i) (lower bounds).
    double others_lo = down(sl - up_libm(std::exp(up(L[i] - c))));
    double below = others_lo > 0 ? down(others_lo * down_libm(std::exp(down(c - H[i])))) : 0.0;
    if (std::isnan(below)) below = 0;
    p_hi[i] = min_num(1.0, up(1 / down(1 + below)));
    double others_hi = up(sh - down_libm(std::exp(down(H[i] - c))));
    double above = others_hi > 0 ? up(others_hi * up_libm(std::exp(up(c - L[i])))) : 0.0;
    if (std::isnan(above)) above = kInf;
    p_lo[i] = max_num(0.0, down(1 / up(1 + above)));
  }
}

}  // namespace

double softmax_bound(const ArithmeticModel& m, double lambda, const Enclosure& x, const SoftmaxRow& row, bool log_softmax,
                     Tensor& det, Tensor& prob) {
  const long n = row.length;
  auto at = [&](long j) { return row.base + j * row.stride; };
  // ---- the chain's values: lo ≤ x_c ≤ hi ------------------------------------------------
  double max_lo = -kInf, max_hi = -kInf;
  bool nan = false;
  for (long j = 0; j < n; ++j) {
    const double l = x.lo->data[at(j)], h = x.hi->data[at(j)];
    nan = nan || std::isnan(l) || std::isnan(h) || std::isnan(x.err->data[at(j)]) || std::isnan(x.err_prob->data[at(j)]);
    max_lo = max_num(max_lo, l);
    max_hi = max_num(max_hi, h);
  }
  if (nan || !std::isfinite(max_hi) || !std::isfinite(max_lo)) {
    for (long j = 0; j < n; ++j) det.data[at(j)] = prob.data[at(j)] = kInf;
    return 0;
  }
  const double r = m.function_rel(UnaryFn::Exp, 0), alpha = m.libm_abs;
  std::vector<double> a_hi(n), D(n), eps(n);
  double A_hi = 0, A_lo = 0, E_sum = 0;
  for (long j = 0; j < n; ++j) {
    const double l = x.lo->data[at(j)], h = x.hi->data[at(j)];
    // a_j = exp(x_j - m) ∈ [exp(l - max hi), exp(min(0, h - max lo))]; 0 ≤ m - x_j ≤ D_j.
    a_hi[j] = min_num(1.0, up_libm(std::exp(min_num(0.0, up(h - max_lo)))));
    A_hi += a_hi[j];
    A_lo += down_libm(std::exp(down(l - max_hi)));
    D[j] = up(max_hi - l);
    // d_j = round_S(x_j - m) is within δ_j of x_j - m; e_j = round_S(exp_64(d_j)) is within
    // ε_j of a_j: exp(d_j) ≤ a_j·e^δ_j ≤ 1, and the libm and rounding errors on top.
    const double delta = m.storage.error(D[j]);
    const double grow = up_libm(std::expm1(delta));
    const double e_top = min_num(1.0, up(a_hi[j] * up(1 + grow)));
    eps[j] = up(up(a_hi[j] * grow) + m.storage.error(up(e_top * (1 + r) + alpha)) + up(r * e_top) + alpha);
    E_sum += eps[j];
  }
  // Sums of values, no products (theory/bounds-arithmetic.md §1(a)).
  A_hi *= safety(n);
  A_lo = max_num(1.0, safe_sum_down(A_lo, n, 0));  // the maximum contributes exp(0) = 1
  E_sum *= safety(n);
  // ŝ = Σ e_j in A: |ŝ - Σ e_j| by the sum rule with Σ|e_j| ≤ A_hi + E_sum; |ŝ - A| ≤ Δs.
  const SumError sum = sum_error(m, n, up(A_hi + E_sum), lambda);
  const double ds_det = up(sum.det + E_sum), ds_prob = up(sum.prob + E_sum);

  // ---- propagation: p over the box [lo - E, hi + E] ----------------------------------------
  std::vector<double> L(n), H(n), p_hi(n), p_lo(n), box_hi(n, 1.0), box_lo(n, 0.0);
  double Emax_det = 0, Emax_prob = 0;
  for (long j = 0; j < n; ++j) {
    L[j] = x.lo->data[at(j)];
    H[j] = x.hi->data[at(j)];
    Emax_det = max_num(Emax_det, x.err->data[at(j)]);
    Emax_prob = max_num(Emax_prob, x.err_prob->data[at(j)]);
  }
  probability_range(L, H, p_hi, p_lo);  // over [lo, hi]: the local part's p_i
  if (std::isfinite(Emax_det) && std::isfinite(Emax_prob)) {
    // The box holds x̄ under either error bound (each element's larger one).
    for (long j = 0; j < n; ++j) {
      const double e = max_num(x.err->data[at(j)], x.err_prob->data[at(j)]);
      L[j] = down(L[j] - e);
      H[j] = up(H[j] + e);
    }
    probability_range(L, H, box_hi, box_lo);
  }

  for (long i = 0; i < n; ++i) {
    const long o = at(i);
    const double Ed = x.err->data[o], Ep = x.err_prob->data[o];
    double local_det, local_prob, slope;
    if (!log_softmax) {
      // q_i = e_i/ŝ ≤ 1; |q_i - p_i| ≤ (ε_i + p_i·Δs)/ŝ, ŝ ≥ max(1, A_lo - Δs).
      auto local = [&](double ds) {
        const double s_lo = max_num(1.0, down(A_lo - ds));
        const double q_err = up(up(eps[i] + up(p_hi[i] * ds)) / s_lo);
        const double q_top = min_num(1.0, up(p_hi[i] + q_err));
        return up(q_err + m.storage.error(q_top));
      };
      local_det = local(ds_det);
      local_prob = local(ds_prob);
      // sup p(1-p) over the box.
      slope = min_num(0.25, min_num(box_hi[i], up(1 - box_lo[i])));
    } else {
      // y_i = round_S(d_i - ℓ), ℓ = round_A(log_64 ŝ): d_i within δ_i of x_i - m, log ŝ within
      // Δs/min(ŝ, A) of log A, ℓ within the log's rounding of log ŝ ∈ [0, log(A_hi + Δs)].
      auto local = [&](double ds) {
        const double delta = m.storage.error(D[i]);
        const double s_lo = max_num(1.0, down(A_lo - ds));
        const double log_err = up(ds / s_lo);
        const double Lg = up_libm(std::log(up(A_hi + ds)));
        const double rl = m.function_rel(UnaryFn::Log, 0);
        const double ell_err = up(m.acc.error(up(Lg * (1 + rl) + alpha)) + up(rl * Lg) + alpha);
        const double out = m.storage.error(up(up(D[i] + delta) + up(Lg + ell_err)));
        return up(up(delta + log_err) + up(ell_err + out));
      };
      local_det = local(ds_det);
      local_prob = local(ds_prob);
      slope = min_num(1.0, up(1 - box_lo[i]));
    }
    // One product, by the slope (theory/bounds-arithmetic.md §1(a)).
    double d = nan_to_inf(safe_sum(local_det + slope * up(Ed + Emax_det), n + 48, 1));
    double p = nan_to_inf(safe_sum(local_prob + slope * up(Ep + Emax_prob), n + 48, 1));
    if (!log_softmax) {  // both values lie in [0, 1]
      d = min_num(d, 1.0);
      p = min_num(p, 1.0);
    }
    det.data[o] = d;
    prob.data[o] = min_num(p, d);
  }
  return sum.failure;
}

}  // namespace fpaudit::bounds
