#include <cmath>

#include "core/accumulators.h"
#include "core/gemm_float.h"

namespace fpaudit::kernels {

namespace {
template <class A>
void run(const A& acc, const DotSchedule& s, const GemmFloat& g) {
  for (long m = 0; m < g.M; ++m) {
    const float* w = g.W + m * g.K;
    for (long n = 0; n < g.N; ++n) {
      const float* x = g.X + n;
      float v = accumulate(acc, s, g.K, [&](long k) { return acc::Term{w[k], x[k * g.ldx]}; });
      if (g.bias) v = acc.combine(v, g.bias[m]);
      g.Y[m * g.ldy + n] = v;
    }
  }
}
}  // namespace

void gemm_float_scalar(AccPolicy policy, const DotSchedule& s, const GemmFloat& g) {
  switch (policy) {
    case AccPolicy::Binary16Fma: return run(acc::Binary16Fma{}, s, g);
    case AccPolicy::Bfloat16Fma: return run(acc::Bfloat16Fma{}, s, g);
    case AccPolicy::Binary32Fma: return run(acc::Binary32Fma{}, s, g);
  }
}

float combine(AccPolicy policy, float a, float b) {
  switch (policy) {
    case AccPolicy::Binary16Fma: return acc::Binary16Fma{}.combine(a, b);
    case AccPolicy::Bfloat16Fma: return acc::Bfloat16Fma{}.combine(a, b);
    case AccPolicy::Binary32Fma: return acc::Binary32Fma{}.combine(a, b);
  }
  return a + b;
}

namespace {
/// Smallest nonzero magnitude in an r×c block with row stride ld (Inf if all zero).
float min_nonzero_magnitude(const float* a, long rows, long cols, long ld) {
  float m = INFINITY;
  for (long r = 0; r < rows; ++r)
    for (long c = 0; c < cols; ++c) {
      const float v = std::fabs(a[r * ld + c]);
      if (v != 0.0f && v < m) m = v;
    }
  return m;
}
}  // namespace

void gemm_float(AccPolicy policy, const DotSchedule& s, const GemmFloat& g) {
  static const bool avx512 = gemm_float_avx512_supported();
  static const bool avx2 = gemm_float_avx2_supported();
  const bool vector = (avx512 || avx2) && s.order != SumOrder::TensorCore;
  long vector_cols = !vector ? 0 : avx512 ? g.N : g.N - g.N % 8;
  if (policy == AccPolicy::Bfloat16Fma && vector_cols > 0) {
    // The vector bfloat16 step assumes exact binary32 products; tiny ones take the scalar path.
    const double smallest = static_cast<double>(min_nonzero_magnitude(g.W, g.M, g.K, g.K)) *
                            static_cast<double>(min_nonzero_magnitude(g.X, g.K, g.N, g.ldx));
    if (smallest < 0x1p-126) vector_cols = 0;
  }
  if (vector_cols > 0) (avx512 ? gemm_float_avx512 : gemm_float_avx2)(policy, s, g);
  if (vector_cols < g.N) {
    GemmFloat tail = g;
    tail.X = g.X + vector_cols;
    tail.Y = g.Y + vector_cols;
    tail.N = g.N - vector_cols;
    gemm_float_scalar(policy, s, tail);
  }
}

}  // namespace fpaudit::kernels
