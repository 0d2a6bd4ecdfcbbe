#include "shadow/margin/scaled_sums.h"

#include <cmath>

#include "common/cpu_features.h"
#include "common/vector_lanes.h"

namespace fpaudit::margin {

namespace {

/// Columns [n0, N) one at a time: the definition's operations.
void columns_plain(const ScaledSums& a, long n0, double* sum, double* abs, double* spread) {
  for (long n = n0; n < a.N; ++n) {
    double s = 0, ab = 0, sp = 0;
    for (long k = 0; k < a.K; ++k) {
      const long j = k * a.d_k + n * a.d_n;
      const double d = a.d_minus ? a.d[j] - a.d_minus[j] : a.d[j], x = a.x[k * a.x_stride];
      s += x * d;
      ab += std::fabs(x * d);
      if (a.r) sp += a.r[k * a.x_stride] * std::fabs(d);
    }
    sum[n] = s;
    abs[n] = ab;
    spread[n] = sp;
  }
}

/// L columns from n0 as lanes of V (L = 4 or 8 doubles), all k: the definition's operations lane
/// by lane (GCC vector + and * are IEEE binary64 per lane; -ffp-contract=off keeps them unfused;
/// |v| clears the sign bit as std::fabs does). Returns the first column left over.
template <class V>
[[gnu::always_inline]] inline long column_lanes(const ScaledSums& a, double* sum, double* abs, double* spread) {
  constexpr long L = sizeof(V) / sizeof(double);
  long n0 = 0;
  for (; n0 + L <= a.N; n0 += L) {
    V s{}, ab{}, sp{};
    for (long k = 0; k < a.K; ++k) {
      const long j = k * a.d_k + n0 * a.d_n;
      V d;
      lanes::load(a.d + j, a.d_n, d);
      if (a.d_minus) {
        V q;
        lanes::load(a.d_minus + j, a.d_n, q);
        d -= q;
      }
      V x;
      lanes::broadcast(a.x[k * a.x_stride], x);
      const V prod = x * d;
      s += prod;
      V mag;
      lanes::abs(prod, mag);
      ab += mag;
      if (a.r) {
        V r;
        lanes::broadcast(a.r[k * a.x_stride], r);
        lanes::abs(d, mag);
        sp += r * mag;
      }
    }
    __builtin_memcpy(sum + n0, &s, sizeof(V));
    __builtin_memcpy(abs + n0, &ab, sizeof(V));
    __builtin_memcpy(spread + n0, &sp, sizeof(V));
  }
  return n0;
}

using V8 = double __attribute__((vector_size(64)));
using V4 = double __attribute__((vector_size(32)));

[[gnu::target("avx512f")]] void sums_avx512(const ScaledSums& a, double* sum, double* abs, double* spread) {
  columns_plain(a, column_lanes<V8>(a, sum, abs, spread), sum, abs, spread);
}
[[gnu::target("avx2")]] void sums_avx2(const ScaledSums& a, double* sum, double* abs, double* spread) {
  columns_plain(a, column_lanes<V4>(a, sum, abs, spread), sum, abs, spread);
}

}  // namespace

void scaled_sums(const ScaledSums& a, double* sum, double* abs, double* spread) {
  static const auto kernel = cpu::avx512f() ? sums_avx512 : cpu::avx2() ? sums_avx2 : scaled_sums_definition;
  kernel(a, sum, abs, spread);
}

void scaled_sums_definition(const ScaledSums& a, double* sum, double* abs, double* spread) { columns_plain(a, 0, sum, abs, spread); }

}  // namespace fpaudit::margin
