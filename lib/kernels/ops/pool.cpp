// MaxPool, AveragePool and GlobalAveragePool. Each output reads the input elements of its window
// that lie inside the input, listed at preparation (row-major tap order): MaxPool selects the
// largest exactly; AveragePool sums them in the accumulation format by the chain's schedule and
// divides by the count with one rounding into storage. Padding adds nothing to a sum, so it
// only changes the count (count_include_pad).
#include <immintrin.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cmath>

#include "common/cpu_features.h"
#include "core/ops/pool.h"
#include "kernels/ops/batch.h"
#include "kernels/ops/ops.h"

namespace fpaudit::ops {

namespace {

/// m = v > m || v != v ? v : m (a NaN stays: nothing compares greater) as a bit select: the
/// comparison is data-dependent, and a branch on it mispredicts half the time.
inline double take_max(double m, double v) {
  const std::uint64_t take = std::uint64_t{0} - static_cast<std::uint64_t>(static_cast<int>(v > m) | static_cast<int>(v != v));
  return std::bit_cast<double>((std::bit_cast<std::uint64_t>(v) & take) | (std::bit_cast<std::uint64_t>(m) & ~take));
}

// GCC 12's AVX-512 gather builds on _mm512_undefined_pd(), which its -Wmaybe-uninitialized
// reports at every use: a false positive of the headers.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
/// One tap of MaxPool across a plane's outputs, 8 lanes at a time: take_max lane by lane.
__attribute__((target("avx512f"))) void max_tap_avx512(const double* xp, const std::int32_t* tap, double* yp, std::int64_t P) {
  std::int64_t p = 0;
  for (; p + 8 <= P; p += 8) {
    const __m512d v = _mm512_i32gather_pd(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(tap + p)), xp, 8);
    const __m512d m = _mm512_loadu_pd(yp + p);
    const __mmask8 take = _mm512_cmp_pd_mask(v, m, _CMP_GT_OQ) | _mm512_cmp_pd_mask(v, v, _CMP_UNORD_Q);
    _mm512_storeu_pd(yp + p, _mm512_mask_blend_pd(take, m, v));
  }
  for (; p < P; ++p) yp[p] = take_max(yp[p], xp[tap[p]]);
}
/// max_tap_avx512 on AVX2: 4 lanes a gather.
__attribute__((target("avx2"))) void max_tap_avx2(const double* xp, const std::int32_t* tap, double* yp, std::int64_t P) {
  std::int64_t p = 0;
  for (; p + 4 <= P; p += 4) {
    const __m256d v = _mm256_i32gather_pd(xp, _mm_loadu_si128(reinterpret_cast<const __m128i*>(tap + p)), 8);
    const __m256d m = _mm256_loadu_pd(yp + p);
    const __m256d take = _mm256_or_pd(_mm256_cmp_pd(v, m, _CMP_GT_OQ), _mm256_cmp_pd(v, v, _CMP_UNORD_Q));
    _mm256_storeu_pd(yp + p, _mm256_blendv_pd(m, v, take));
  }
  for (; p < P; ++p) yp[p] = take_max(yp[p], xp[tap[p]]);
}
#pragma GCC diagnostic pop


/// MaxPool and AveragePool over the planes of X [N, C, spatial...].
class Pool : public OpKernel, private PoolGeometry {
 public:
  Pool(const OpContext& ctx, bool max) : PoolGeometry(ctx, max) {
    // Tap-major windows: taps_[k·P + p] = window p's tap k.
    // - MaxPool: a window shorter than the longest repeats its last element, which leaves its
    //   maximum (and which NaN it keeps) unchanged: m = max(m, v) with v already the last one
    //   taken is m again. Needs no empty window.
    // - AveragePool: only when every window has the longest's taps and one divisor (no padding
    //   or ceil_mode overhang), so that each output is the same sum of the same terms in the
    //   same order as run()'s loop. Otherwise taps_ stays empty and run() sums window by window.
    const std::int64_t P = out_plane_, longest = windows_.longest;
    for (std::int64_t p = 0; p < P; ++p) {
      const std::int64_t n = windows_.start[p + 1] - windows_.start[p];
      if (n == 0 || (!max_ && (n != longest || windows_.count[static_cast<std::size_t>(p)] != windows_.count[0]))) return;
    }
    taps_.resize(static_cast<std::size_t>(longest * P));
    for (std::int64_t p = 0; p < P; ++p) {
      const std::int64_t first = windows_.start[p], n = windows_.start[p + 1] - first;
      for (std::int64_t k = 0; k < longest; ++k) taps_[static_cast<std::size_t>(k * P + p)] = windows_.source[first + std::min(k, n - 1)];
    }
  }

