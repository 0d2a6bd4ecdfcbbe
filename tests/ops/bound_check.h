// Checking an operator's bound rule on every output element: a small model is evaluated in a
// chain and in the exact reference, layer by layer, with the chain's deterministic error bounds
// propagated through every layer (PlannedLayer::bound: the op type's registered bound rule, or
// the exact kernel run on the bounds; from the rounding of the inputs and the constants on); every element of every layer must satisfy |chain − reference| ≤ bound.
#pragma once

#include <string>
#include <vector>

#include "graph/model_builder.h"
#include "core/arithmetic.h"
#include "op_test_support.h"

namespace fpaudit::test {

struct BoundCheck {
  long checked = 0;      ///< output elements compared with their bound
  long violations = 0;   ///< elements whose error exceeded the bound
  std::vector<double> last_bound;  ///< the bounds of the last layer's first output
  std::vector<double> last_error;  ///< |chain − reference| there
};

/// Runs the model (all inputs fed) in `chain` and the exact reference and checks every bound.
BoundCheck check_bounds(const ModelBuilder& m, const std::vector<Feed>& inputs, const Arithmetic& chain);

/// Every named chain (the 8-bit ones too): CHECKs zero violations in each.
void check_bounds_every_chain(const ModelBuilder& m, const std::vector<Feed>& inputs);

}  // namespace fpaudit::test
