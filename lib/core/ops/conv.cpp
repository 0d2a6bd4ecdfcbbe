#include "core/ops/conv.h"

#include <immintrin.h>

#include <fmt/format.h>

#include "common/cpu_features.h"

namespace fpaudit::ops {

GroupedConvolution::GroupedConvolution(const OpContext& ctx, std::int64_t groups, std::int64_t out_channels, const Window& w,
                                       std::vector<std::int32_t> taps)
    : batch_(ctx.input_shapes.at(0).at(0)),
      channels_(ctx.input_shapes[0].at(1)),
      groups_(groups),
      group_channels_(channels_ / groups),
      group_outputs_(out_channels / groups),
      taps_(w.taps()),
      in_plane_(w.in_plane()),
      out_plane_(w.out_plane()),
      table_(std::move(taps)) {
  direct_ = taps_ == 1 && in_plane_ == out_plane_;
  for (std::int64_t p = 0; direct_ && p < out_plane_; ++p) direct_ = table_[static_cast<std::size_t>(p)] == p;
  const std::int64_t blocks = out_plane_ / 8;
  consecutive_.assign(static_cast<std::size_t>(taps_ * blocks), 1);
  for (std::int64_t t = 0; t < taps_; ++t)
    for (std::int64_t b = 0; b < blocks; ++b) {
      const std::int32_t* s = table_.data() + t * out_plane_ + 8 * b;
      for (int i = 0; i < 8; ++i)
        if (s[0] == kPadding || s[i] != s[0] + i) consecutive_[static_cast<std::size_t>(t * blocks + b)] = 0;
    }
}

namespace {

/// dst[p] = source[p] == kPadding ? 0 : xc[source[p]] for p < P (converted to T).
template <class T>
void gather_row(const double* xc, const std::int32_t* source, T* dst, std::int64_t P) {
  for (std::int64_t p = 0; p < P; ++p) dst[p] = source[p] == kPadding ? T(0) : static_cast<T>(xc[source[p]]);
}

// GCC 12's AVX-512 gather builds on _mm512_undefined_pd(), which its -Wmaybe-uninitialized
// reports at every use: a false positive of the headers.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
/// Stores 8 gathered values as T: binary64 as they are, binary32 rounded as static_cast does.
__attribute__((target("avx512f"))) inline void store8(double* dst, __m512d v) { _mm512_storeu_pd(dst, v); }
__attribute__((target("avx512f"))) inline void store8(float* dst, __m512d v) { _mm256_storeu_ps(dst, _mm512_cvtpd_ps(v)); }

/// gather_row 8 positions at a time, padding masked off to exact zeros (the same values); a block
/// whose 8 elements are consecutive in the input (consecutive[p / 8]) is one plain load.
template <class T>
__attribute__((target("avx512f"))) void gather_row_avx512(const double* xc, const std::int32_t* source,
                                                          const std::uint8_t* consecutive, T* dst, std::int64_t P) {
  std::int64_t p = 0;
  for (; p + 8 <= P; p += 8) {
    if (consecutive[p / 8]) {
      store8(dst + p, _mm512_loadu_pd(xc + source[p]));
      continue;
    }
    const __m256i index = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(source + p));
    const __mmask8 inside = _mm512_cmpneq_epi32_mask(_mm512_zextsi256_si512(index), _mm512_set1_epi32(kPadding));
    store8(dst + p, _mm512_mask_i32gather_pd(_mm512_setzero_pd(), inside, index, xc, 8));
  }
  gather_row(xc, source + p, dst + p, P - p);
}

/// Stores 4 values as T, as store8 does.
__attribute__((target("avx2"))) inline void store4(double* dst, __m256d v) { _mm256_storeu_pd(dst, v); }
__attribute__((target("avx2"))) inline void store4(float* dst, __m256d v) { _mm_storeu_ps(dst, _mm256_cvtpd_ps(v)); }

/// gather_row_avx512 for AVX2: a block of 8 consecutive inputs is two plain loads; any other
/// block two masked gathers of 4 (padding masked off to exact zeros). The same values: loads and
/// gathers move bits, and _mm256_cvtpd_ps rounds as static_cast<float> does (both by MXCSR).
template <class T>
__attribute__((target("avx2"))) void gather_row_avx2(const double* xc, const std::int32_t* source, const std::uint8_t* consecutive,
                                                     T* dst, std::int64_t P) {
  std::int64_t p = 0;
  for (; p + 8 <= P; p += 8) {
    if (consecutive[p / 8]) {
      store4(dst + p, _mm256_loadu_pd(xc + source[p]));
      store4(dst + p + 4, _mm256_loadu_pd(xc + source[p] + 4));
      continue;
    }
    for (int half = 0; half < 2; ++half) {
      const __m128i index = _mm_loadu_si128(reinterpret_cast<const __m128i*>(source + p + 4 * half));
      const __m128i padding = _mm_cmpeq_epi32(index, _mm_set1_epi32(kPadding));
      // The 64-bit lane mask of each 32-bit index: inside where the index is not padding.
      const __m256d inside = _mm256_castsi256_pd(_mm256_cvtepi32_epi64(_mm_xor_si128(padding, _mm_set1_epi32(-1))));
      store4(dst + p + 4 * half, _mm256_mask_i32gather_pd(_mm256_setzero_pd(), xc, index, inside, 8));
    }
  }
  gather_row(xc, source + p, dst + p, P - p);
}
#pragma GCC diagnostic pop

}  // namespace

