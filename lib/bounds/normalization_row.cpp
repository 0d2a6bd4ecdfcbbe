#include "bounds/normalization_row.h"

#include <cmath>
#include <limits>

#include "bounds/model.h"

namespace fpaudit::bounds {

RowGeometry row_geometry(const Enclosure& x, long base, long n) {
  RowGeometry g;
  g.mid.resize(static_cast<std::size_t>(n));
  g.hw.resize(g.mid.size());
  g.dmid.resize(g.mid.size());
  double sum_mid = 0, sum_abs_mid = 0;
  for (long j = 0; j < n; ++j) {
    const double lo = x.lo->data[base + j], hi = x.hi->data[base + j];
    g.mid[j] = 0.5 * (lo + hi);
    g.hw[j] = max_num(up(hi - g.mid[j]), up(g.mid[j] - lo));
    g.S1 += x.magnitude(base + j);
    g.mean_hw += g.hw[j];
    sum_mid += g.mid[j];
    sum_abs_mid += std::fabs(g.mid[j]);
  }
  const double nn = static_cast<double>(n);
  g.S1 *= safety(n);
  g.mean_hw = up(g.mean_hw * safety(n) / nn);
  // c: the binary64 mean of mid, within rc of the exact mean of mid.
  const double c = sum_mid / nn;
  const double rc = up(up(gamma(n + 2, 0x1p-53) * sum_abs_mid) / nn);
  g.mean = c;
  g.mean_rad = up(rc + g.mean_hw);  // |mean(x) - mean(mid)| ≤ mean half-width
  double ss = 0;
  for (long j = 0; j < n; ++j) {
    const double dj = g.mid[j] - c;
    g.dmid[j] = up(std::fabs(dj) + rc);
    ss += dj * dj;
  }
  // v(mid) = Σ(mid - c)²/n - (c - mean)²: Σ(mid - c)² over-estimates, the correction bounds below.
  // ss has n products: the underflow allowance both ways (theory/bounds-arithmetic.md §1(a)).
  const double v_up = up(safe_sum(ss, n + 4, n) / nn);
  const double v_lo = max_num(0.0, down(down(safe_sum_down(ss, n + 4, n) / nn) - up(rc * rc)));
  g.sd_lo = down(std::sqrt(v_lo));
  g.sd_hi = up(std::sqrt(v_up));
  return g;
}

double norm2_up(const std::vector<double>& w) {
  double s = 0;
  for (double v : w) s += v * v;
  const auto n = static_cast<long>(w.size());
  return up(std::sqrt(safe_sum(s, n + 2, n)));
}


NormalisedDrift normalised_drift(const RowGeometry& g, const std::vector<double>& E, double eps, double cap) {
  // ∇n̂_j·Δ = (Δ_j - mean Δ - n̂_j·Σ n̂_k Δ_k / n)/σ along the segment, with σ ≥ σ_min over the
  // box [lo - E, hi + E] and |Σ n̂_k Δ_k| ≤ √n·‖E‖₂ (theory/normalization.md, Theorem 3).
  const auto n = static_cast<long>(E.size());
  const double nn = static_cast<double>(n);
  std::vector<double> hw2(static_cast<std::size_t>(n));
  double mean_e = 0, mean_hw2 = 0;
  for (long j = 0; j < n; ++j) {
    hw2[j] = up(g.hw[j] + E[j]);
    mean_e += E[j];
    mean_hw2 += hw2[j];
  }
  mean_e = up(mean_e * safety(n) / nn);
  mean_hw2 = up(mean_hw2 * safety(n) / nn);
  const double norm_e = norm2_up(E);
  const double sd_min = max_num(0.0, down(g.sd_lo - up(norm2_up(hw2) / std::sqrt(nn))));
  const double sigma_min = down(std::sqrt(down(down(sd_min * sd_min) + eps)));
  NormalisedDrift d;
  d.nu.resize(static_cast<std::size_t>(n));
  d.drift.resize(d.nu.size());
  for (long j = 0; j < n; ++j) {
    double nmax = cap, dn = std::numeric_limits<double>::infinity();
    if (sigma_min > 0) {
      nmax = min_num(cap, up(up(up(g.dmid[j] + hw2[j]) + mean_hw2) / sigma_min));
      dn = up(up(up(E[j] + mean_e) + up(nmax * norm_e / down(std::sqrt(nn)))) / sigma_min);
    }
    d.drift[j] = min_num(dn, up(2 * nmax));  // both normalised values lie within nmax of 0
    d.nu[j] = nmax;
  }
  return d;
}

}  // namespace fpaudit::bounds
