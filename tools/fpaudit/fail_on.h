// --fail-on: the conditions under which `fpaudit audit` exits 1, for CI.
//   GATE            any occurrence fails (overflow, nan, flip, flip-fp32, lemma, uncertified, violation)
//   GATE>N          more than N occurrences, in any one chain
//   flip-rate>X%    more than X percent of the samples change class against the exact reference
//   accuracy-drop>Ypp  a chain's accuracy on the labels is more than Y percentage points below
//                   the exact reference's (needs --labels)
// and the task verdicts (shadow/task.h), over every output judged by that task:
//   tolerance[>N]           regression samples outside --tolerance (observed against the reference)
//   tolerance-unproved[>N]  regression samples whose bounds do not prove them within --tolerance
//   pixel-flips[>X%]        flipped decisions (segmentation pixels, detection elements), in percent
// The spec is parsed before the audit; a failed gate is reported per chain with the measured
// value and the threshold.
#pragma once

#include <string>
#include <vector>

#include "shadow/audit.h"

namespace fpaudit::cli {

struct FailGate {
  enum class Unit { Count, Percent, PercentagePoints };
  std::string name;      ///< "overflow", "flip-rate", ...
  double threshold = 0;  ///< fails when the measured value exceeds it
  Unit unit = Unit::Count;
};

/// Parses one gate ("overflow", "flip>3", "flip-rate>0.1%", "accuracy-drop>0.2pp"); throws
/// std::invalid_argument with a one-line message naming the gate and what is expected.
FailGate parse_fail_gate(const std::string& text);

/// The gates names, for messages and --help.
const std::vector<std::string>& fail_gate_names();

/// A task gate needs an output judged by its task: std::invalid_argument (a usage error) naming
/// the gate and the outputs' tasks otherwise.
void check_gate_tasks(const std::vector<FailGate>& gates, const std::vector<OutputTask>& tasks);

/// One line per gate and chain that failed: "fp16: flip-rate 0.35% > 0.1%".
std::vector<std::string> failed_gates(const AuditResult& r, const std::vector<FailGate>& gates);

}  // namespace fpaudit::cli
