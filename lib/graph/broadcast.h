// NumPy broadcasting and the index arithmetic the folding rules share: row-major strides and
// the offset into a broadcast operand of each output element.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "graph/graph.h"

namespace fpaudit {

/// The multidirectional (NumPy) broadcast of two shapes; nullopt when they do not broadcast.
/// A dimension of 1 stretches to the other's, including to 0.
std::optional<Shape> broadcast_shapes(const Shape& a, const Shape& b);

/// Row-major strides of a shape (the last dimension has stride 1).
std::vector<std::int64_t> strides_of(const Shape& s);

/// For each element of `out` (row-major), its offset into an operand of shape `in` that
/// broadcasts to `out` (dimensions of 1, or missing at the front, repeat).
std::vector<std::int64_t> broadcast_offsets(const Shape& in, const Shape& out);

}  // namespace fpaudit
