// Midpoint–radius accumulation of cotangents in binary64 with every rounding error folded into
// the radius (theory/margin-bound.md §3).
#include <cmath>

#include "bounds/transfer.h"
#include "shadow/margin/backward.h"
#include "shadow/margin/rounding.h"

namespace fpaudit::margin {

void add_scaled(const Cotangent& g, long g_offset, double a_lo, double a_hi, Cotangent& in, long in_offset, long n) {
  // [a_lo, a_hi] ⊆ [am − ar, am + ar]: am is rounded, the differences are rounded up.
  const double am = 0.5 * a_lo + 0.5 * a_hi;
  const double ar = bounds::up(bounds::max_num(am - a_lo, a_hi - am));
  const double aa = std::fabs(am);
  for (long k = 0; k < n; ++k) {
    const double m = g.mid[g_offset + k], r = g.rad[g_offset + k];
    const double p = am * m;
    const double mid = in.mid[in_offset + k] + p;
    // (am ± ar)(m ± r) ⊆ am·m ± (|am|·r + ar·(|m| + r)); the rounding of p and of the sum
    // into mid are each at most 2^-53 of their magnitude.
    const double extra = aa * r + ar * (std::fabs(m) + r) + (std::fabs(p) + std::fabs(mid)) * 0x1p-53;
    in.mid[in_offset + k] = mid;
    in.rad[in_offset + k] = inflate(in.rad[in_offset + k] + extra);
  }
  in.reached = true;
}

}  // namespace fpaudit::margin