template <class T>
void GroupedConvolution::unroll_as(const double* xg, T* col, std::int64_t ld) const {
  const std::int64_t P = out_plane_;
  if (ld == 0) ld = P;
  const bool avx512 = cpu::avx512f(), avx2 = cpu::avx2();
  for (std::int64_t c = 0; c < group_channels_; ++c) {
    const double* xc = xg + c * in_plane_;
    for (std::int64_t t = 0; t < taps_; ++t) {
      const std::int32_t* source = table_.data() + t * P;
      T* dst = col + (c * taps_ + t) * ld;
      if (avx512) gather_row_avx512(xc, source, consecutive_.data() + t * (P / 8), dst, P);
      else if (avx2) gather_row_avx2(xc, source, consecutive_.data() + t * (P / 8), dst, P);
      else gather_row(xc, source, dst, P);
    }
  }
}

void GroupedConvolution::unroll(const double* xg, double* col, std::int64_t ld) const { unroll_as(xg, col, ld); }
void GroupedConvolution::unroll(const double* xg, float* col, std::int64_t ld) const { unroll_as(xg, col, ld); }

namespace {

/// The kernel's spatial shape: W's trailing dimensions, which kernel_shape must repeat if given.
std::vector<std::int64_t> kernel_of(const OpContext& ctx) {
  const Shape& x = ctx.input_shapes.at(0);
  const Shape& wt = ctx.input_shapes.at(1);
  if (x.size() < 3 || wt.size() != x.size())
    ctx.fail(fmt::format("X {} and W {} must be [N, C, spatial...] of one rank", shape_string(x), shape_string(wt)));
  const std::vector<std::int64_t> kernel(wt.begin() + 2, wt.end());
  if (ctx.node.has_attr("kernel_shape") && ctx.node.attr_ints("kernel_shape", {}) != kernel)
    ctx.fail(fmt::format("kernel_shape does not match W {}", shape_string(wt)));
  return kernel;
}

/// The group attribute; `fits` says whether X and W agree with it (shape inference checked them).
template <class Fits>
std::int64_t groups_of(const OpContext& ctx, Fits fits) {
  const std::int64_t groups = ctx.node.attr_int("group", 1);
  if (groups < 1 || !fits(groups, ctx.input_shapes.at(0), ctx.input_shapes.at(1)))
    ctx.fail(fmt::format("X {} and W {} do not match group = {}", shape_string(ctx.input_shapes[0]),
                         shape_string(ctx.input_shapes[1]), groups));
  return groups;
}

GroupedConvolution make_conv(const OpContext& ctx, const Window& w) {
  // X [N, C, ...], W [M, C/group, ...]: M splits into the groups too.
  const std::int64_t groups = groups_of(ctx, [](std::int64_t g, const Shape& x, const Shape& wt) {
    return x[1] == wt[1] * g && wt[0] % g == 0;
  });
  return GroupedConvolution(ctx, groups, ctx.input_shapes[1][0], w, forward_taps(ctx, w));
}

}  // namespace

ConvGeometry::ConvGeometry(const OpContext& ctx)
    : window_(read_conv_window(ctx, kernel_of(ctx))), conv_(make_conv(ctx, window_)) {}

ConvTransposeGeometry::ConvTransposeGeometry(const OpContext& ctx)
    : window_(read_conv_transpose_window(ctx, kernel_of(ctx))),
      // X [N, C, ...], W [C, M/group, ...]: C splits into the groups.
      groups_(groups_of(ctx, [](std::int64_t g, const Shape& x, const Shape& wt) { return x[1] == wt[0] && wt[0] % g == 0; })),
      group_channels_(ctx.input_shapes[0][1] / groups_),
      group_outputs_(ctx.input_shapes[1][1]),
      conv_(ctx, groups_, group_outputs_ * groups_, window_, transposed_taps(ctx, window_)) {}

std::vector<double> ConvTransposeGeometry::rearranged(const std::vector<double>& w) const {
  std::vector<double> matrix(w.size());
  const std::int64_t taps = window_.taps(), K = group_channels_ * taps;
  for (std::int64_t g = 0; g < groups_; ++g)
    for (std::int64_t j = 0; j < group_outputs_; ++j)
      for (std::int64_t c = 0; c < group_channels_; ++c)
        for (std::int64_t t = 0; t < taps; ++t)
          matrix[static_cast<std::size_t>((g * group_outputs_ + j) * K + c * taps + t)] =
              w[static_cast<std::size_t>(((g * group_channels_ + c) * group_outputs_ + j) * taps + taps - 1 - t)];
  return matrix;
}

}  // namespace fpaudit::ops
