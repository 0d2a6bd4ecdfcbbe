// Einsum's equation, read once for the shape rule (graph/shape_rules_nn.cpp) and for the
// kernel's and the bound rule's geometry (core/ops/einsum.h), so the three agree on every label.
//
// Grammar (ONNX, as numpy.einsum): "term,term,...->output" or, implicit, "term,term,...". A term
// is letters a-z, A-Z, each one axis, with at most one "..." standing for the axes the letters do
// not name (the ellipsis axes of all operands broadcast against each other, aligned on the right).
// A letter repeated in one term takes the diagonal; a letter absent from the output is summed.
// The implicit output is the ellipsis axes followed by the letters used exactly once, in
// alphabetical order (upper case before lower case, as numpy sorts them).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "graph/graph.h"

namespace fpaudit {

struct EinsumSpec {
  /// Labels are numbered: the letters by first appearance, then the ellipsis axes.
  std::vector<std::int64_t> size;               ///< per label, its extent (after broadcasting)
  /// Per operand, the label of each of its axes; a label whose extent this operand has as 1
  /// while size[] is larger is broadcast (stride 0).
  std::vector<std::vector<int>> operand_labels;
  std::vector<int> output_labels;               ///< the output's axes, in order
  std::vector<int> summed_labels;               ///< the labels not in the output, by number
  Shape output_shape;
};

/// Reads the equation against the operands' shapes; on a problem, sets `problem` to one line
/// (naming the term or label) and returns an empty spec.
EinsumSpec parse_einsum(std::string_view equation, const std::vector<Shape>& operands, std::string& problem);

}  // namespace fpaudit
