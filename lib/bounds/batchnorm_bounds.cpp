// batchnorm_bounds: batchnorm_bound (bounds/normalization.h) over a run of elements, several
// lanes at a time. Every lane performs the scalar function's operations in its order; its
// branches become per-lane selects, which pick the value the branch would have returned. GCC
// vector + - * are IEEE binary64 per lane and -ffp-contract=off keeps them unfused, so the
// results are the scalar function's bits (tests/bounds/normalization_softmax_test.cpp).
#include "common/cpu_features.h"
#include "bounds/normalization.h"

// The helpers below take and return vectors; they are internal and always inlined into the
// instruction-set functions at the end, so no call ever crosses the ABI GCC warns about.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace fpaudit::bounds {

namespace {

template <class V>
struct Lanes {
  static constexpr int L = sizeof(V) / sizeof(double);
  using M = decltype(V{} < V{});  // the lanes' comparison masks, 64-bit integers
  [[gnu::always_inline]] static V splat(double c) {
    V v;
    for (int i = 0; i < L; ++i) v[i] = c;
    return v;
  }
  [[gnu::always_inline]] static V load(const double* p) {
    V v;
    __builtin_memcpy(&v, p, sizeof(V));
    return v;
  }
  [[gnu::always_inline]] static V sel(M m, V a, V b) { return m ? a : b; }
  /// std::fabs: the sign bit cleared.
  [[gnu::always_inline]] static V fabs(V x) { return reinterpret_cast<V>(reinterpret_cast<M>(x) & (M{} + 0x7fffffffffffffffLL)); }
  /// x < 0 ? -x : x, as up() and down() write it (−0 and NaN keep their sign).
  [[gnu::always_inline]] static V neg_abs(V x) { return sel(x < 0, -x, x); }
  [[gnu::always_inline]] static V max_num(V a, V b) { return sel((a >= b) | (b != b), a, b); }
  [[gnu::always_inline]] static V min_num(V a, V b) { return sel((a <= b) | (b != b), a, b); }
  [[gnu::always_inline]] static V up(V x) { return x + neg_abs(x) * splat(0x1p-52) + splat(0x1p-1074); }
  [[gnu::always_inline]] static V down(V x) { return x - neg_abs(x) * splat(0x1p-52) - splat(0x1p-1074); }
};

/// RoundingTarget::error, lane by lane.
template <class V>
[[gnu::always_inline]] inline V storage_error(const RoundingTarget& t, V mag) {
  using X = Lanes<V>;
  const V inf = X::splat(__builtin_inf());
  if (t.u == 0 && t.eta == 0) return X::splat(0);
  const V u = X::splat(t.u), eta = X::splat(t.eta), maxf = X::splat(t.max_finite);
  V e = u * mag + eta;
  if (t.saturates) e = X::sel(mag > maxf, X::max_num(u * mag, mag - maxf) + eta, e);
  const V r = e * X::splat(1 + 0x1p-50) + X::splat(0x1p-1074);
  return t.saturates ? r : X::sel(mag <= maxf, r, inf);
}

/// batchnorm_bound, lane by lane.
template <class V>
[[gnu::always_inline]] inline V bound(const ArithmeticModel& m, const BatchNormFold& f, V lo, V hi, V err) {
  using X = Lanes<V>;
  const V slo = X::splat(f.scale.lo), shi = X::splat(f.scale.hi);
  const V p[4] = {lo * slo, lo * shi, hi * slo, hi * shi};
  V ylo = p[0], yhi = p[0];
  for (const V& v : p) {
    ylo = X::min_num(ylo, v);
    yhi = X::max_num(yhi, v);
  }
  ylo = X::down(X::down(ylo) + X::splat(f.shift.lo));
  yhi = X::up(X::up(yhi) + X::splat(f.shift.hi));
  const V local = storage_error(m.storage, X::max_num(X::fabs(ylo), X::fabs(yhi)));
  const V alo = X::neg_abs(lo), ahi = X::neg_abs(hi);
  const V xmag = X::sel(alo > ahi, alo, ahi);
  const V prop = xmag * X::splat(f.scale_err) + err * X::splat(f.scale.magnitude() + f.scale_err) + X::splat(f.shift_err);
  // safe_sum(local + prop, 8, 2), the scalar batchnorm_bound's operations lane by lane.
  const V r = (local + prop + X::splat(underflow_allowance(2))) * X::splat(safety(8));
  const V inf = X::splat(__builtin_inf());
  const auto nan_in = (lo != lo) | (hi != hi) | (err != err);
  return X::sel(nan_in | (r != r), inf, r);
}

template <class V>
[[gnu::always_inline]] inline void run(const ArithmeticModel& m, const BatchNormFold& f, const BatchNormRun& x) {
  using X = Lanes<V>;
  long i = 0;
  for (; i + X::L <= x.n; i += X::L) {
    const V lo = X::load(x.lo + i), hi = X::load(x.hi + i);
    const V det = bound<V>(m, f, lo, hi, X::load(x.ed + i));
    __builtin_memcpy(x.det + i, &det, sizeof(V));
    const V prob = x.ep ? X::min_num(det, bound<V>(m, f, lo, hi, X::load(x.ep + i))) : det;
    __builtin_memcpy(x.prob + i, &prob, sizeof(V));
  }
  for (; i < x.n; ++i) {
    const double det = batchnorm_bound(m, f, {x.lo[i], x.hi[i], x.ed[i]});
    x.det[i] = det;
    x.prob[i] = x.ep ? min_num(det, batchnorm_bound(m, f, {x.lo[i], x.hi[i], x.ep[i]})) : det;
  }
}

using V4 = double __attribute__((vector_size(32)));
using V2 = double __attribute__((vector_size(16)));

[[gnu::target("avx2")]] void run_avx2(const ArithmeticModel& m, const BatchNormFold& f, const BatchNormRun& x) { run<V4>(m, f, x); }
void run_sse2(const ArithmeticModel& m, const BatchNormFold& f, const BatchNormRun& x) { run<V2>(m, f, x); }

}  // namespace

void batchnorm_bounds(const ArithmeticModel& m, const BatchNormFold& f, const BatchNormRun& x) {
  // AVX2's 256-bit selects, also on AVX-512 machines: GCC's 512-bit form of these per-lane
  // selects (mask registers moved to and from vectors) measured slower than the scalar rule.
  static const auto kernel = cpu::avx2() ? run_avx2 : run_sse2;
  kernel(m, f, x);
}

}  // namespace fpaudit::bounds
