#include "core/mixed_arithmetic.h"

#include <map>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "core/chain_arithmetic.h"
#include "graph/graph.h"

namespace fpaudit {

namespace {
/// The plain chain a mixed chain's nodes run in when not kept.
ChainSpec base_of(const ChainSpec& spec) {
  ChainSpec base = spec;
  base.kept.reset();
  base.keep.clear();
  base.kept_summary.clear();
  return base;
}
}  // namespace

MixedArithmetic::MixedArithmetic(const ChainSpec& spec)
    : spec_(spec),
      base_(std::make_unique<ChainArithmetic>(base_of(spec))),
      kept_(std::make_unique<ChainArithmetic>(*spec.kept)),
      base_model_(base_->rounding_model()),
      kept_model_(kept_->rounding_model()),
      selectors_(spec.keep.begin(), spec.keep.end()) {
  if (spec.kept->kept) throw std::invalid_argument("'" + spec.name + "': the kept chain of a mixed chain must be a plain chain");
}

bool MixedArithmetic::keeps(const Node& node) const { return selectors_.count(node.op_type) != 0 || selectors_.count(node.name) != 0; }

bounds::ArithmeticModel MixedArithmetic::rounding_model() const {
  bounds::ArithmeticModel m = base_model_;
  m.mixed = this;
  return m;
}

void resolve_kept(ChainSpec& spec, const Graph& graph) {
  if (!spec.kept) return;
  std::set<std::string> nodes;
  std::vector<std::string> parts;
  for (const std::string& sel : spec.keep) {
    long by_type = 0;
    bool by_name = false;
    for (const Node& n : graph.nodes) {
      if (n.op_type == sel) ++by_type, nodes.insert(n.name);
      if (n.name == sel) by_name = true, nodes.insert(n.name);
    }
    if (by_type == 0 && !by_name)
      throw std::invalid_argument(fmt::format("no node or operator type '{}' in {}", sel, graph.source.string()));
    parts.push_back(by_type > 0 ? fmt::format("{} x{}", sel, by_type) : sel);
  }
  // A summary for people: `fpaudit advise` keeps a hundred nodes by name, and the whole list is
  // in the chain's name already, so past six selectors the summary names four and counts the rest.
  constexpr std::size_t kListed = 6, kWhenClipped = 4;
  const std::size_t listed = parts.size() <= kListed ? parts.size() : kWhenClipped;
  std::string list;
  for (std::size_t i = 0; i < listed; ++i) list += (list.empty() ? "" : ", ") + parts[i];
  if (listed < parts.size()) list += fmt::format(" and {} more", parts.size() - listed);
  spec.kept_summary = fmt::format("{} node{} ({})", nodes.size(), nodes.size() == 1 ? "" : "s", list);
}

std::string kept_text(const ChainSpec& spec) {
  if (!spec.kept) return "";
  const ChainSpec& k = *spec.kept;
  std::string how(k.storage.name);
  if (!(k.storage == k.accumulator)) how += " storage, " + std::string(k.accumulator.name) + " accumulation";
  if (!(k.schedule == DotSchedule::sequential())) how += ", " + schedule_name(k.schedule) + " sums";
  std::string what = spec.kept_summary;
  if (what.empty())
    for (const std::string& s : spec.keep) what += (what.empty() ? "" : ", ") + s;
  return "kept in " + how + ": " + what;
}

}  // namespace fpaudit
