// `fpaudit advise`: which layers to keep in binary32 so that a 16-bit chain reaches a target.
// The search is guided by the audit's per-layer blame (the margin-directed bound's share of each
// layer, lib/shadow/margin; the local error's share where the model has no margin bound) and
// decided only by audits: every candidate set S is verified by auditing the mixed chain
// BASE+KEPT:S (core/mixed_arithmetic.h), and the figures reported are those of the final
// verifying audit, never an estimate.
//
//   1. audit the base chain; if it meets the target, nothing needs keeping;
//   2. grow: add the 1, 2, 4, 8, ... highest-blamed layers not yet kept (blame re-read from the
//      latest audit, so a layer that only mattered before its neighbour was kept drops back),
//      audit, until the target is met or every layer that rounds is kept;
//   3. shrink: bisect how much of the last batch is needed, then try dropping each earlier layer
//      alone, lowest blame first, keeping every drop the audit still accepts.
//
// Exact layers (data movement, ReLU, max pooling) never enter the ranking; one whose every
// runtime input is held in the kept format and one of whose readers is kept is kept with them,
// so that a value passes from kept layer to kept layer without a binary16 rounding between.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "shadow/audit.h"

namespace fpaudit {

struct AdviseTarget {
  enum class Kind { Flips, Certified, AccuracyDrop, RelError };
  Kind kind = Kind::Flips;
  double value = 0;
  std::string text;  ///< as given, e.g. "certified=99%"
};
/// Parses flips=N, certified=P% (0 < P ≤ 100), accuracy-drop=Xpp (X ≥ 0) and rel-error=T
/// (T > 0); throws std::invalid_argument naming the forms.
AdviseTarget parse_advise_target(std::string_view text);

/// The figures of one audit of one chain.
struct AdviseMetrics {
  long samples = 0;
  long flips = 0;      ///< samples whose top-1 class differs from the exact reference's
  /// Samples whose class the a-priori bounds prove (elementwise or margin-directed, whichever
  /// proves more: the audit table's "bounds a priori"); -1 when the audit did not compute them.
  long certified = -1;
  bool has_labels = false;
  double accuracy_drop_pp = 0;  ///< reference accuracy minus the chain's, in percentage points
  double rel_error = 0;         ///< largest ‖y − r‖₂/‖r‖₂ over samples and graph outputs
  long violations = 0;          ///< errors above a deterministic bound (any: fpaudit is wrong)
  double certified_percent() const { return samples > 0 ? 100.0 * static_cast<double>(certified) / static_cast<double>(samples) : 0; }
};
/// The metrics of chain `c` in an audit of `plan`.
AdviseMetrics advise_metrics(const Plan& plan, const AuditResult& r, std::size_t c);
bool meets(const AdviseMetrics& m, const AdviseTarget& t);
/// The target's figure, e.g. "flips 3", "certified 98.5%", "rel-error 2.1e-3".
std::string target_figure(const AdviseMetrics& m, const AdviseTarget& t);

/// One audit of the search.
struct AdviseStep {
  std::string phase;               ///< "base", "grow", "shrink"
  std::vector<std::string> kept;   ///< node names, graph order
  AdviseMetrics metrics;
  bool meets = false;
  double seconds = 0;
};

struct AdviseOptions {
  ChainSpec base;
  ChainSpec kept;  ///< the arithmetic of the kept layers (fp32)
  AdviseTarget target;
  long max_samples = -1;
  int threads = 0;
  std::string reference = "exact";
  /// Called after each audit.
  std::function<void(const AdviseStep&)> progress;
};

struct AdviseResult {
  bool reached = false;
  /// The set found (reached), or the best set tried (not reached), node names in graph order.
  std::vector<std::string> kept;
  ChainSpec chain;      ///< the base chain, or BASE+KEPT:kept
  AdviseMetrics base;   ///< the base chain's audit
  AdviseMetrics final;  ///< the final verifying audit of `chain`
  std::int64_t kept_multiply_adds = 0, total_multiply_adds = 0;
  std::vector<AdviseStep> history;
  AuditResult audit;    ///< the final verifying audit
  double seconds = 0;
  double mac_share() const {
    return total_multiply_adds > 0 ? static_cast<double>(kept_multiply_adds) / static_cast<double>(total_multiply_adds) : 0;
  }
};

/// Runs the search on the first `max_samples` samples of `inputs` (labels optional; required by
/// accuracy-drop). Throws ModelError / std::invalid_argument on bad input.
AdviseResult advise(const Plan& plan, const Constant& inputs, const Constant* labels, const AdviseOptions& options,
                    const std::string& input_name, const std::string& labels_name);

/// The keep file for `nodes` (keep.txt): a '#' comment header, then one node name per line, the
/// format `fpaudit convert --keep FILE` reads.
std::string keep_file_text(const std::vector<std::string>& nodes, const std::string& header);

}  // namespace fpaudit
