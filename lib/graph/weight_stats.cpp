#include "graph/weight_stats.h"

#include <cmath>

#include "format/inspect.h"
#include "graph/cost.h"

namespace fpaudit {

WeightStats weight_stats(const Graph& graph, const Node& node, std::span<const Format> formats) {
  WeightStats s;
  s.per_format.resize(formats.size());
  bool any = false;
  for (std::size_t i = 0; i < node.inputs.size(); ++i) {
    const Constant* c = node.inputs[i].empty() ? nullptr : graph.constant(node.inputs[i]);
    if (!c || !is_float(c->dtype) || !is_weight_input(node.op_type, i)) continue;
    s.count += c->size();
    for (double v : c->values) {
      if (!std::isnan(v)) {
        s.min = any ? std::min(s.min, v) : v;
        s.max = any ? std::max(s.max, v) : v;
        s.absmax = std::max(s.absmax, std::fabs(v));
        any = true;
      }
      for (std::size_t f = 0; f < formats.size(); ++f) {
        switch (store_effect(formats[f], v)) {
          case StoreEffect::Overflow: ++s.per_format[f].overflow; break;
          case StoreEffect::UnderflowToZero: ++s.per_format[f].underflow_to_zero; break;
          case StoreEffect::Subnormal: ++s.per_format[f].subnormal; break;
          default: break;
        }
      }
    }
  }
  return s;
}

}  // namespace fpaudit
