// Midpoint–radius accumulation of cotangents in binary64 with every rounding error folded into
// the radius (theory/margin-bound.md §3).
#include <cmath>

#include "bounds/transfer.h"
#include "shadow/margin/backward.h"
#include "shadow/margin/rounding.h"

namespace fpaudit::margin {

// In AVX-512 or AVX2 lanes where the CPU has them (a BatchNormalization channel is one call): the
// same IEEE operations per element in every clone, nothing contracted, so the same bits.
__attribute__((target_clones("avx512f", "avx2", "default")))
void add_scaled(const Cotangent& g, long g_offset, double a_lo, double a_hi, Cotangent& in, long in_offset, long n) {
  // [a_lo, a_hi] ⊆ [am − ar, am + ar]: am is rounded, the differences are rounded up.
  const double am = 0.5 * a_lo + 0.5 * a_hi;
  const double ar = bounds::up(bounds::max_num(am - a_lo, a_hi - am));
  const double aa = std::fabs(am);
  // g and in are different slots' cotangents (a step never propagates into its own output).
  const double* __restrict gm = g.mid.data() + g_offset;
  const double* __restrict gr = g.rad.data() + g_offset;
  double* __restrict im = in.mid.data() + in_offset;
  double* __restrict ir = in.rad.data() + in_offset;
  for (long k = 0; k < n; ++k) {
    const double m = gm[k], r = gr[k];
    const double p = am * m;
    const double mid = im[k] + p;
    // (am ± ar)(m ± r) ⊆ am·m ± (|am|·r + ar·(|m| + r)); the rounding of p and of the sum
    // into mid are each at most 2^-53 of their magnitude.
    const double extra = aa * r + ar * (std::fabs(m) + r) + (std::fabs(p) + std::fabs(mid)) * 0x1p-53;
    im[k] = mid;
    ir[k] = inflate(ir[k] + extra);
  }
  in.reached = true;
}

// ReLU's units in AVX-512 or AVX2 lanes where the CPU has them: add_exact and
// add_unit_slope_hull as selects (the file is compiled with -fno-trapping-math, so that both
// sides of a select may be computed), the same IEEE operations per element in every clone and
// nothing contracted, so the bits are those of the calls (a NaN's sign aside).
__attribute__((target_clones("avx512f", "avx2", "default")))
void add_relu(const double* lo_box, const double* hi_box, const Cotangent& g, Cotangent& in) {
  const long n = static_cast<long>(g.mid.size());
  // g and in are different slots' cotangents (a step never propagates into its own output).
  const double* __restrict lo = lo_box;
  const double* __restrict hi = hi_box;
  const double* __restrict gm = g.mid.data();
  const double* __restrict gr = g.rad.data();
  double* __restrict im = in.mid.data();
  double* __restrict ir = in.rad.data();
  for (long i = 0; i < n; ++i) {
    const bool one = lo[i] >= 0, zero = !one & (hi[i] <= 0);  // both loaded: no branch
    const double m = gm[i], r = gr[i];
    // add_unit_slope_hull's interval [min(0, m − r), max(0, m + r)] in midpoint–radius form.
    const double h_lo = bounds::min_num(0.0, bounds::down(m - r));
    const double h_hi = bounds::max_num(0.0, bounds::up(m + r));
    const double h_mid = 0.5 * h_lo + 0.5 * h_hi;
    const double h_rad = bounds::up(bounds::max_num(h_mid - h_lo, h_hi - h_mid));
    const double mid = im[i] + (one ? m : h_mid);
    const double rad = inflate(ir[i] + (one ? r : h_rad) + std::fabs(mid) * 0x1p-53);
    im[i] = zero ? im[i] : mid;
    ir[i] = zero ? ir[i] : rad;
  }
  for (long i = 0; i < n; ++i)
    if (lo[i] >= 0 || !(hi[i] <= 0)) {
      in.reached = true;
      break;
    }
}

}  // namespace fpaudit::margin
