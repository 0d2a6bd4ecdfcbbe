#include "graph/errors.h"

#include <fmt/format.h>

namespace fpaudit {

std::string source_name(const std::filesystem::path& source) {
  return source.empty() ? std::string("<memory>") : source.string();
}

std::string node_label(const Node& node) { return fmt::format("node '{}' ({})", node.name, node.op_type); }

void fail(const std::filesystem::path& source, std::string_view problem) {
  throw ModelError(fmt::format("{}: {}", source_name(source), problem));
}

void fail_node(const std::filesystem::path& source, const Node& node, std::string_view problem) {
  throw ModelError(fmt::format("{}: {}: {}", source_name(source), node_label(node), problem));
}

void rethrow_with_source(const std::filesystem::path& source, const ModelError& e) {
  const std::string_view what = e.what();
  if (what.starts_with("node '")) fail(source, what);
  throw e;
}

}  // namespace fpaudit
