// A real runtime's outputs judged next to the emulated chains (`fpaudit audit --compare
// NAME[@CHAIN]=OUTPUTS.npy`): the outputs ONNX Runtime, TensorRT or any other runtime computed
// for the same inputs, measured against the exact reference exactly as a chain's are (drift δ,
// normwise error, flips, the observed certificate Γ > 2δ) and tested against a chain's rigorous
// bound: the runtime "lies inside" chain c on a sample when its drift from the reference logits
// is at most c's a-priori deterministic bound on that drift (max over logits of E + R,
// theory/a-priori-certificate.md), a bound that holds for every evaluation the chain's arithmetic
// model allows, not only fpaudit's own.
//
// Which chain: the one named after '@'; without one, the closest: the chain whose outputs are
// nearest the runtime's (smallest largest |y_runtime - y_chain| over samples and logits; the
// first in --chains order on a tie). The rule is stated in the report.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace fpaudit {

class Plan;
struct SampleRecord;
struct ChainSpec;

/// One --compare: a runtime's outputs for the audited inputs.
struct ExternalRun {
  std::string name;    ///< how reports call it ("ort-fp16")
  std::string chain;   ///< the chain whose bound judges it; empty: the closest chain
  std::string file;    ///< where the outputs came from
  Constant outputs;    ///< [N, ...] floating point: the model's first output per sample
};

/// One runtime on one sample (SampleRecord::external, in --compare order).
struct ExternalSample {
  int top1 = -1;
  double delta_ref = 0;              ///< max |y - z_ref| over the logits (+Inf when y is non-finite)
  double normwise = 0;               ///< ‖y - z_ref‖₂ / ‖z_ref‖₂
  std::vector<double> delta_chain;   ///< max |y - y_chain| per chain (in --chains order)
};

/// A runtime over the audit (AuditResult::compare).
struct ExternalSummary {
  std::string name, file, chain;
  bool chain_named = false;          ///< given after '@'; otherwise chosen as the closest
  long samples = 0;
  double max_abs = 0;                ///< largest drift δ = max |y - z_ref|
  double normwise_max = 0, normwise_mean = 0;
  long correct = 0;                  ///< top-1 equals the label (with labels)
  long flips_vs_ref = 0;             ///< top-1 differs from the reference's
  long certified = 0;                ///< Γ_ref > 2δ with its own δ: provably the reference's class
  /// Against `chain`'s a-priori deterministic bound on δ: samples within, samples above it (with
  /// the largest ratio δ / bound), and samples without a bound (--no-apriori, non-finite).
  long within_bound = 0, outside_bound = 0, unbounded = 0;
  double max_bound_ratio = 0;
  /// Per chain (in --chains order): how far the runtime is from it, and top-1 disagreements.
  std::vector<double> max_delta_chain;
  std::vector<long> top1_differs_chain;
};

/// Checks every run against the model and the input file before any work: the outputs are
/// floating point, [M, ...] with the model's first output per row, row i for input sample i
/// (`audited` <= M <= `input_samples`), and finite over the audited samples; a named chain is among `chains`. One ModelError line
/// naming the file otherwise.
void check_external_runs(const std::vector<ExternalRun>& runs, const Plan& plan, const std::vector<ChainSpec>& chains,
                         long input_samples, long audited);

/// Judges each run on one sample: `z` the reference's first output, `chain_outputs` each chain's.
std::vector<ExternalSample> judge_external(const std::vector<ExternalRun>& runs, long sample, const std::vector<double>& z,
                                           const std::vector<const std::vector<double>*>& chain_outputs);

/// The runs over every sample, each judged by its chain (named, or the closest).
std::vector<ExternalSummary> summarize_external(const std::vector<ExternalRun>& runs, const std::vector<ChainSpec>& chains,
                                                const std::vector<SampleRecord>& records);

}  // namespace fpaudit
