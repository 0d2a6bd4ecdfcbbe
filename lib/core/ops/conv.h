// What Conv and ConvTranspose work out at preparation, read by their kernel
// (lib/kernels/ops/conv.cpp) and their bound rule (lib/bounds/rules/conv.cpp) alike: both
// operators reduce to a grouped im2col + GEMM. The input is unrolled per group into a K×P
// matrix (im2col, K = channels·taps, P = output positions), padding as exact zeros, and
// multiplied by the M×K weight matrix. ConvTranspose is the Conv of the zero-upsampled, padded
// input with the transposed, flipped kernel: another tap table and weight order.
#pragma once

#include <cstdint>
#include <vector>

#include "core/op_context.h"
#include "core/ops/window.h"

namespace fpaudit::ops {

/// The grouped im2col + GEMM both operators reduce to, prepared once.
///   x: [N, C, in...]   weights: [M, K] row-major, group g owning rows [g·Mg, (g+1)·Mg)
///   y: [N, M, out...]  K = Cg·taps, Cg = C / groups, Mg = M / groups
struct GroupedConvolution {
  GroupedConvolution(const OpContext& ctx, std::int64_t groups, std::int64_t out_channels, const Window& w,
                     std::vector<std::int32_t> taps);
  std::int64_t depth() const { return group_channels_ * taps_; }  ///< K: terms per output
  /// col[(c·taps + t)·ld + p] = the input element tap t of output p reads in channel c, or 0;
  /// ld = P (the default) for one image, larger to place an image's columns in a batch's matrix.
  void unroll(const double* xg, double* col, std::int64_t ld = 0) const;
  /// The same in binary32 (each element static_cast<float>), for GemmArgs::X32.
  void unroll(const double* xg, float* col, std::int64_t ld = 0) const;

  std::int64_t batch_, channels_, groups_, group_channels_, group_outputs_, taps_, in_plane_, out_plane_;
  std::vector<std::int32_t> table_;
  /// Per tap t and block of 8 outputs [8i, 8i + 8) (whole blocks only): 1 when the block reads
  /// 8 consecutive input elements (no padding), which unroll then copies as one vector.
  std::vector<std::uint8_t> consecutive_;
  /// A 1×1 kernel with unit stride and no padding reads the input itself: no im2col copy.
  bool direct_ = false;

 private:
  template <class T>
  void unroll_as(const double* xg, T* col, std::int64_t ld) const;
};

/// Conv: W [M, C/group, kernel...] is already the M×K weight matrix.
struct ConvGeometry {
  explicit ConvGeometry(const OpContext& ctx);
  Window window_;
  GroupedConvolution conv_;
};

/// ConvTranspose: W [C, M/group, kernel...]. The equivalent Conv's weight for output channel
/// m = g·Mg + j and term (c, t) of group g is W[g·Cg + c, j, taps−1−t]: transposed (input and
/// output channels swap) and flipped (reversing the row-major tap index flips every axis).
struct ConvTransposeGeometry {
  explicit ConvTransposeGeometry(const OpContext& ctx);
  /// W [C, M/group, taps] as the M×K matrix of the equivalent Conv.
  std::vector<double> rearranged(const std::vector<double>& w) const;
  Window window_;
  std::int64_t groups_, group_channels_, group_outputs_;
  GroupedConvolution conv_;
};

}  // namespace fpaudit::ops
