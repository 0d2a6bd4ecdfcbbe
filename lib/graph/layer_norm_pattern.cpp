#include "graph/layer_norm_pattern.h"

#include <cmath>
#include <map>
#include <optional>

#include "graph/params.h"

namespace fpaudit {

namespace {

/// The one value of a one-element float constant, or nullopt.
std::optional<double> scalar_constant(const Graph& g, const std::string& name) {
  const Constant* c = g.constant(name);
  if (!c || c->size() != 1) return std::nullopt;
  if (!c->values.empty()) return c->values[0];
  if (!c->ints.empty()) return static_cast<double>(c->ints[0]);
  return std::nullopt;
}

/// The first reduced axis when a ReduceMean with keepdims reduces exactly the trailing axes
/// [k, rank) of a rank-`rank` input (k = 0: every axis), or -1.
std::int64_t trailing_axes(const Graph& g, const Node& n, std::int64_t rank) {
  if (n.op_type != "ReduceMean" || n.attr_int("keepdims", 1) != 1) return -1;
  std::vector<std::int64_t> axes = int_list_param(g, n, "axes", 1).value_or(std::vector<std::int64_t>{});
  if (axes.empty()) {
    if (n.attr_int("noop_with_empty_axes", 0) != 0) return -1;
    return 0;
  }
  std::vector<bool> reduced(static_cast<std::size_t>(rank), false);
  for (std::int64_t a : axes) {
    const std::int64_t d = normalize_axis(g, n, a, rank);
    if (reduced[static_cast<std::size_t>(d)]) return -1;
    reduced[static_cast<std::size_t>(d)] = true;
  }
  std::int64_t first = rank;
  while (first > 0 && reduced[static_cast<std::size_t>(first - 1)]) --first;
  for (std::int64_t d = 0; d < first; ++d)
    if (reduced[static_cast<std::size_t>(d)]) return -1;
  return first == rank ? -1 : first;
}

}  // namespace

std::vector<LayerNormPattern> find_layer_norm_patterns(const Graph& g) {
  std::map<std::string, std::size_t> producer;
  for (std::size_t i = 0; i < g.nodes.size(); ++i)
    for (const std::string& o : g.nodes[i].outputs)
      if (!o.empty()) producer[o] = i;
  // The node producing `value` if its op type is `op` (and it has `inputs` inputs at least).
  auto made_by = [&](const std::string& value, const char* op, std::size_t inputs) -> const Node* {
    const auto it = producer.find(value);
    if (it == producer.end()) return nullptr;
    const Node& n = g.nodes[it->second];
    return n.op_type == op && n.inputs.size() >= inputs ? &n : nullptr;
  };
  auto at = [&](const Node* n) { return producer.at(n->outputs[0]); };

  std::vector<LayerNormPattern> found;
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& div = g.nodes[i];
    if (div.op_type != "Div" || div.inputs.size() != 2) continue;
    const Node* sqrt = made_by(div.inputs[1], "Sqrt", 1);
    const Node* sub = made_by(div.inputs[0], "Sub", 2);
    if (!sqrt || !sub) continue;
    const Node* add = made_by(sqrt->inputs[0], "Add", 2);
    if (!add) continue;
    // ε on either side of the Add.
    const int eps_side = scalar_constant(g, add->inputs[1]) ? 1 : scalar_constant(g, add->inputs[0]) ? 0 : -1;
    if (eps_side < 0) continue;
    const double eps = *scalar_constant(g, add->inputs[static_cast<std::size_t>(eps_side)]);
    if (!(eps >= 0) || !std::isfinite(eps)) continue;
    const Node* var = made_by(add->inputs[static_cast<std::size_t>(1 - eps_side)], "ReduceMean", 1);
    if (!var) continue;
    const Node* pow = made_by(var->inputs[0], "Pow", 2);
    if (!pow || pow->inputs[0] != div.inputs[0]) continue;
    const std::optional<double> two = scalar_constant(g, pow->inputs[1]);
    if (!two || *two != 2.0) continue;
    const std::string& x = sub->inputs[0];
    const Node* mean = made_by(sub->inputs[1], "ReduceMean", 1);
    if (!mean || mean->inputs[0] != x) continue;
    const ValueInfo* xv = g.value(x);
    const ValueInfo* dv = g.value(div.inputs[0]);
    const ValueInfo* yv = g.value(div.outputs[0]);
    if (!xv || !dv || !yv || !xv->has_shape || xv->shape.empty() || xv->shape != dv->shape || xv->shape != yv->shape) continue;
    bool concrete = true;
    for (std::int64_t d : xv->shape) concrete = concrete && d > 0;
    if (!concrete) continue;
    const auto rank = static_cast<std::int64_t>(xv->shape.size());
    const std::int64_t first = trailing_axes(g, *mean, rank);
    if (first < 0 || trailing_axes(g, *var, rank) != first) continue;
    LayerNormPattern p;
    p.mean = at(mean), p.sub = at(sub), p.pow = at(pow), p.var = at(var), p.add = at(add), p.sqrt = at(sqrt), p.div = i;
    p.input = x;
    p.epsilon = add->inputs[static_cast<std::size_t>(eps_side)];
    p.row = 1;
    for (std::int64_t d = first; d < rank; ++d) p.row *= xv->shape[static_cast<std::size_t>(d)];
    p.rows = 1;
    for (std::int64_t d = 0; d < first; ++d) p.rows *= xv->shape[static_cast<std::size_t>(d)];
    found.push_back(std::move(p));
  }
  return found;
}

}  // namespace fpaudit
