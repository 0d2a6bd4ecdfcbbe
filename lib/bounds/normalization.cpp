#include "bounds/normalization.h"

#include <cmath>
#include <limits>
#include <vector>

#include "bounds/normalization_row.h"
#include "bounds/sums.h"

namespace fpaudit::bounds {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
}  // namespace

// ---- BatchNormalization ----------------------------------------------------------------

BatchNormFold batchnorm_fold(const ArithmeticModel& m, Operand gamma, Operand beta, Operand mean, Operand var, double epsilon) {
  BatchNormFold f;
  const double g = gamma.lo, b = beta.lo, mu = mean.lo, v = var.lo;  // the chain's constants (points)
  const double t_lo = down(v + epsilon), t_hi = up(v + epsilon);
  const double v_min = down(down(v - var.err) + epsilon);  // σ̄² + ε along the way to the exact constants
  if (!(t_lo > 0) || !(v_min > 0) || std::isnan(g + b + mu + v)) {
    f.scale = f.shift = {-kInf, kInf};
    f.scale_err = f.shift_err = kInf;
    return f;
  }
  // s_c = γ/√(σ²+ε) at the chain's constants; the binary64 fold rounds three times (add, sqrt,
  // divide: within γ_3(2^-53) < 2^-51 relative), then into storage once.
  const Interval s = Interval::point(g) * Interval{down(1 / up(std::sqrt(t_hi))), up(1 / down(std::sqrt(t_lo)))};
  const double s64 = up(s.magnitude() * 0x1p-51);
  f.scale = s.widen(up(s64 + m.storage.error(up(s.magnitude() + s64))));
  // |s(γ_c, σ_c²) - s(γ̄, σ̄²)| ≤ sup|∂s/∂γ|·E_γ + sup|∂s/∂σ²|·E_σ², with ∂s/∂γ = (σ²+ε)^(-1/2)
  // and ∂s/∂σ² = -γ/2·(σ²+ε)^(-3/2), both largest at σ̄² + ε ≥ v_min.
  const double rs = up(1 / down(std::sqrt(v_min)));
  const double slope_v = up(up(std::fabs(g) + gamma.err) * 0.5 * up(rs * up(rs * rs)));
  f.scale_err = up(up(f.scale.hi - f.scale.lo) + up(up(gamma.err * rs) + up(slope_v * var.err)));
  // shift = round_S(fma(-μ, scale, β)): one binary64 rounding, one into storage.
  const Interval h = Interval::point(b) - Interval::point(mu) * f.scale;
  const double h64 = up(h.magnitude() * 0x1p-53);
  f.shift = h.widen(up(h64 + m.storage.error(up(h.magnitude() + h64))));
  // |ĥ - h̄| ≤ |ĥ - h_c(ŝ)| + E_β + |μ_c|·|ŝ - s̄| + E_μ·|s̄|.
  f.shift_err = up(up(up(f.shift.hi - f.shift.lo) + beta.err) +
                   up(up(std::fabs(mu) * f.scale_err) + up(mean.err * up(f.scale.magnitude() + f.scale_err))));
  return f;
}

// ---- LayerNormalization ------------------------------------------------------------------

