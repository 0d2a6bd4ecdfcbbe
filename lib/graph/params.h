// Operator parameters that ONNX moved from attributes to inputs between opsets (Squeeze,
// Unsqueeze and ReduceSum axes and Split sizes in 13, Slice starts/ends/axes/steps in 10, Clip
// min/max in 11, Dropout ratio in 12), read the same way whatever the model's opset. After
// infer_shapes such inputs are always constants, so the engine reads them through these too.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace fpaudit {

/// The node's integer-list parameter: attribute `attr` when the node has it, else the constant
/// integer input `input_index` when present (a scalar reads as one element); nullopt when
/// neither is given. Throws ModelError naming the node when the input is not a constant
/// integer tensor of rank ≤ 1, or when both forms are given.
std::optional<std::vector<std::int64_t>> int_list_param(const Graph& graph, const Node& node, const std::string& attr,
                                                        std::size_t input_index);

/// The node's scalar float parameter (Clip min/max, Dropout ratio): attribute `attr`, else the
/// constant one-element input `input_index`; nullopt when neither is given.
std::optional<double> float_param(const Graph& graph, const Node& node, const std::string& attr,
                                  std::size_t input_index);

/// axis in [-rank, rank) mapped to [0, rank); out of range throws naming the node.
std::int64_t normalize_axis(const Graph& graph, const Node& node, std::int64_t axis, std::int64_t rank);

}  // namespace fpaudit
