// Which input elements reduce onto which output, for the reductions over runtime data
// (reduce_select.cpp, reduce_norms.cpp): offsets computed once at preparation.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/op.h"

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

}  // namespace fpaudit::ops
