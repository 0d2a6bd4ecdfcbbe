// Folding: evaluating a node whose inputs are all constants, once, at load time. Rules for
// data movement copy values exactly; arithmetic rules compute in binary64 and round once to the
// node's dtype, which equals the correctly rounded result in that dtype for + - × ÷ √ (binary64
// has more than 2p+2 bits for every p ≤ 24, so the double rounding is innocuous). Functions
// that are not correctly rounded (exp, pow, ...) are not folded.
#pragma once

#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "graph/shape_context.h"

namespace fpaudit {

/// Returns one Constant per node output (outputs left out with "" may get an empty one), or
/// nullopt when this instance of the operator is not folded (it then stays a node).
using FoldRule = std::optional<std::vector<Constant>> (*)(const ShapeContext&, const std::vector<TensorType>& outputs);

struct FoldRuleEntry {
  std::string_view op;
  FoldRule rule;
};

FoldRule find_fold_rule(std::string_view op);
std::span<const FoldRuleEntry> layout_fold_rules();
std::span<const FoldRuleEntry> arithmetic_fold_rules();
std::span<const FoldRuleEntry> reduce_fold_rules();
std::span<const FoldRuleEntry> data_fold_rules();

// ---- helpers the rules share -----------------------------------------------------------

/// An empty constant of the given type (values or ints sized to its element count).
Constant make_constant(const TensorType& type);
/// Element i as a real number (integers converted exactly up to 2^53).
inline double real_at(const Constant& c, std::size_t i) {
  return c.values.empty() && !c.ints.empty() ? static_cast<double>(c.ints[i]) : c.values[i];
}
/// out[k] = in[offsets[k]] for the constant's own dtype.
Constant gather_offsets(const Constant& in, const TensorType& out, std::span<const std::int64_t> offsets);

}  // namespace fpaudit
