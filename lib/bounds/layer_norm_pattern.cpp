#include "bounds/layer_norm_pattern.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <vector>

#include "bounds/normalization_row.h"
#include "bounds/reductions.h"

namespace fpaudit::bounds {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

/// Theorem 1's local part: per j, a bound on |ŷ_j - n̂_j(x_c)| over every chain input x_c in the
/// box, each operator's own rule applied to the exact intermediate at x_c (theory/layernorm-pattern.md
/// §2): e_μ, e_d, e_q, e_v, e_w, e_s and finally the Div's. Also writes Dh[j] ≥ |d̂_j| and the
/// lower end of ŝ's enclosure (s_low), which the saturation bound reuses.
std::vector<double> local_chain(const ArithmeticModel& m, double lambda, const LayerNormPatternRow& row, const RowGeometry& g,
                                std::vector<double>& Dh, double& s_low) {
  const long n = row.n;
  const double nn = static_cast<double>(n);
  const Enclosure& x = *row.x;
  std::vector<std::int64_t> terms(static_cast<std::size_t>(n));
  std::iota(terms.begin(), terms.end(), std::int64_t{0});
  // Step 1, μ̂ = ReduceMean(x_c): its rule with exact inputs (the exact μ is of x_c itself).
  Tensor lo, hi, zero, q_hi, e_q;
  lo.data.assign(x.lo->data.begin() + row.base, x.lo->data.begin() + row.base + n);
  hi.data.assign(x.hi->data.begin() + row.base, x.hi->data.begin() + row.base + n);
  zero.data.assign(static_cast<std::size_t>(n), 0.0);
  const double e_mu = reduction_bound(m, lambda, {&lo, &hi, &zero, &zero}, 0, terms.data(), n, {true, nn}).det;
  const Operand mu{down(down(g.mean - g.mean_rad) - e_mu), up(up(g.mean + g.mean_rad) + e_mu), e_mu};
  // Steps 2-3, d̂_j = Sub(x_j, μ̂) and q̂_j = Pow(d̂_j, 2), against d_j(x_c) and d_j(x_c)².
  std::vector<double> e_d(static_cast<std::size_t>(n));
  q_hi.data.resize(e_d.size());
  e_q.data.resize(e_d.size());
  Dh.resize(e_d.size());
  for (long j = 0; j < n; ++j) {
    e_d[j] = add_bound(m, {lo.data[j], hi.data[j], 0.0}, mu, true);
    const double D = up(up(g.dmid[j] + g.hw[j]) + g.mean_hw);  // |d_j(x)| over the box
    Dh[j] = min_num(up(D + e_d[j]), row.d->magnitude(row.base + j));
    e_q.data[j] = pow_bound(m, {-Dh[j], Dh[j], e_d[j]}, {2.0, 2.0, 0.0});
    const double sq = up(Dh[j] * Dh[j]);
    q_hi.data[j] = up(sq + m.storage.error(sq));
  }
  // Step 4, v̂ = ReduceMean(q̂) against v(x_c) = mean d_j(x_c)²; v(x) ∈ [a², b²] over the box.
  const double v_err = reduction_bound(m, lambda, {&zero, &q_hi, &e_q, &e_q}, 0, terms.data(), n, {true, nn}).det;
  const double spread = up(norm2_up(g.hw) / std::sqrt(nn));
  const double a = max_num(0.0, down(g.sd_lo - spread)), b = up(g.sd_hi + spread);
  const Operand v{max_num(0.0, down(down(a * a) - v_err)), up(up(b * b) + v_err), v_err};
  // Step 5, ŵ = Add(v̂, ε_c) against v(x_c) + ε̄; ŵ ≥ ε_c since v̂ ≥ 0 and rounding is monotone.
  const Operand& eps = row.epsilon;
  const double eps_lo = max_num(0.0, down(eps.lo - eps.err)), eps_hi = up(eps.hi + eps.err);
  const double e_w = add_bound(m, v, eps, false);
  const double w_lo = down(down(a * a) + eps_lo), w_hi = up(up(b * b) + eps_hi);
  const Operand w{max_num(eps.lo, down(w_lo - e_w)), up(w_hi + e_w), e_w};
  // Step 6, ŝ = Sqrt(ŵ) against σ(x_c) = √(v(x_c) + ε̄) ≥ √w_lo.
  const double e_s = unary_fn_bound(m, UnaryFn::Sqrt, w);
  const double r = m.function_rel(UnaryFn::Sqrt, eps.lo);
  const double root_eps = down(down(std::sqrt(eps.lo)) * (1 - r));
  const double s_floor = down(root_eps - m.storage.error(up(std::sqrt(eps.lo))));
  s_low = max_num(max_num(s_floor, row.s->lo->data[row.s_at]), down(down(std::sqrt(w_lo)) - e_s));
  const double s_high = min_num(up(up(std::sqrt(w_hi)) + e_s), row.s->hi->data[row.s_at]);
  const Operand s{s_low, s_high, e_s};
  // Step 7, ŷ_j = Div(d̂_j, ŝ) against d_j(x_c)/σ(x_c) = n̂_j(x_c).
  std::vector<double> local(static_cast<std::size_t>(n));
  for (long j = 0; j < n; ++j) local[j] = div_bound(m, {-Dh[j], Dh[j], e_d[j]}, s);
  return local;
}

/// Theorem 2's bound on the chain's own |ŷ_j|, whatever its input: ŝ is computed from the same
/// d̂ (theory/layernorm-pattern.md, Lemma 2). Every rounding is monotone and the sum's terms are
/// nonnegative, so v̂ ≥ round(round(d̂_j²)/n) and ŵ ≥ max(v̂, ε_c): with each rounding within
/// U·|t| + H of t, ŝ ≥ k·√ŵ and |d̂_j|/ŝ ≤ (1/k)·√((ε_c + c2)/(c1·ε_c)), c1 = (1-U)²/n,
/// c2 = H(1 + 1/n), k = (1 - r)(1 - U) - H/√ε_c. +Inf when ε_c = 0 or k ≤ 0.
double chain_output_magnitude(const ArithmeticModel& m, long n, double eps_c) {
  if (!(eps_c > 0)) return kInf;
  const double nn = static_cast<double>(n);
  const double U = up(up(m.storage.u * (1 + 0x1p-50)) + 0x1p-1074);
  const double H = up(up(m.storage.eta * (1 + 0x1p-50)) + 0x1p-1074);
  const double r = m.function_rel(UnaryFn::Sqrt, std::sqrt(eps_c));
  const double k = down(down(down(1 - r) * down(1 - U)) - up(H / down(std::sqrt(eps_c))));
  if (!(k > 0)) return kInf;
  const double c1 = down(down(down(1 - U) * down(1 - U)) / nn);
  const double c2 = up(H * up(1 + up(1 / nn)));
  const double ratio = up(up(std::sqrt(up(up(eps_c + c2) / down(c1 * eps_c)))) / k);
  return up(up(ratio * up(1 + U)) + H);
}

}  // namespace

