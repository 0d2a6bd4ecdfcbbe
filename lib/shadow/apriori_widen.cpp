// widen_enclosures in vector lanes. The scalar form (widen_one) compiles to a branch per
// comparison: up_sum's exact-zero test, the signs in up/down, max_num and the overflow test.
// On ReLU outputs, half zeros and half not, those branches mispredict, and the widening took
// 6–7 % of a one-chain CNN audit. Here every branch is a select over a lane mask; the
// arithmetic is the same IEEE binary64 operations in the same order (the project compiles with
// -ffp-contract=off, so no product and sum fuse), so every lane has widen_one's bits.
#include "shadow/apriori_widen.h"

#include "common/cpu_features.h"

namespace fpaudit {

namespace {

using V8 = double __attribute__((vector_size(64)));
using V4 = double __attribute__((vector_size(32)));
using V2 = double __attribute__((vector_size(16)));

/// Whole vectors of V from element i; returns the first element left over.
template <class V>
[[gnu::always_inline]] inline long widen_vectors(const double* ref, const double* ref_err, double* e, double* lo, double* hi,
                                                 long i, long n, bool saturates, double max_finite) {
  constexpr long L = sizeof(V) / sizeof(double);
  const V inf = V{} + INFINITY, limit = V{} + max_finite;
  for (; i + L <= n; i += L) {
    V x, xr, ev;
    __builtin_memcpy(&x, ref + i, sizeof(V));
    __builtin_memcpy(&xr, ref_err + i, sizeof(V));
    __builtin_memcpy(&ev, e + i, sizeof(V));
    // up_sum and down_sum (bounds/transfer.h) lane by lane: an exact zero (either sign) gives
    // +0; otherwise x ± |x|·2^-52 ± 2^-1074, |x| as (x < 0 ? −x : x) so that a NaN keeps its bits.
    const V s = ev + xr;
    const V r = s == 0 ? V{} : s + (s < 0 ? -s : s) * 0x1p-52 + 0x1p-1074;
    const V dl = x - r, dh = x + r;
    const V l = dl == 0 ? V{} : dl - (dl < 0 ? -dl : dl) * 0x1p-52 - 0x1p-1074;
    const V h = dh == 0 ? V{} : dh + (dh < 0 ? -dh : dh) * 0x1p-52 + 0x1p-1074;
    V outl = l, outh = h;
    if (!saturates) {
      // max_num(−l, h) = (−l ≥ h or h is NaN) ? −l : h; the box may overflow unless it is < max.
      const V nl = -l;
      const V m = (nl >= h) | (h != h) ? nl : h;
      const auto fits = m < limit;
      ev = fits ? ev : inf;
      outl = fits ? l : -inf;
      outh = fits ? h : inf;
    }
    __builtin_memcpy(e + i, &ev, sizeof(V));
    __builtin_memcpy(lo + i, &outl, sizeof(V));
    __builtin_memcpy(hi + i, &outh, sizeof(V));
  }
  return i;
}

template <class... Vs>
[[gnu::always_inline]] inline void widen(const double* ref, const double* ref_err, double* e, double* lo, double* hi, long n,
                                         bool saturates, double max_finite) {
  long i = 0;
  ((i = widen_vectors<Vs>(ref, ref_err, e, lo, hi, i, n, saturates, max_finite)), ...);
  for (; i < n; ++i) widen_one(ref[i], ref_err[i], e[i], lo[i], hi[i], saturates, max_finite);
}

[[gnu::target("avx512f")]] void widen_avx512(const double* ref, const double* ref_err, double* e, double* lo, double* hi, long n,
                                             bool saturates, double max_finite) {
  widen<V8, V4>(ref, ref_err, e, lo, hi, n, saturates, max_finite);
}
[[gnu::target("avx2")]] void widen_avx2(const double* ref, const double* ref_err, double* e, double* lo, double* hi, long n,
                                        bool saturates, double max_finite) {
  widen<V4, V2>(ref, ref_err, e, lo, hi, n, saturates, max_finite);
}
void widen_sse2(const double* ref, const double* ref_err, double* e, double* lo, double* hi, long n, bool saturates,
                double max_finite) {
  widen<V2>(ref, ref_err, e, lo, hi, n, saturates, max_finite);
}

}  // namespace

void widen_enclosures(const double* ref, const double* ref_err, double* e, double* lo, double* hi, long n, bool saturates,
                      double max_finite) {
  static const auto kernel = cpu::avx512f() ? widen_avx512 : cpu::avx2() ? widen_avx2 : widen_sse2;
  kernel(ref, ref_err, e, lo, hi, n, saturates, max_finite);
}

}  // namespace fpaudit
