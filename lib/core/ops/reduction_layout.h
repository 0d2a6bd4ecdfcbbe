// Which input elements reduce onto which output, for the reductions over runtime data: offsets
// computed once at preparation, read by their kernels (lib/kernels/ops/reduce_select.cpp,
// reduce_norms.cpp, reduce_prod.cpp) and their bound rules (lib/bounds/rules/runtime_rounded.cpp).
#pragma once

#include <cstdint>
#include <vector>

#include "core/op_context.h"
#include "core/tensor.h"

namespace fpaudit::ops {

/// Output o reads x[bases[o] + terms[j]] for every j, both row-major (over the kept axes, and
/// over the reduced ones).
struct Reduction {
  std::vector<std::int64_t> terms{0}, bases{0};
  Reduction(const Shape& x, const std::vector<bool>& reduced);
};

/// The axes a Reduce* node reduces (axes from the attribute before opset 18 or the input since;
/// none means all). Sets `prep` to the axes input when there is one, and `noop` when no axes are
/// given and noop_with_empty_axes is set (then nothing is reduced).
std::vector<bool> reduced_axes(const OpContext& ctx, std::vector<std::size_t>& prep, bool& noop);

/// ReduceL1, ReduceSumSquare, ReduceL2, ReduceLogSumExp, ReduceProd: the reduced axes (no
/// noop_with_empty_axes without axes) and the axes input read at preparation.
struct RoundedReduction {
  explicit RoundedReduction(const OpContext& ctx);
  std::vector<std::size_t> prep_;
  Reduction r_;
};

/// ReduceMax, ReduceMin (from their axes) and GlobalMaxPool (max over the planes).
struct ExtremumReduction {
  ExtremumReduction(const OpContext& ctx, bool global);
  std::vector<std::size_t> prep_;
  Reduction r_;
};

/// ArgMax, ArgMin: one axis, and select_last_index.
struct ArgReduction {
  explicit ArgReduction(const OpContext& ctx);
  bool last_;
  Reduction r_;
};

}  // namespace fpaudit::ops