void layer_norm_pattern_bound(const ArithmeticModel& m, double lambda, const LayerNormPatternRow& row, Tensor& det,
                              Tensor& prob) {
  const long n = row.n;
  const Enclosure& x = *row.x;
  for (long j = 0; j < n; ++j)
    if (std::isnan(x.lo->data[row.base + j]) || std::isnan(x.hi->data[row.base + j]) || std::isnan(x.err->data[row.base + j]))
      return;  // the Div rule's bounds stand
  if (std::isnan(row.epsilon.lo) || !(row.epsilon.lo >= 0)) return;
  const RowGeometry g = row_geometry(x, row.base, n);
  std::vector<double> Dh;
  double s_low = 0;
  const std::vector<double> local = local_chain(m, lambda, row, g, Dh, s_low);
  // |n̂_j| ≤ √(n - 1) for every input and ε ≥ 0 (theory/layernorm-pattern.md, Lemma 1).
  const double cap = up(std::sqrt(static_cast<double>(n - 1)));
  const double eps_lo = max_num(0.0, down(row.epsilon.lo - row.epsilon.err));
  const double y_any = chain_output_magnitude(m, n, row.epsilon.lo);
  auto lower = [&](const Tensor& err, Tensor& out) {
    std::vector<double> E(static_cast<std::size_t>(n));
    for (long j = 0; j < n; ++j) E[j] = err.data[row.base + j];
    const NormalisedDrift nd = normalised_drift(g, E, eps_lo, cap);
    for (long j = 0; j < n; ++j) {
      // Theorem 1: local chain plus drift; Theorem 2: |ŷ_j| + |n̂_j(x̄)|, |ŷ_j| ≤ |d̂_j|/ŝ rounded.
      const double chained = nan_to_inf(up(up(local[j] + nd.drift[j]) * safety(4)));
      // Lemma 2 needs d̂_j finite (Dh bounds it) and, where storage saturates instead of
      // overflowing, d̂_j² below the largest finite value (a saturated q̂_j would shrink ŝ).
      const bool lemma2 = Dh[j] < kInf && (!m.storage.saturates || up(Dh[j] * Dh[j]) <= m.storage.max_finite);
      double y_mag = lemma2 ? y_any : kInf;
      if (s_low > 0) {
        const double y = up(Dh[j] / s_low);
        y_mag = min_num(y_mag, up(y + m.storage.error(y)));
      }
      const double saturated = nan_to_inf(up(up(y_mag + nd.nu[j]) * safety(4)));
      double& b = out.data[row.base + j];
      b = min_num(b, min_num(chained, saturated));
    }
  };
  lower(*x.err, det);
  lower(*x.err_prob, prob);
  for (long j = 0; j < n; ++j) prob.data[row.base + j] = min_num(prob.data[row.base + j], det.data[row.base + j]);
}

}  // namespace fpaudit::bounds
