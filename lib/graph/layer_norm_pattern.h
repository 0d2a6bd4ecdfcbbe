// The LayerNorm exporters write as separate operators (PyTorch before opset 17, timm, many
// converters):
//     m = ReduceMean(x)  d = Sub(x, m)  q = Pow(d, 2)  v = ReduceMean(q)
//     w = Add(v, ε)      s = Sqrt(w)    y = Div(d, s)             [then Mul(γ), Add(β)]
// found by data flow, not by names or plan order: the bound propagation treats y as one operator
// of x (theory/layernorm-pattern.md), which a rule per operator cannot (the error of s can
// exceed s, and Div's rule is then infinite). The report's module grouping (lib/report/modules.h)
// groups the same operators for display from the layer list alone, where no graph is at hand.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace fpaudit {

struct LayerNormPattern {
  /// Positions in Graph::nodes of the seven operators, in the order above.
  std::size_t mean = 0, sub = 0, pow = 0, var = 0, add = 0, sqrt = 0, div = 0;
  std::string input;       ///< x
  std::string epsilon;     ///< the Add's constant operand (one element, ≥ 0)
  std::int64_t row = 0;    ///< n: elements normalised together (the product of the reduced trailing axes)
  std::int64_t rows = 0;   ///< number of rows: x holds rows·n elements, row r at [r·n, (r+1)·n)
};

/// Every occurrence in a shape-inferred graph. Matched only when the data flow is exactly the
/// one above (both ReduceMeans read x and q over the same trailing axes with keepdims, the Pow's
/// exponent is the constant 2, ε is a nonnegative one-element constant, the Div reads the Sub's
/// own output, x has a concrete shape); anything else is left to the per-operator rules.
std::vector<LayerNormPattern> find_layer_norm_patterns(const Graph& graph);

}  // namespace fpaudit
