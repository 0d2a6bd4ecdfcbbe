// What a layer costs and holds, for reports: multiply-adds and parameter counts of a node of an
// inferred graph (infer_shapes must have run).
#pragma once

#include <cstdint>

#include "graph/graph.h"

namespace fpaudit {

/// Multiply-adds of one evaluation of the node. Gemm, MatMul, Conv and ConvTranspose: exactly
/// the products of their dot products (M·N·K; every kernel tap of every output, padding
/// included, as a dense kernel computes them); bias additions are not counted. Pools: one per
/// window element per output. Reductions and normalizations: one per input element. Other
/// arithmetic: one per output element. Pure data movement (Reshape, Transpose, Concat, ...,
/// Cast, Dropout, Identity): 0.
std::int64_t multiply_adds(const Graph& graph, const Node& node);

/// Elements of the node's floating-point constant inputs (its weights and biases).
std::int64_t parameter_count(const Graph& graph, const Node& node);

}  // namespace fpaudit
