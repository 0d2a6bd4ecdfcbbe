// Building the one-line error messages: "<file>: node 'conv1' (Conv): <problem>". Every reader
// in lib/graph throws through these, so messages name things the same way everywhere.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "graph/graph.h"

namespace fpaudit {

/// How a model file is named in messages ("<memory>" for bytes parsed without a path).
std::string source_name(const std::filesystem::path& source);
/// "node 'conv1' (Conv)".
std::string node_label(const Node& node);

[[noreturn]] void fail(const std::filesystem::path& source, std::string_view problem);
[[noreturn]] void fail_node(const std::filesystem::path& source, const Node& node, std::string_view problem);
/// fail_node's message as a ConstantRequired naming the runtime value that must be a constant.
[[noreturn]] void fail_node_constant(const std::filesystem::path& source, const Node& node, std::string_view problem,
                                     const std::string& value);

/// Messages thrown by code that knows the node but not the file (Node::attr_int and friends)
/// start with "node '"; this prefixes the file when it is missing.
[[noreturn]] void rethrow_with_source(const std::filesystem::path& source, const ModelError& e);

}  // namespace fpaudit
