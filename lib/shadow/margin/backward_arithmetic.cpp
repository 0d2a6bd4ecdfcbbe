// Midpoint–radius accumulation of cotangents in binary64 with every rounding error folded into
// the radius (theory/margin-bound.md §3).
#include <cmath>
#include <cstdint>

#include "bounds/transfer.h"
#include "shadow/margin/backward.h"
#include "shadow/margin/rounding.h"

namespace fpaudit::margin {

// In AVX-512 or AVX2 lanes where the CPU has them (a BatchNormalization channel is one call): the
// same IEEE operations per element in every clone, nothing contracted, so the same bits.
__attribute__((target_clones("avx512f", "avx2", "default")))
void add_scaled_run(const Cotangent& g, long g_offset, const Slope& slope, Cotangent& in, long in_offset, long n) {
  const Slope a = slope;
  // g and in are different slots' cotangents (a step never propagates into its own output).
  const double* __restrict gm = g.mid.data() + g_offset;
  const double* __restrict gr = g.rad.data() + g_offset;
  double* __restrict im = in.mid.data() + in_offset;
  double* __restrict ir = in.rad.data() + in_offset;
  for (long k = 0; k < n; ++k) add_scaled_element(a, gm[k], gr[k], im[k], ir[k]);
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
    const Slope h = unit_slope_hull(m, r);
    double mid = im[i], rad = ir[i];
    add_term(one ? m : h.mid, one ? r : h.rad, mid, rad);
    im[i] = zero ? im[i] : mid;
    ir[i] = zero ? ir[i] : rad;
  }
  for (long i = 0; i < n; ++i)
    if (lo[i] >= 0 || !(hi[i] <= 0)) {
      in.reached = true;
      break;
    }
}

// MaxPool's 2×2-like windows in AVX-512 or AVX2 lanes (gathers) where the CPU has them. The
// windows are disjoint, so every input unit takes at most one update and the order of the
// updates does not matter: each is computed from the unit's earlier value into `next`, then
// written back. The same IEEE operations per update as add_exact / add_unit_slope_hull.
__attribute__((target_clones("avx512f", "avx2", "default")))
bool add_max_pool4(const std::int32_t* __restrict tap, long P, const double* __restrict lo, const double* __restrict hi,
                   const double* __restrict gm, const double* __restrict gr, const double* __restrict im,
                   const double* __restrict ir, double* __restrict next_mid, double* __restrict next_rad) {
  constexpr long T = 4;
  long reached = 0;
  for (long p = 0; p < P; ++p) {
    const std::int32_t* w = tap + p * T;
    double floor = -INFINITY;  // max over the window of lo, in tap order
    for (long t = 0; t < T; ++t) floor = bounds::max_num(floor, lo[w[t]]);
    long count = 0;
    for (long t = 0; t < T; ++t) count += hi[w[t]] >= floor;
    reached += count;
    const bool one = count == 1;
    const double m = gm[p], r = gr[p];
    const Slope h = unit_slope_hull(m, r);
    for (long t = 0; t < T; ++t) {
      const bool candidate = hi[w[t]] >= floor;
      const double old_mid = im[w[t]], old_rad = ir[w[t]];
      double mid = old_mid, rad = old_rad;
      add_term(one ? m : h.mid, one ? r : h.rad, mid, rad);
      next_mid[p * T + t] = candidate ? mid : old_mid;
      next_rad[p * T + t] = candidate ? rad : old_rad;
    }
  }
  return reached > 0;
}

// The binary steps' dense sides in AVX-512 or AVX2 lanes where the CPU has them: add_scaled per
// element as selects (the file is compiled with -fno-trapping-math), the same IEEE operations
// per element in every clone and nothing contracted, so the bits are those of the calls (a NaN's
// sign aside).
__attribute__((target_clones("avx512f", "avx2", "default")))
bool add_scaled_slopes(const double* __restrict gm, const double* __restrict gr, const double* __restrict lo,
                       const double* __restrict hi, double* __restrict im, double* __restrict ir, long n) {
  long added = 0;
  for (long i = 0; i < n; ++i) {
    const bool skip = (gm[i] == 0) & (gr[i] == 0);
    double mid = im[i], rad = ir[i];
    add_scaled_element(Slope(lo[i], hi[i]), gm[i], gr[i], mid, rad);
    im[i] = skip ? im[i] : mid;
    ir[i] = skip ? ir[i] : rad;
    added += !skip;
  }
  return added > 0;
}

}  // namespace fpaudit::margin
