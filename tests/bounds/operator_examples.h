// One small model per registered operator (and a few per operator where its rule has branches),
// for the tests that run every kernel's bound rule: the registry test lists any operator that
// has no example or whose bound() throws NoBound, and the operator audit runs each example
// through run_audit in every chain and asserts that no observation exceeds its bound.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "graph/model_builder.h"

namespace fpaudit::test {

struct OperatorExample {
  std::string op;       ///< the operator under test
  std::string variant;  ///< what this example exercises
  std::int64_t opset = 13;
  std::vector<std::int64_t> input;  ///< the input "x" (batch 1)
  double scale = 1;                 ///< inputs are scale·N(0, 1)
  std::function<void(ModelBuilder&)> build;  ///< nodes from "x" to the output "y"
};

/// Every example.
const std::vector<OperatorExample>& operator_examples();

/// The examples of the operators that once ran only on constants (operator_examples_runtime.cpp);
/// operator_examples() includes them.
void add_runtime_examples(std::vector<OperatorExample>& v);
/// Issue #15's second round: selections, losses, sums, Hardmax (operator_examples_data.cpp).
void add_data_examples(std::vector<OperatorExample>& v);
/// Issue #15's third round: Einsum, the normalisations, TopK, ScatterND, Mish, cubic Resize
/// (operator_examples_data.cpp; add_data_examples calls it).
void add_model_examples(std::vector<OperatorExample>& v);

/// The model of one example.
ModelBuilder example_model(const OperatorExample& e);

}  // namespace fpaudit::test
