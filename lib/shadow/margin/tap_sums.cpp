#include "shadow/margin/tap_sums.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/cache_panel.h"
#include "common/cpu_features.h"
#include "common/vector_lanes.h"
#include "core/ops/window.h"

namespace fpaudit::margin {

namespace {

/// The definition for one output channel m of sample b: k in order, zero coefficients and padding
/// taps skipped. Runs where a coefficient is not finite (there 0·Inf would differ from a skip).
void plain(const TapGeometry& g, const double* a_row, long b, long group, const double* x, const double* r, double* s, double* ab,
           double* sp) {
  const long cg = g.channels / g.groups, rows = cg * g.taps;
  for (long k = 0; k < rows; ++k) {
    const double a = a_row[k], aa = std::fabs(a);
    if (a == 0) continue;
    const long c = k / g.taps, tap = k % g.taps;
    const long x_base = (b * g.channels + group * cg + c) * g.in_plane;
    const std::int32_t* row = g.table + tap * g.out_plane;
    for (long p = 0; p < g.out_plane; ++p) {
      const std::int32_t src = row[p];
      if (src == ops::kPadding) continue;
      const double v = x[x_base + src] * a;
      s[p] += v;
      ab[p] += std::fabs(v);
      if (r) sp[p] += r[x_base + src] * aa;
    }
  }
}

/// The group's input unrolled: X[k, p] = x at the position tap k of output p reads, 0 for a
/// padding tap (R likewise). With a finite nonzero coefficient a padding term then adds ±0·a,
/// which leaves every sum unchanged: a sum that starts at +0 never becomes −0 in rounding to
/// nearest, so adding ±0 is exact and the same bits as skipping the term.
void unroll(const TapGeometry& g, long b, long group, const double* x, double* X) {
  const long cg = g.channels / g.groups;
  for (long c = 0; c < cg; ++c) {
    const double* xp = x + (b * g.channels + group * cg + c) * g.in_plane;
    for (long tap = 0; tap < g.taps; ++tap) {
      const std::int32_t* row = g.table + tap * g.out_plane;
      double* out = X + (c * g.taps + tap) * g.out_plane;
      for (long p = 0; p < g.out_plane; ++p) out[p] = row[p] == ops::kPadding ? 0.0 : xp[row[p]];
    }
  }
}

/// kVecs vectors of columns p0.. of one output channel held in registers while k streams by:
/// each lane takes the same operations in the same order as `plain`.
template <class V, long kVecs, bool kRad>
[[gnu::always_inline]] inline void block(const double* a_row, long rows, long P, const double* X, const double* R, long p0, double* s,
                                         double* ab, double* sp) {
  constexpr long L = sizeof(V) / sizeof(double);
  V as[kVecs], aa[kVecs], ar[kVecs];
  for (long v = 0; v < kVecs; ++v) {
    __builtin_memcpy(&as[v], s + p0 + v * L, sizeof(V));
    __builtin_memcpy(&aa[v], ab + p0 + v * L, sizeof(V));
    __builtin_memcpy(&ar[v], sp + p0 + v * L, sizeof(V));
  }
  for (long k = 0; k < rows; ++k) {
    const double a = a_row[k];
    if (a == 0) continue;
    const V av = V{} + a, aav = V{} + std::fabs(a);  // broadcasts (adding to +0 is exact)
    for (long v = 0; v < kVecs; ++v) {
      V xv;
      __builtin_memcpy(&xv, X + k * P + p0 + v * L, sizeof(V));
      const V prod = xv * av;
      as[v] += prod;
      V mag;
      lanes::abs(prod, mag);
      aa[v] += mag;
      if constexpr (kRad) {
        V rv;
        __builtin_memcpy(&rv, R + k * P + p0 + v * L, sizeof(V));
        ar[v] += rv * aav;
      }
    }
  }
  for (long v = 0; v < kVecs; ++v) {
    __builtin_memcpy(s + p0 + v * L, &as[v], sizeof(V));
    __builtin_memcpy(ab + p0 + v * L, &aa[v], sizeof(V));
    __builtin_memcpy(sp + p0 + v * L, &ar[v], sizeof(V));
  }
}

/// Columns [p0, end) in blocks of kVecs vectors of V; returns the first column left over.
template <class V, long kVecs, bool kRad>
[[gnu::always_inline]] inline long vectors(const double* a_row, long rows, long P, const double* X, const double* R, long p0, long end,
                                           double* s, double* ab, double* sp) {
  constexpr long W = kVecs * static_cast<long>(sizeof(V) / sizeof(double));
  for (; p0 + W <= end; p0 += W) block<V, kVecs, kRad>(a_row, rows, P, X, R, p0, s, ab, sp);
  return p0;
}

/// One output channel's columns [begin, end) over the unrolled input: wide blocks, then single
/// vectors of each width, then the last columns one at a time (the same operations per element
/// on every path, so the same bits whichever range an element falls in).
template <bool kRad, class V0, class... Vs>
[[gnu::always_inline]] inline void row(const double* a_row, long rows, long P, const double* X, const double* R, long begin, long end,
                                       double* s, double* ab, double* sp) {
  long p0 = vectors<V0, 4, kRad>(a_row, rows, P, X, R, begin, end, s, ab, sp);
  p0 = vectors<V0, 1, kRad>(a_row, rows, P, X, R, p0, end, s, ab, sp);
  ((p0 = vectors<Vs, 1, kRad>(a_row, rows, P, X, R, p0, end, s, ab, sp)), ...);
  for (long k = 0; k < rows; ++k) {
    const double a = a_row[k], aa = std::fabs(a);
    if (a == 0) continue;
    for (long p = p0; p < end; ++p) {
      const double v = X[k * P + p] * a;
      s[p] += v;
      ab[p] += std::fabs(v);
      if constexpr (kRad) sp[p] += R[k * P + p] * aa;
    }
  }
}

using V8 = double __attribute__((vector_size(64)));
using V4 = double __attribute__((vector_size(32)));
using V2 = double __attribute__((vector_size(16)));

using RowKernel = void (*)(const double*, long, long, const double*, const double*, long, long, double*, double*, double*);

// One instantiation per instruction set and per radius presence, picked at run time: every one
// computes the same bits.
template <bool kRad>
[[gnu::target("avx512f")]] void row_avx512(const double* a, long rows, long P, const double* X, const double* R, long begin, long end,
                                           double* s, double* ab, double* sp) {
  row<kRad, V8, V4, V2>(a, rows, P, X, R, begin, end, s, ab, sp);
}
template <bool kRad>
[[gnu::target("avx2")]] void row_avx2(const double* a, long rows, long P, const double* X, const double* R, long begin, long end,
                                      double* s, double* ab, double* sp) {
  row<kRad, V4, V2>(a, rows, P, X, R, begin, end, s, ab, sp);
}
template <bool kRad>
void row_sse2(const double* a, long rows, long P, const double* X, const double* R, long begin, long end, double* s, double* ab,
              double* sp) {
  row<kRad, V2>(a, rows, P, X, R, begin, end, s, ab, sp);
}

template <bool kRad>
RowKernel pick() {
  return cpu::avx512f() ? row_avx512<kRad> : cpu::avx2() ? row_avx2<kRad> : row_sse2<kRad>;
}

bool all_finite(const double* a, long n) {
  bool finite = true;
  for (long i = 0; i < n; ++i) finite &= std::isfinite(a[i]);
  return finite;
}

}  // namespace

void tap_sums(const TapGeometry& g, const double* a, const double* x, const double* r, double* sum, double* abs, double* spread) {
  static const RowKernel with_rad = pick<true>(), without_rad = pick<false>();
  const RowKernel kernel = r ? with_rad : without_rad;
  const long cg = g.channels / g.groups, mg = g.out_channels / g.groups, rows = cg * g.taps, P = g.out_plane;
  const std::size_t n = static_cast<std::size_t>(g.batch * g.out_channels * P);
  std::fill(sum, sum + n, 0.0);
  std::fill(abs, abs + n, 0.0);
  std::fill(spread, spread + n, 0.0);
  // Column panels outside, output channels inside: a panel of the unrolled input (and radius)
  // stays in cache while every channel of the group reads it, instead of each channel streaming
  // the whole matrix from memory (ResNet-50: 14 MB per channel at 56×56). Each output still takes
  // its terms in k order: the same bits in any panel.
  const long panel = cache_panel_columns(rows * static_cast<long>(sizeof(double)) * (r ? 2 : 1), P);
  thread_local std::vector<double> X, R;
  thread_local std::vector<char> finite;
  for (long b = 0; b < g.batch; ++b)
    for (long group = 0; group < g.groups; ++group) {
      finite.assign(static_cast<std::size_t>(mg), 0);
      bool any = false;
      for (long j = 0; j < mg; ++j) {
        const long m = group * mg + j;
        const double* a_row = a + m * rows;
        const long o = (b * g.out_channels + m) * P;
        finite[static_cast<std::size_t>(j)] = all_finite(a_row, rows);
        if (finite[static_cast<std::size_t>(j)]) any = true;
        else plain(g, a_row, b, group, x, r, sum + o, abs + o, spread + o);
      }
      if (!any) continue;
      X.resize(static_cast<std::size_t>(rows * P));
      unroll(g, b, group, x, X.data());
      if (r) {
        R.resize(X.size());
        unroll(g, b, group, r, R.data());
      }
      for (long p0 = 0; p0 < P; p0 += panel)
        for (long j = 0; j < mg; ++j) {
          if (!finite[static_cast<std::size_t>(j)]) continue;
          const long m = group * mg + j;
          const long o = (b * g.out_channels + m) * P;
          kernel(a + m * rows, rows, P, X.data(), r ? R.data() : nullptr, p0, std::min(P, p0 + panel), sum + o, abs + o, spread + o);
        }
    }
}

}  // namespace fpaudit::margin
