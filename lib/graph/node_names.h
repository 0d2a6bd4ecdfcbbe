// The names fpaudit gives ONNX nodes: the same rule wherever a node is named (the loader, and
// `fpaudit convert`, which finds the nodes of --keep in the file by these names).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_set>

namespace fpaudit {

/// Node names identify layers in every report, so they must be unique: an empty name becomes
/// "<op>_<index>", a repeated one "<name>_<index>" (index: the node's position in the file).
/// `taken` holds the names given so far, in file order; the new name is added to it.
std::string unique_node_name(std::string_view name, std::string_view op_type, std::size_t index,
                             std::unordered_set<std::string>& taken);

}  // namespace fpaudit
