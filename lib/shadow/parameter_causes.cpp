#include "shadow/parameter_causes.h"

#include <cmath>

#include "format/format.h"
#include "shadow/constant_store.h"

namespace fpaudit {

std::vector<ParameterCause> find_parameter_causes(const Plan& plan, const std::vector<ChainSpec>& chains,
                                                  const std::vector<const ConstantStore*>& rounded) {
  std::vector<ParameterCause> out;
  std::vector<double> r;
  const auto& layers = plan.layers();
  for (std::size_t l = 0; l < layers.size(); ++l)
    for (int slot : layers[l].inputs) {
      if (slot < 0 || !plan.slots()[slot].constant) continue;
      const Constant& c = *plan.slots()[slot].constant;
      if (c.values.empty()) continue;  // integer and boolean constants are exact in every format
      for (std::size_t k = 0; k < chains.size(); ++k) {
        // The format the constant is held in (core/mixed_arithmetic.h: a mixed chain holds it in
        // the kept one when a kept node reads it).
        bool kept = false;
        for (int reader : plan.readers(slot)) kept = kept || chains[k].keeps(*layers[static_cast<std::size_t>(reader)].node);
        const Format& f = kept ? chains[k].kept->storage : chains[k].storage;
        rounded[k]->expand(slot, r);
        ParameterCause p{static_cast<int>(l), plan.slots()[slot].name, static_cast<int>(k), static_cast<long>(r.size()), 0, 0, 0, 0};
        for (std::size_t i = 0; i < r.size(); ++i) {
          const double w = c.values[i], a = std::fabs(w);
          if (!std::isfinite(w)) continue;  // not a rounding event
          p.max_magnitude = std::fmax(p.max_magnitude, a);
          if (a >= overflow_threshold(f) || !std::isfinite(r[i])) ++p.overflow;
          else if (w != 0 && r[i] == 0) ++p.flushed;
          else if (r[i] != 0 && std::fabs(r[i]) < min_normal(f)) ++p.subnormal;
        }
        if (p.overflow + p.flushed + p.subnormal > 0) out.push_back(std::move(p));
      }
    }
  return out;
}

}  // namespace fpaudit
