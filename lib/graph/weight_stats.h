// What storing a layer's weights in a narrower format does to them: their range, and how many
// overflow, become zero or lose precision as subnormals in each format (fpaudit inspect).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "format/format.h"
#include "graph/graph.h"

namespace fpaudit {

/// Counts of the StoreEffects that lose more than a rounding (see format/inspect.h).
struct StoreCounts {
  std::int64_t overflow = 0;           ///< become ±Inf, saturate or become NaN
  std::int64_t underflow_to_zero = 0;  ///< nonzero values that become ±0
  std::int64_t subnormal = 0;          ///< land on a nonzero subnormal
  friend bool operator==(const StoreCounts&, const StoreCounts&) = default;
};

struct WeightStats {
  std::int64_t count = 0;  ///< elements of the node's floating-point constant weight inputs
  double min = 0, max = 0, absmax = 0;  ///< over those elements (NaN ignored); 0 when count is 0
  std::vector<StoreCounts> per_format;  ///< one per format asked for, in that order
};

/// The statistics of the node's floating-point constant weight inputs (see is_weight_input).
WeightStats weight_stats(const Graph& graph, const Node& node, std::span<const Format> formats);

}  // namespace fpaudit
