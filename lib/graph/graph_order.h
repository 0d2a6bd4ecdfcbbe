// Putting a loaded graph's nodes in order: every value defined once, every input defined, nodes
// sorted so each runs after the nodes it reads from (cycles refused, naming the nodes on one),
// and nodes that feed no graph output dropped.
#pragma once

#include "graph/graph.h"

namespace fpaudit {

/// Checks single assignment (no value defined twice, by an initializer, input or node) and that
/// every node input and graph output is defined.
void check_definitions(const Graph& graph);

/// Sorts graph.nodes topologically, keeping the file's order where the data allows (Kahn's
/// algorithm taking the earliest ready node). A cycle is refused, naming its nodes in order.
void sort_topologically(Graph& graph);

/// Drops nodes none of whose outputs reaches a graph output, and sets to "" the outputs of the
/// remaining nodes that nothing reads (ONNX's way of leaving an optional output out).
void drop_unused(Graph& graph);

}  // namespace fpaudit
