// `fpaudit tolerances`: per graph output, the rtol/atol a comparison test of a chain against the
// exact network or against fp32 can use, from one audit of the chain and fp32.
//
// The rule (stated in every output), with k = kToleranceSafety:
//   atol = min(proved, k × observed max |y − r|): alone, it covers every element seen k times
//          over, so the test passes on these samples however it combines atol and rtol;
//   rtol = k × observed median |y − r|/|r|: room in proportion to |expected| for outputs larger
//          than those seen (a maximum relative error is useless here: logits near zero have
//          relative errors near 1, and rtol = 4 would pass anything).
// `proved` is the largest deterministic a-posteriori bound on |y − ȳ| plus the reference's own
// bound on |r − ȳ|: a worst case that can be vacuous (thousands against an observed 0.05), so it
// only caps atol and is always shown beside the chosen figure. Against fp32 the figures go
// through the exact network: |y − y32| ≤ |y − ȳ| + |ȳ − y32|.
#pragma once

#include <string>
#include <vector>

#include "shadow/audit.h"

namespace fpaudit {

/// Observed errors are multiplied by this: two binades of room for samples not seen.
constexpr double kToleranceSafety = 4;

struct ToleranceFigures {
  double observed_abs = 0, observed_rel = 0;  ///< largest over samples and elements
  double typical_rel = 0;                     ///< median relative error
  double proved_abs = 0;  ///< +Inf where a bound is unbounded
  double atol = 0, rtol = 0;
};

struct OutputTolerance {
  std::string name;
  Shape shape;
  ToleranceFigures exact;  ///< the chain against the exact network
  ToleranceFigures fp32;   ///< the chain against fp32 (triangle bounds through the exact network)
};

struct ToleranceOptions {
  ChainSpec chain;
  long max_samples = -1;
  int threads = 0;
};

struct ToleranceResult {
  ChainSpec chain;
  long samples = 0;
  std::vector<OutputTolerance> outputs;
  double seconds = 0;
};

ToleranceResult derive_tolerances(const Plan& plan, const Constant& inputs, const ToleranceOptions& options,
                                  const std::string& input_name);

/// The rule, in words, for the printed report and the JSON.
std::string tolerance_rule();

}  // namespace fpaudit
