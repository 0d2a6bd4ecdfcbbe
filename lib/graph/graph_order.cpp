#include "graph/graph_order.h"

#include <algorithm>
#include <queue>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "graph/errors.h"

namespace fpaudit {

namespace {

/// Which node (index) defines each node output.
std::unordered_map<std::string, std::size_t> producers(const Graph& graph) {
  std::unordered_map<std::string, std::size_t> by_value;
  for (std::size_t i = 0; i < graph.nodes.size(); ++i)
    for (const std::string& out : graph.nodes[i].outputs)
      if (!out.empty()) by_value.emplace(out, i);
  return by_value;
}

/// Follows producer links among the unsorted nodes from `start` until one repeats: that is a
/// cycle (every unsorted node has an unsorted producer, or it would have been ready).
std::vector<std::size_t> find_cycle(const Graph& graph, const std::vector<bool>& sorted, std::size_t start) {
  const auto by_value = producers(graph);
  std::vector<std::size_t> path;
  std::unordered_map<std::size_t, std::size_t> position;
  std::size_t at = start;
  while (!position.count(at)) {
    position[at] = path.size();
    path.push_back(at);
    for (const std::string& in : graph.nodes[at].inputs) {
      auto it = by_value.find(in);
      if (!in.empty() && it != by_value.end() && !sorted[it->second]) {
        at = it->second;
        break;
      }
    }
  }
  // path[position[at]..] is the cycle, each node reading from the next; report it in data order.
  std::vector<std::size_t> cycle(path.rbegin(), path.rend() - static_cast<std::ptrdiff_t>(position[at]));
  std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());  // start at the file's first
  return cycle;
}

}  // namespace

void check_definitions(const Graph& graph) {
  std::unordered_set<std::string> defined;
  for (const auto& [name, c] : graph.constants) defined.insert(name);
  for (const ValueInfo& in : graph.inputs) {
    if (in.name.empty()) fail(graph.source, "a graph input has no name");
    if (!defined.insert(in.name).second) fail(graph.source, fmt::format("input '{}' is declared twice", in.name));
  }
  for (const Node& n : graph.nodes)
    for (const std::string& out : n.outputs)
      if (!out.empty() && !defined.insert(out).second)
        fail_node(graph.source, n, fmt::format("output '{}' is already defined by an initializer, input or earlier node", out));
  for (const Node& n : graph.nodes)
    for (const std::string& in : n.inputs)
      if (!in.empty() && !defined.count(in))
        fail_node(graph.source, n, fmt::format("input '{}' is not defined by any initializer, graph input or node", in));
  for (const ValueInfo& out : graph.outputs)
    if (!defined.count(out.name)) fail(graph.source, fmt::format("output '{}' is not produced by any node", out.name));
}

void sort_topologically(Graph& graph) {
  const auto by_value = producers(graph);
  const std::size_t n = graph.nodes.size();
  std::vector<std::size_t> waiting(n, 0);            // unsorted producers each node reads from
  std::vector<std::vector<std::size_t>> readers(n);  // nodes reading each node's outputs
  for (std::size_t i = 0; i < n; ++i) {
    std::set<std::size_t> from;  // a node reading two outputs of one producer waits for it once
    for (const std::string& in : graph.nodes[i].inputs)
      if (auto it = by_value.find(in); !in.empty() && it != by_value.end()) from.insert(it->second);
    waiting[i] = from.size();
    for (std::size_t p : from) readers[p].push_back(i);
  }
  std::priority_queue<std::size_t, std::vector<std::size_t>, std::greater<>> ready;
  for (std::size_t i = 0; i < n; ++i)
    if (waiting[i] == 0) ready.push(i);
  std::vector<std::size_t> order;
  std::vector<bool> sorted(n, false);
  while (!ready.empty()) {
    const std::size_t i = ready.top();
    ready.pop();
    order.push_back(i);
    sorted[i] = true;
    for (std::size_t r : readers[i])
      if (--waiting[r] == 0) ready.push(r);
  }
  if (order.size() != n) {
    std::size_t start = 0;
    while (sorted[start]) ++start;
    const std::vector<std::size_t> cycle = find_cycle(graph, sorted, start);
    std::string names;
    for (std::size_t i : cycle) names += fmt::format("'{}' -> ", graph.nodes[i].name);
    names += fmt::format("'{}'", graph.nodes[cycle.front()].name);
    fail(graph.source, fmt::format("the graph has a cycle: {}", names));
  }
  std::vector<Node> nodes;
  nodes.reserve(n);
  for (std::size_t i : order) nodes.push_back(std::move(graph.nodes[i]));
  graph.nodes = std::move(nodes);
}

void drop_unused(Graph& graph) {
  // Walk backwards (the nodes are sorted): a node is live when a graph output or a live node
  // reads one of its outputs.
  std::unordered_set<std::string> needed;
  for (const ValueInfo& out : graph.outputs) needed.insert(out.name);
  std::vector<Node> live;
  for (auto it = graph.nodes.rbegin(); it != graph.nodes.rend(); ++it) {
    bool used = false;
    for (std::string& out : it->outputs) {
      if (needed.count(out)) used = true;
      else out.clear();
    }
    if (!used) continue;
    for (const std::string& in : it->inputs)
      if (!in.empty()) needed.insert(in);
    live.push_back(std::move(*it));
  }
  graph.nodes.assign(std::make_move_iterator(live.rbegin()), std::make_move_iterator(live.rend()));
}

}  // namespace fpaudit