  void run_batch(const Arithmetic& a, long samples, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    if (max_ || taps_.empty()) return OpKernel::run_batch(a, samples, in, out);
    run_average(a, samples, in, out);
  }

  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const double* x = in[0]->data.data();
    double* y = out[0]->data.data();
    if (!taps_.empty()) return max_ ? run_max(x, y) : run_average(a, 1, in, out);
    std::vector<double> window(static_cast<std::size_t>(max_ ? 0 : windows_.longest));
    for (std::int64_t plane = 0; plane < planes_; ++plane) {
      const double* xp = x + plane * in_plane_;
      double* yp = y + plane * out_plane_;
      for (std::int64_t p = 0; p < out_plane_; ++p) {
        const std::int32_t* first = windows_.source.data() + windows_.start[p];
        const std::int64_t n = windows_.start[p + 1] - windows_.start[p];
        if (max_) {
          double m = -INFINITY;
          for (std::int64_t k = 0; k < n; ++k) {
            const double v = xp[first[k]];
            m = v > m || std::isnan(v) ? v : m;  // a NaN stays: nothing compares greater
          }
          yp[p] = m;
        } else {
          for (std::int64_t k = 0; k < n; ++k) window[static_cast<std::size_t>(k)] = xp[first[k]];
          yp[p] = a.div(a.sum(window.data(), 1, n), windows_.count[static_cast<std::size_t>(p)]);
        }
      }
    }
  }
  bool exact() const override { return max_; }

 private:
  /// MaxPool, each window's taps in order as in run(), tap-major over a plane's outputs: the
  /// selects of one tap run across outputs without a branch, 8 at a time where AVX-512 is, 4 with AVX2.
  void run_max(const double* x, double* y) const {
    const std::int64_t P = out_plane_, longest = windows_.longest;
    const bool avx512 = cpu::avx512f(), avx2 = cpu::avx2();
    for (std::int64_t plane = 0; plane < planes_; ++plane) {
      const double* xp = x + plane * in_plane_;
      double* yp = y + plane * out_plane_;
      for (std::int64_t p = 0; p < P; ++p) yp[p] = -INFINITY;
      for (std::int64_t k = 0; k < longest; ++k) {
        const std::int32_t* tap = taps_.data() + k * P;
        if (avx512) {
          max_tap_avx512(xp, tap, yp, P);
          continue;
        }
        if (avx2) {
          max_tap_avx2(xp, tap, yp, P);
          continue;
        }
        for (std::int64_t p = 0; p < P; ++p) yp[p] = take_max(yp[p], xp[tap[p]]);
      }
    }
  }
  /// AveragePool with uniform windows, over a batch: every window's taps gathered tap-major into
  /// a K × (samples·planes·P) matrix and summed as one product with a row of ones, left in the
  /// accumulation format, then divided by the count with one rounding into storage. A gemm's
  /// output is the chain's dot product of its row and column by the schedule (GemmArgs), and
  /// 1·x = x exactly, so each sum is run()'s a.sum(window) bit for bit; a.binary(Div) is a.div.
  void run_average(const Arithmetic& a, long samples, std::span<const Tensor* const> in, std::span<Tensor* const> out) const {
    const std::vector<const double*> xs = input_data(in, samples, 0);
    const std::vector<double*> ys = output_data(out, samples, 0);
    const std::int64_t K = windows_.longest, P = out_plane_, per_sample = planes_ * P, N = per_sample * samples;
    thread_local std::vector<double> gathered, sums, ones;
    gathered.resize(static_cast<std::size_t>(K * N));
    sums.resize(static_cast<std::size_t>(N));
    ones.assign(static_cast<std::size_t>(K), 1.0);
    for (long s = 0; s < samples; ++s) {
      const double* x = xs[static_cast<std::size_t>(s)];
      for (std::int64_t k = 0; k < K; ++k) {
        const std::int32_t* tap = taps_.data() + k * P;
        double* row = gathered.data() + k * N + s * per_sample;
        for (std::int64_t plane = 0; plane < planes_; ++plane)
          for (std::int64_t p = 0; p < P; ++p) row[plane * P + p] = x[plane * in_plane_ + tap[p]];
      }
    }
    GemmArgs g;
    g.M = 1;
    g.N = N;
    g.K = K;
    g.W = ones.data();
    g.ldw = K;
    g.X = gathered.data();
    g.ldx = N;
    g.Y = sums.data();
    g.ldy = N;
    g.round_to_storage = false;
    a.gemm(g);
    const double count = windows_.count[0];
    for (long s = 0; s < samples; ++s)
      a.binary(BinaryOp::Div, sums.data() + s * per_sample, 1, &count, 0, ys[static_cast<std::size_t>(s)], per_sample);
  }
  std::vector<std::int32_t> taps_;  ///< the windows tap-major (see the constructor); empty: run()'s loop
};

/// GlobalAveragePool: the average of each whole plane.
class GlobalAveragePool : public OpKernel, private GlobalPoolGeometry {
 public:
  explicit GlobalAveragePool(const OpContext& ctx) : GlobalPoolGeometry(ctx) {}
  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const double* x = in[0]->data.data();
    double* y = out[0]->data.data();
    for (std::int64_t p = 0; p < planes_; ++p) y[p] = a.div(a.sum(x + p * plane_, 1, plane_), static_cast<double>(plane_));
  }
};

}  // namespace

void register_pool_ops(std::vector<OpRegistration>& r) {
  r.push_back({"MaxPool", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<Pool>(ctx, true); }});
  r.push_back({"AveragePool", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<Pool>(ctx, false); }});
  r.push_back({"GlobalAveragePool", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<GlobalAveragePool>(ctx); }});
}

}  // namespace fpaudit::ops
