// What a layer costs and holds, for reports: multiply-adds and parameter counts of a node of an
// inferred graph (infer_shapes must have run).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "graph/graph.h"

namespace fpaudit {

/// Multiply-adds of one evaluation of the node. Gemm, MatMul, Conv and ConvTranspose: exactly
/// the products of their dot products (M·N·K; every kernel tap of every output, padding
/// included, as a dense kernel computes them); bias additions are not counted. Pools: one per
/// window element per output. Reductions and normalizations: one per input element. Other
/// arithmetic: one per output element. Pure data movement (Reshape, Transpose, Concat, ...,
/// Cast, Dropout, Identity): 0.
std::int64_t multiply_adds(const Graph& graph, const Node& node);

/// Whether input `index` of an operator holds data the model stores in the network's own
/// precision (weights, biases, constant operands); false for the float32-only operator
/// parameters Resize's roi and scales and Dropout's ratio.
bool is_weight_input(const std::string& op, std::size_t index);

/// Elements of the node's floating-point constant inputs that are weights (is_weight_input).
std::int64_t parameter_count(const Graph& graph, const Node& node);

/// The model's parameters: parameter_count over the nodes with each constant counted once (an
/// expanded recurrent layer reads its weights at every time step, a tied embedding twice).
std::int64_t parameter_total(const Graph& graph);

}  // namespace fpaudit
