// ONNX node attributes and Constant nodes → the IR's AttributeValue and Constant.
#pragma once

#include <map>
#include <string>

#include "graph/graph.h"
#include "graph/onnx_tensor.h"

namespace onnx {
class GraphProto;
class NodeProto;
}

namespace fpaudit {

/// The node's attributes. Lists of graphs, sparse-tensor, type-proto and referenced (function)
/// attributes are refused naming the node; `node` must already carry its name and op_type.
std::map<std::string, AttributeValue> convert_attributes(const onnx::NodeProto& proto, const Node& node,
                                                         TensorContext& context);

/// A graph-valued attribute of `owner` (If's branches, Loop's body), converted as the model's
/// graph is (initializers, Constant nodes, nodes sorted, unread nodes dropped) except that its
/// nodes may read values of the enclosing graphs (defined in onnx_loader.cpp).
std::shared_ptr<const Graph> convert_subgraph(const onnx::GraphProto& g, const Node& owner, TensorContext& context);

/// The value of a Constant node (value, value_float(s), value_int(s)); exactly one must be set.
Constant constant_node_value(const Node& node, const std::filesystem::path& model);

}  // namespace fpaudit
