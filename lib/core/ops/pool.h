// What MaxPool, AveragePool and GlobalAveragePool work out at preparation, read by their kernel
// (lib/kernels/ops/pool.cpp) and their bound rule (lib/bounds/rules/reductions.cpp). Each output
// reads the input elements of its window that lie inside the input, listed in row-major tap
// order; padding adds nothing to a sum, so it only changes AveragePool's count.
#pragma once

#include <cstdint>
#include <vector>

#include "core/op_context.h"

namespace fpaudit::ops {

/// The windows of one input plane: for output position p, the input offsets
/// source[start[p] .. start[p+1]) and the divisor AveragePool uses.
struct PlaneWindows {
  std::vector<std::int64_t> start;
  std::vector<std::int32_t> source;
  std::vector<double> count;
  std::int64_t longest = 0;
};

/// MaxPool (max = true) and AveragePool over the planes of X [N, C, spatial...].
struct PoolGeometry {
  PoolGeometry(const OpContext& ctx, bool max);
  bool max_;
  PlaneWindows windows_;
  std::int64_t planes_ = 0, in_plane_ = 0, out_plane_ = 0;
};

/// GlobalAveragePool: the average of each whole plane of X [N, C, ...].
struct GlobalPoolGeometry {
  explicit GlobalPoolGeometry(const OpContext& ctx);
  std::int64_t planes_ = 0, plane_ = 1;
};

}  // namespace fpaudit::ops
