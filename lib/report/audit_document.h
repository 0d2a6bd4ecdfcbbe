// The audit JSON (schema "fpaudit.audit", version 1; docs/audit-json.md) read back into plain
// structs, so that every renderer works the same from a fresh run and from a saved file, and
// only this file knows where a number lives in the document.
//
// JSON has no NaN or Inf, so the audit writes non-finite numbers as null. Here null becomes NaN
// ("not measured"), except where the schema gives it a meaning: a headroom is +Inf (no nonzero
// value was seen) and a drift δ is +Inf (the chain's logits went non-finite).
#pragma once

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fpaudit {

/// A saved run that cannot be read: the message is "<file>: <problem>".
class ReportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

constexpr const char* kAuditSchema = "fpaudit.audit";

/// count, max, mean and two quantiles of one non-negative quantity (over elements).
struct Quantiles {
  std::uint64_t count = 0;
  double max = 0, mean = 0, p50 = 0, p99 = 0;
};

/// One kind of error (propagated or local) of one chain at one layer.
struct ErrorView {
  Quantiles abs, rel, ulps;
  double normwise_max = 0, normwise_mean = 0;  ///< per sample: ‖y - r‖₂ / ‖r‖₂
  double cosine_min = 1, cosine_mean = 1;
  long worst_sample = -1, worst_element = -1;  ///< of the largest ulp error
};

/// An observation above its deterministic bound.
struct ViolationView {
  long sample = -1, element = -1;
  double observed = 0, bound = 0;
};

/// Observed errors against their deterministic and probabilistic bounds.
struct BoundView {
  std::uint64_t checked = 0, unbounded = 0, violations = 0;
  std::vector<ViolationView> first_violations;
  Quantiles bound;  ///< the deterministic bound itself
  Quantiles ratio;  ///< observed / deterministic bound
  std::uint64_t prob_exceeded = 0;
  double exceedance_rate = 0;               ///< NaN when nothing was checked
  double promised_failure_probability = 0;  ///< per element
  Quantiles prob_ratio;                     ///< observed / probabilistic bound
};

struct EventView {
  std::uint64_t elements = 0, overflow = 0, nan = 0, flushed = 0, subnormal = 0;
  double max_magnitude = 0;
  double headroom_log2 = 0;  ///< +Inf when every value was zero
  long first_nonfinite_sample = -1;
};

struct LayerChainView {
  ErrorView propagated, local;
  BoundView propagated_bound, local_bound;
  EventView events;
};

struct LayerView {
  int index = 0;
  std::string name, op;
  bool exact_op = false;  ///< data movement or selection: creates no error of its own
  long multiply_adds = 0;
  std::vector<LayerChainView> chains;  ///< in the document's chain order
};

struct ChainView {
  std::string name, storage, accumulator, schedule;
  double unit_roundoff = 0;
  /// A mixed chain's kept nodes: "kept in binary32: 3 nodes (LayerNormalization x2, /head/Gemm)".
  std::string kept;
  /// "binary16 storage, binary32 accumulation, sequential sums": how every format names it.
  std::string arithmetic_text() const {
    return storage + " storage, " + accumulator + " accumulation, " + schedule + " sums" + (kept.empty() ? "" : "; " + kept);
  }
};

/// A classification field this version does not know (a newer audit's, such as an a-priori
/// "certified predicted" count), flattened: nested objects give keys like "predicted.certified".
struct ExtraField {
  std::string key;
  nlohmann::json value;  ///< a number, boolean, string or null
};

/// classification.chains.NAME.certified (docs/audit-json.md): samples certified a priori, a
/// posteriori and observed. Absent from audits written before the certificates.
struct CertifiedView {
  bool present = false;
  bool a_priori_present = false;  ///< false with --no-apriori
  bool a_priori_all_present = false;  ///< ... or without an fp32 chain
  long observed = 0;
  long a_priori_det = 0, a_priori_prob = 0, a_priori_all_det = 0, a_priori_all_prob = 0;
  long a_posteriori_det = 0, a_posteriori_prob = 0;
  long violations = 0, probabilistic_failures = 0;
  double failure_probability = 0;  ///< of the probabilistic a-priori certificate, per sample (max)
  /// Per run (the union bound over the samples); NaN in audits written before issue 17.
  double failure_probability_run = NAN;
  /// Of the probabilistic a-posteriori certificate, per sample and per run; NaN in audits written
  /// before issue 17.
  double a_posteriori_failure_probability = NAN, a_posteriori_failure_probability_run = NAN;
};

/// classification.chains.NAME.margin: the margin-directed certificates (theory/margin-bound.md).
/// Absent from audits written before them, or `available` false (an operator without a
/// backward step).
struct MarginView {
  bool present = false;
  bool a_priori_present = false;
  long a_priori_det = 0, a_priori_prob = 0, a_posteriori_det = 0, a_posteriori_prob = 0;
  long violations = 0, certificate_violations = 0;
  double failure_probability = 0;
  double ratio_det = NAN, ratio_prob = NAN;  ///< median observed drift / bound, a posteriori
  std::string unavailable;                   ///< why not computed, when not
};

struct ChainClassificationView {
  double accuracy = 0;  ///< NaN without labels
  long correct = 0, flips_vs_reference = 0, flips_vs_fp32 = 0;
  long certified_vs_reference = 0, certified_vs_fp32 = 0;
  double certified_fraction = 0;
  long boundary = 0, ties = 0, lemma_violations = 0, nonfinite = 0;
  double delta_max = 0, delta_mean = 0;  ///< δ against the reference logits
  int first_nonfinite_layer = -1;
  long first_nonfinite_samples = 0;
  CertifiedView certified;
  MarginView margin;
  std::vector<ExtraField> extra;
};

struct SampleChainView {
  int top1 = -1;
  double delta_reference = 0;  ///< +Inf when the logits went non-finite
  double delta_fp32 = 0;       ///< NaN without an fp32 chain
  bool certified = false, tie = false;
  int first_nonfinite_layer = -1;
};

struct SampleView {
  long index = 0;
  int label = -1;  ///< -1 without labels
  int reference_top1 = -1;
  double margin_reference = 0;  ///< Γ of the reference logits
  double margin_fp32 = 0;       ///< NaN without an fp32 chain
  std::vector<SampleChainView> chains;
};

/// task.outputs[k].chains.NAME (docs/audit-json.md): one output judged by its task in one chain.
/// The regress fields for a regression, the decision fields otherwise.
struct TaskChainView {
  long samples = 0;
  long within_observed = 0, within_proved = 0, outside = 0, nonfinite = 0;
  double max_abs = NAN, normwise_max = NAN, normwise_mean = NAN, cosine_min = NAN, bound_max = NAN, bound_ratio_max = NAN;
  long decisions = 0, flipped = 0, samples_flipped = 0, certified_observed = 0, certified_bound = 0, violations = 0;
  double min_margin = NAN;  ///< NaN: no finite margin (or no decision)
};

/// task.outputs[k]: what a graph output is and why (shadow/task.h). Absent from audits written
/// before tasks: those are classifications of their first output.
struct OutputTaskView {
  std::string name, task, reason;
  std::vector<long> shape;
  bool automatic = true;
  int class_axis = -1;   ///< classify, segment
  double threshold = NAN;  ///< detect
  double rtol = NAN, atol = NAN;  ///< regress
  std::vector<TaskChainView> chains;  ///< in the document's chain order
};

/// parameter_causes[i]: a constant that chain's storage overflowed, flushed to zero or made
/// subnormal, at the layer consuming it, with that layer's own error in the chain.
struct ParameterCauseView {
  int layer = -1;
  std::string layer_name, op, parameter, chain, storage;
  long elements = 0, overflow = 0, flushed = 0, subnormal = 0;
  double max_magnitude = NAN;
  double local_normwise_max = NAN, local_abs_max = NAN;  ///< the layer's local error in that chain
  long output_overflow = 0, output_nan = 0;              ///< the layer's output elements gone Inf/NaN
};

/// compare[k] (docs/audit-json.md): a real runtime's outputs (`fpaudit audit --compare`) judged
/// against the reference and a chain's bound (shadow/external_outputs.h).
struct CompareChainView {
  std::string chain;
  double max_abs_diff = NAN;  ///< largest |y_runtime - y_chain| over samples and logits
  long top1_differs = 0;      ///< samples whose top-1 differs from the chain's
};
struct CompareView {
  std::string name, file, chain;
  std::string chain_rule;  ///< "named" (after '@') or "closest"
  long samples = 0;
  double max_abs = NAN, normwise_max = NAN, normwise_mean = NAN;
  double accuracy = NAN;  ///< NaN without labels
  long correct = 0, flips_vs_reference = 0, certified = 0;
  long within_bound = 0, outside_bound = 0, unbounded = 0;
  double max_bound_ratio = NAN;
  std::vector<CompareChainView> chains;
};

/// Reads the "compare" array of an audit JSON; problems throw ReportError "<source>: /compare/...".
std::vector<CompareView> read_compare_views(const nlohmann::json& compare, const std::string& source);

struct AuditDocument {
  std::string source;  ///< the file it was read from ("" for a run in memory)
  std::string fpaudit_version;
  std::string model_path, producer;
  long opset = 0;
  std::string input_name, output_name;
  std::vector<long> input_shape, output_shape;
  std::string input_path, labels_path;  ///< labels_path empty without labels
  long samples = 0;
  std::string reference;
  double lambda = 0;
  std::vector<ChainView> chains;
  std::vector<LayerView> layers;
  double reference_accuracy = 0;  ///< NaN without labels
  std::vector<ChainClassificationView> classification;  ///< one per chain
  std::vector<SampleView> records;                      ///< one per sample
  std::vector<OutputTaskView> tasks;               ///< one per graph output; empty in older audits
  std::vector<ParameterCauseView> parameter_causes;  ///< empty in older audits
  std::vector<CompareView> compare;                  ///< --compare runs; empty without
  double seconds = 0;  ///< NaN when the run recorded no timing
  int threads = 0;

  /// The chain's position in `chains`, or -1.
  int chain_index(const std::string& name) const;
  bool has_labels() const { return !labels_path.empty(); }
  bool has_fp32() const { return chain_index("fp32") >= 0; }
  /// Whether the first output is judged as a classification (also every audit older than tasks).
  bool classifies() const { return tasks.empty() || tasks[0].task == "classify"; }
  /// Whether some output is judged otherwise than as the classification of output 0 (a
  /// regression, segmentation or detection, or a second output): its task results are then
  /// rendered in LaTeX and tasks.csv too.
  bool task_verdicts() const { return tasks.size() > 1 || !classifies(); }
};

/// Checks the schema name and version and reads the whole document; any problem throws
/// ReportError "<source>: <problem>" naming the field (e.g. "/layers/2/chains/fp16: missing 'local'").
AuditDocument audit_document_from_json(const nlohmann::json& j, const std::string& source);

/// Reads and parses a saved run ("cannot open", "not JSON" and schema problems throw ReportError).
AuditDocument read_audit_document(const std::filesystem::path& path);

}  // namespace fpaudit
