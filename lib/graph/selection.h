// Which input element each output element of a fixed selection copies, worked out from shapes
// and constant parameters once: shared by the folding rules (lib/graph/fold_data.cpp) and the
// kernels on runtime data (lib/kernels/ops/data_select.cpp), so the two can never disagree.
// A source of -1 means "an exact 0".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace fpaudit {

/// GatherElements along `axis` (normalised): out[i] reads data[i with the axis coordinate
/// replaced by indices[i]], negative indices counting from the end. Returns the problem when an
/// index is out of range.
std::vector<std::int64_t> gather_elements_sources(const Shape& data, const Shape& indices_shape,
                                                  const std::vector<std::int64_t>& indices, int axis, std::string& problem);

/// Trilu over the last two axes (row i, column j): upper keeps j - i ≥ k, lower j - i ≤ k.
std::vector<std::int64_t> trilu_sources(const Shape& x, std::int64_t k, bool upper);

}  // namespace fpaudit
