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

void fail_node_constant(const std::filesystem::path& source, const Node& node, std::string_view problem,
                        const std::string& value) {
  throw ConstantRequired(fmt::format("{}: {}: {}", source_name(source), node_label(node), problem), value);
}

void rethrow_with_source(const std::filesystem::path& source, const ModelError& e) {
  const std::string_view what = e.what();
  const bool prefix = what.starts_with("node '");
  // Rethrown as the type it was (a ConstantRequired keeps the value it names).
  if (const auto* c = dynamic_cast<const ConstantRequired*>(&e)) {
    if (prefix) throw ConstantRequired(fmt::format("{}: {}", source_name(source), what), c->value());
    throw *c;
  }
  if (prefix) fail(source, what);
  throw e;
}

}  // namespace fpaudit
