// Shapes of a model whose inputs have symbolic dimensions ("N", "seq"), without guessing their
// values: the model is inferred at three probe assignments of the symbols (distinct primes per
// symbol and probe, large enough for any window), and each dimension or count is described by
// how it varies across them: a number when it does not, "N" or "16N" or "N+2" when it is affine
// in one symbol, "N*seq" for a product of two, "?" otherwise. `fpaudit inspect` uses it when no
// shape and no data are given.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace fpaudit {

/// The symbolic dimensions of the graph's runtime inputs in order of appearance, each named once:
/// its dim_param, or "<input>.<axis>" for an unnamed one.
std::vector<std::string> input_symbols(const Graph& loaded);

/// A quantity measured at the three probes.
using Probed = std::array<std::int64_t, 3>;

class SymbolicShapes {
 public:
  /// Infers `loaded` at the three probes; the ModelError of a probe that fails is thrown.
  explicit SymbolicShapes(const Graph& loaded);
  const std::vector<std::string>& symbols() const { return symbols_; }
  /// The model inferred at the first probe (nodes, weights; its shapes are not the model's).
  const Graph& graph() const { return graphs_[0]; }
  /// The three inferred graphs (the same nodes in the same order).
  const std::array<Graph, 3>& graphs() const { return graphs_; }
  /// Input k's shape as text, dimensions joined by "x" ("Nx1x8x8").
  std::string input_shape(std::size_t k) const;
  /// A value's shape as text ("Nx2x6x6").
  std::string value_shape(const std::string& name) const;
  /// A count measured in each graph (multiply-adds), as text ("648N").
  std::string describe(const Probed& v) const;

 private:
  std::vector<std::string> symbols_;
  std::array<Graph, 3> graphs_;
  std::string shape_text(const std::array<const Shape*, 3>& s) const;
};

}  // namespace fpaudit
