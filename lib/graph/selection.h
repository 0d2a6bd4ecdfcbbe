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

/// Pad (opset 2-21; modes constant, edge, reflect, wrap): along axis d, output coordinate o reads
/// input coordinate o - begin[d], or for a coordinate outside the input: the fill (-1,
/// constant), the nearest edge (edge), or its mirror image without repeating the edge
/// (reflect). pads = begins then ends; negative pads crop. Returns the problem for a bad mode,
/// or a reflection longer than the axis allows.
std::vector<std::int64_t> pad_sources(const Shape& x, const std::vector<std::int64_t>& pads, const std::string& mode,
                                      std::string& problem);

/// OneHot: the output has `depth` inserted at `axis` (normalised into [0, rank]); element
/// (…, k, …) is 1 (reads values[1]) where k equals the index at (…, …) (negative indices count
/// from the end of depth) and 0 (reads values[0]) elsewhere.
std::vector<std::int64_t> one_hot_sources(const Shape& indices_shape, const std::vector<double>& indices, std::int64_t depth,
                                          int axis);

}  // namespace fpaudit
