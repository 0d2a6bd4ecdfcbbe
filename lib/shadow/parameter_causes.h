// Parameter-level causes (issue 15, point 4): every weight or constant that overflows, flushes
// to zero or becomes subnormal when a chain rounds it into its storage format, listed at each
// layer that consumes it. The layer's own (local) error in the audit is what that did to the
// layer's output; the report puts the two side by side (report/audit_json.cpp).
#pragma once

#include <string>
#include <vector>

#include "core/arithmetic.h"
#include "shadow/plan.h"

namespace fpaudit {
class ConstantStore;
}

namespace fpaudit {

struct ParameterCause {
  int layer = -1;         ///< the consuming layer (index into plan.layers())
  std::string parameter;  ///< the constant's value name
  int chain = -1;         ///< index into the audit's chains
  long elements = 0;
  long overflow = 0;   ///< |w| at or beyond the format's overflow threshold: now ±Inf (or NaN, or saturated)
  long flushed = 0;    ///< w ≠ 0 rounded to 0
  long subnormal = 0;  ///< rounded to a nonzero value below the smallest normal
  double max_magnitude = 0;  ///< largest |w| of the exact constant
};

/// The causes of every chain, in layer order, then input order, then chain order. `rounded[c]`
/// holds chain c's rounded constants (ConstantStore::rounded); only constants with at least
/// one event are listed.
std::vector<ParameterCause> find_parameter_causes(const Plan& plan, const std::vector<ChainSpec>& chains,
                                                  const std::vector<const ConstantStore*>& rounded);

}  // namespace fpaudit
