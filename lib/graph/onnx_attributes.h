// ONNX node attributes and Constant nodes → the IR's AttributeValue and Constant.
#pragma once

#include <map>
#include <string>

#include "graph/graph.h"
#include "graph/onnx_tensor.h"

namespace onnx {
class NodeProto;
}

namespace fpaudit {

/// The node's attributes. Graph-valued, sparse-tensor, type-proto and referenced (function)
/// attributes are refused naming the node; `node` must already carry its name and op_type.
std::map<std::string, AttributeValue> convert_attributes(const onnx::NodeProto& proto, const Node& node,
                                                         TensorContext& context);

/// The value of a Constant node (value, value_float(s), value_int(s)); exactly one must be set.
Constant constant_node_value(const Node& node, const std::filesystem::path& model);

}  // namespace fpaudit
