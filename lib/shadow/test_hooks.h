// TEST HOOKS: not user options, and no command-line flag reaches them. They let the test suite
// break fpaudit on purpose and check that the breakage is caught (mutation testing): a bound
// deliberately made too small must show up as violations, in first_violations and in
// `fpaudit audit --fail-on violation`'s exit code 1. tests/shadow/violation_test.cpp and
// tests/cli/audit_test.sh use them.
#pragma once

#include <string>

namespace fpaudit {

/// Multiplies every chain's bounds of one layer (propagated and local, deterministic and
/// probabilistic, as its rule returned them, before any check and before the next layer reads
/// them) by `factor`: a mutant of that layer's bound rule. Inactive by default.
struct BoundShrink {
  long layer = -1;      ///< index in execution order; -1: no layer
  double factor = 1.0;  ///< in [0, 1)
  bool active() const { return layer >= 0; }
};

/// The environment variable `fpaudit audit` reads the hook from: "LAYER:FACTOR", e.g. "3:0.5".
constexpr const char* kBoundShrinkVariable = "FPAUDIT_TEST_SHRINK_BOUND";

/// Parses "LAYER:FACTOR" (LAYER ≥ 0, 0 ≤ FACTOR < 1); std::invalid_argument naming the
/// variable otherwise.
BoundShrink parse_bound_shrink(const std::string& text);

/// The hook from kBoundShrinkVariable; inactive when it is unset or empty.
BoundShrink bound_shrink_from_environment();

}  // namespace fpaudit