double layernorm_bound(const ArithmeticModel& m, double lambda, const LayerNormRow& row, Tensor& det, Tensor& prob) {
  const long n = row.n;
  const double nn = static_cast<double>(n), eps = row.epsilon;
  const Enclosure& x = *row.x;
  const RowGeometry g = row_geometry(x, row.x_base, n);
  const double root_n = up(std::sqrt(nn));
  auto gamma_of = [&](long j) { return operand_at(*row.gamma, row.gamma_at[j], false); };
  auto beta_of = [&](long j) { return row.beta ? operand_at(*row.beta, row.beta_at[j], false) : Operand{}; };
  bool bad = std::isnan(g.S1) || !std::isfinite(g.S1);
  for (long j = 0; j < n && !bad; ++j) bad = std::isnan(x.err->data[row.x_base + j]);

  // ---- local: the chain's evaluation against the exact function at its own values ----------
  // |d_j| ≤ D_j over the box; v ∈ [a², b²] with a, b the standard deviation's bounds.
  const double spread = up(norm2_up(g.hw) / std::sqrt(nn));
  const double a = max_num(0.0, down(g.sd_lo - spread)), b = up(g.sd_hi + spread);
  std::vector<double> D(static_cast<std::size_t>(n));
  for (long j = 0; j < n; ++j) D[j] = up(up(g.dmid[j] + g.hw[j]) + g.mean_hw);
  auto local_errors = [&](bool probabilistic, std::vector<double>& out) -> double {
    const SumError s1 = sum_error(m, n, g.S1, lambda);
    const double e_sum1 = probabilistic ? s1.prob : s1.det;
    // μ̂ = round_A(ŝ/n): within e_mu of the exact mean.
    const double e_mu = up(up(e_sum1 / nn) + m.acc.error(up(s1.magnitude / nn)));
    // d̂_j = round_A(x_j - μ̂): within e_d[j] of d_j.
    std::vector<double> e_d(static_cast<std::size_t>(n));
    double S2 = 0, dq = 0;
    for (long j = 0; j < n; ++j) {
      e_d[j] = up(e_mu + m.acc.error(up(D[j] + e_mu)));
      const double dm = up(D[j] + e_d[j]);
      S2 += dm * dm;
      dq += (2 * D[j] + e_d[j]) * e_d[j];
    }
    S2 = safe_sum(S2, n + 2, n);  // n products each (theory/bounds-arithmetic.md §1(a))
    dq = safe_sum(dq, n + 4, n);
    const SumError s2 = sum_error(m, n, S2, lambda);
    const double e_sum2 = probabilistic ? s2.prob : s2.det;
    // A finished Σd̂² beyond the accumulator's range is +Inf, and then r̂ = 0: y = round_S(β).
    const bool may_overflow = !(up(S2 + s2.det) < m.acc.max_finite);
    const double e_v = up(up(up(e_sum2 + dq) / nn) + m.acc.error(up(s2.magnitude / nn)));
    const double e_w = up(e_v + m.acc.error(up(up(up(b * b) + eps) + e_v)));
    const double w_lo = down(down(down(a * a) + eps) - e_w);
    double r_hi = kInf, e_r = kInf;
    if (w_lo > 0) {
      const double inv = up(1 / down(std::sqrt(w_lo)));  // ≥ w^(-1/2) and ≥ r
      const double rho = m.function_rel(UnaryFn::Rsqrt, 0);
      r_hi = inv;
      // |w^(-1/2) - r| ≤ ½·w_lo^(-3/2)·e_w; rsqrt_64 within ρ; then one rounding into A.
      e_r = up(up(0.5 * up(inv * up(inv * inv)) * e_w) + up(up(rho * inv) + m.acc.error(up(inv * (1 + rho)))));
    }
    const double r_hat = up(r_hi + e_r);
    for (long j = 0; j < n; ++j) {
      const Operand gj = gamma_of(j), bj = beta_of(j);
      const double G = gj.magnitude(), B = bj.magnitude();
      // p̂_j = round_A(d̂_j·r̂): |p̂_j - d_j r| ≤ |d̂_j||r̂ - r| + |d̂_j - d_j|·r + rounding.
      const double dh = up(D[j] + e_d[j]);
      const double e_p = up(up(up(dh * e_r) + up(e_d[j] * r_hi)) + m.acc.error(up(dh * r_hat)));
      const double y_mag = up(up(up(up(D[j] * r_hi) + e_p) * G) + B);
      double local = nan_to_inf(up(up(G * e_p) + m.storage.error(y_mag)));
      if (may_overflow) {
        // y_c = round_S(β_j) (or 0): |y_c - y*_j| ≤ |γ_j|·|d_j r| + u_S|β_j| + η_S, |d_j r| ≤ √n.
        const double dr = std::isinf(r_hi) ? root_n : min_num(root_n, up(D[j] * r_hi));
        local = max_num(local, up(up(G * dr) + m.storage.error(B)));
      }
      out[j] = local;
    }
    // The row's probabilistic bound needs both sums' events: the union bound adds their failure
    // probabilities (theory/normalization.md, Theorem 4).
    return probabilistic ? min_num(1.0, up(s1.failure + s2.failure)) : 0.0;
  };
  std::vector<double> local_det(static_cast<std::size_t>(n)), local_prob(local_det.size());
  local_errors(false, local_det);
  const double failure = local_errors(true, local_prob);

  // ---- propagation: |γ_c n̂(x_c) + β_c - γ̄ n̂(x̄) - β̄|, n̂(x) = (x - μ)/√(v + ε) --------------
  // ∇n̂_j·Δ = (Δ_j - mean Δ - n̂_j·Σ n̂_k Δ_k / n)/σ along the segment, with σ ≥ σ_min over the
  // box [lo - E, hi + E] and |Σ n̂_k Δ_k| ≤ √n·‖E‖₂.
  auto propagate = [&](const std::vector<double>& E, const std::vector<double>& local, Tensor& out) {
    const NormalisedDrift nd = normalised_drift(g, E, eps, root_n);
    for (long j = 0; j < n; ++j) {
      const Operand gj = gamma_of(j), bj = beta_of(j);
      const double prop = up(up(gj.magnitude() * nd.drift[j]) + up(up(gj.err * up(nd.nu[j])) + bj.err));
      out.data[row.x_base + j] = bad ? kInf : nan_to_inf(up(local[j] + prop) * safety(4));
    }
  };
  std::vector<double> Ed(static_cast<std::size_t>(n)), Ep(Ed.size());
  for (long j = 0; j < n; ++j) {
    Ed[j] = x.err->data[row.x_base + j];
    Ep[j] = x.err_prob->data[row.x_base + j];
  }
  propagate(Ed, local_det, det);
  propagate(Ep, local_prob, prob);
  for (long j = 0; j < n; ++j)
    prob.data[row.x_base + j] = min_num(prob.data[row.x_base + j], det.data[row.x_base + j]);
  return failure;
}

}  // namespace fpaudit::bounds
