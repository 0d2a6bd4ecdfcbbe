// The sliding window shared by Conv, ConvTranspose and the pools, resolved once at preparation:
// the attributes with ONNX's defaults, the padding auto_pad implies for the concrete shapes, and
// a tap table saying, for every kernel tap and output position, which input element it reads
// (or that it reads padding). Kernels then run over plain integer tables: no index arithmetic,
// no branching on attributes and no allocation per element.
#pragma once

#include <cstdint>
#include <vector>

#include "core/op_context.h"

namespace fpaudit::ops {

/// A window's geometry along each of the spatial axes.
struct Window {
  std::vector<std::int64_t> kernel, strides, dilations;
  std::vector<std::int64_t> pad_begin, pad_end;  ///< resolved (auto_pad applied); may be < 0 for ConvTranspose
  std::vector<std::int64_t> in, out;             ///< spatial sizes of one input and one output plane
  std::size_t rank() const { return kernel.size(); }
  std::int64_t taps() const;        ///< kernel positions: ∏ kernel
  std::int64_t in_plane() const;    ///< ∏ in
  std::int64_t out_plane() const;   ///< ∏ out
};

/// Reads kernel_shape (or takes `kernel`), strides, dilations, pads and auto_pad for a Conv or
/// a pool whose input is [N, C, in...] and output [N, C', out...], and resolves SAME_UPPER /
/// SAME_LOWER padding: the total is what makes the output size shape inference gave, the odd
/// extra pixel at the end (UPPER) or the beginning (LOWER).
Window read_conv_window(const OpContext& ctx, const std::vector<std::int64_t>& kernel);

/// The same for ConvTranspose: pads explicit, or derived from output_shape / auto_pad with
/// ONNX's rule (total = stride·(in−1) + output_padding + effective kernel − out; SAME_UPPER puts
/// the odd pixel at the end, every other mode at the beginning).
Window read_conv_transpose_window(const OpContext& ctx, const std::vector<std::int64_t>& kernel);

/// Offset of the input element a tap reads, per (tap, output position): table[t·out_plane + p]
/// is an offset into one input plane (row-major), or kPadding. Taps and positions are both in
/// row-major order of their multi-indices.
inline constexpr std::int32_t kPadding = -1;

/// Conv and pools: along each axis, tap t of output o reads input o·stride − pad_begin + t·dilation.
std::vector<std::int32_t> forward_taps(const OpContext& ctx, const Window& w);

/// ConvTranspose as a Conv of the input upsampled by the strides (stride−1 zeros between
/// elements) and padded by dilation·(kernel−1) − pad_begin, with the kernel flipped: tap t of
/// output o reads the upsampled position o + pad_begin − (kernel−1−t)·dilation, which is input
/// element q/stride when q is a multiple of the stride inside the input, and a zero otherwise.
std::vector<std::int32_t> transposed_taps(const OpContext& ctx, const Window& w);

}  // namespace fpaudit::ops
