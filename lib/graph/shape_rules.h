// Output types and shapes of each operator, following the ONNX specification of opsets 9-17.
// A rule returns one TensorType per node output (also for outputs left out with ""), or fails
// naming the node. Rules are grouped by family in shape_rules_*.cpp.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "graph/shape_context.h"

namespace fpaudit {

using ShapeRule = std::vector<TensorType> (*)(const ShapeContext&);

struct ShapeRuleEntry {
  std::string_view op;
  ShapeRule rule;
};

/// The rule of an operator; nullptr when there is none.
ShapeRule find_shape_rule(std::string_view op);

// The families (each a table of entries), for find_shape_rule.
std::span<const ShapeRuleEntry> elementwise_shape_rules();
std::span<const ShapeRuleEntry> nn_shape_rules();
std::span<const ShapeRuleEntry> layout_shape_rules();
std::span<const ShapeRuleEntry> generator_shape_rules();
std::span<const ShapeRuleEntry> data_shape_rules();

/// The per-axis start, step and element count a Slice node selects, for every axis of its
/// data input (unsliced axes: start 0, step 1, the whole dimension). Shared by the shape rule
/// and the folding rule so the two can never disagree.
struct SliceAxis {
  std::int64_t start = 0, step = 1, count = 0;
};
std::vector<SliceAxis> slice_plan(const ShapeContext& ctx);

}  // namespace fpaudit
