// The shadow-execution audit: every layer of a model runs in every selected chain and in the
// reference, side by side, sample by sample. Per layer and chain it measures
//   propagated error: the chain's own values against the reference values, and
//   local error:      the layer evaluated in the chain's arithmetic on the reference input
//                     rounded to the chain's storage format, against the reference layer on
//                     that same rounded input (weights exact),
// so a user sees which layer creates error and which only carries it. At the output it
// classifies every sample and tests the tolerance lemma Γ > 2δ.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "core/arithmetic.h"
#include "shadow/chunk_exchange.h"
#include "shadow/classify.h"
#include "shadow/external_outputs.h"
#include "shadow/parameter_causes.h"
#include "shadow/phase_timing.h"
#include "shadow/plan.h"
#include "shadow/sample_plan.h"
#include "shadow/stats.h"
#include "shadow/task.h"
#include "shadow/test_hooks.h"

namespace fpaudit {

/// What a run will cost, predicted from its first sample (AuditOptions::estimate).
struct AuditEstimate {
  long samples = 0;
  int threads = 1;                ///< the threads that share the samples (at most one per chunk)
  double multiply_adds = 0;       ///< per sample (the layers' Conv/Gemm/MatMul terms and elementwise ops)
  double rate = 0;                ///< multiply-adds per second per thread, measured on the first sample
  double setup_seconds = 0;       ///< spent before the first sample
  double seconds = 0;             ///< predicted wall time of the whole run: setup + samples at `rate`
};

struct AuditOptions {
  std::vector<ChainSpec> chains;       ///< in report order
  std::string reference = "exact";     ///< "exact" or "mpfr:BITS"
  long max_samples = -1;               ///< first N samples; -1 for all
  int threads = 0;                     ///< 0: OpenMP's default
  double lambda = 7.0;                 ///< confidence parameter of the probabilistic bounds
  /// Also compute each chain's a-priori bounds and certificates (shadow/apriori.h).
  bool apriori = true;
  /// Also compute the margin-directed certificates and per-layer blame (shadow/margin/,
  /// shadow/margin_certificate.h), where every layer has a backward step.
  bool margin = true;
  /// Multiplies every margin bound before it is checked and used (1: the proved bound). Only
  /// mutation tests change it, to see an underestimated bound counted as violations.
  double margin_bound_scale = 1;
  /// The a-priori probabilistic margin bound also in its Azuma–Hoeffding form (theory/margin-bound-azuma.md);
  /// off only to compare with the union-bound form alone (tests).
  bool margin_azuma = true;
  /// The smallest set of competing directions the margin certificate bounds in one grouped pass
  /// (shadow/margin_certificate.h); a larger value than any model's classes turns grouping off,
  /// only to compare with one pass per direction (tests).
  std::size_t margin_grouped_directions = 2;
  /// The margin pass reads the signed-sum bounds of the propagated and the a-priori passes over
  /// the same enclosures (bounds::SignedSumMemo) instead of computing them again; off only to
  /// compare (tests): the same bits either way.
  bool margin_shared_sums = true;
  /// The a-priori probabilistic enclosures of a Gemm after a Gemm also in their concentrated form
  /// (theory/apriori-concentrated.md); off only to compare with the elementwise rule alone (tests).
  bool apriori_concentrated = true;
  /// Called (from one thread at a time, in sample order) after each chunk of samples.
  std::function<void(long done, long total)> progress;
  /// Called once, from the thread that audited it, right after the first sample.
  std::function<void(const AuditEstimate&)> estimate;
  /// Builds each chain's arithmetic; empty: make_chain_arithmetic (the host). `fpaudit audit
  /// --device cuda` passes one whose fp16 chains run their GEMMs on the GPU (lib/cuda).
  std::function<std::unique_ptr<Arithmetic>(const ChainSpec&)> make_chain;
  /// TEST HOOK, not a user option (shadow/test_hooks.h): shrinks one layer's bounds. When
  /// inactive, run_audit reads it from the environment (FPAUDIT_TEST_SHRINK_BOUND), which is how
  /// the CLI tests reach it.
  BoundShrink shrink_bound;
  /// --task, --class-axis, --tolerance (shadow/task.h); `labels` is set by run_audit.
  TaskOptions task;
  /// The other MPI ranks of the run (lib/dist): they share the chunks of samples and rank 0
  /// merges them in order, so the result is the same bits. Null: this process does all.
  ChunkExchange* exchange = nullptr;
  /// --compare: real runtimes' outputs on the same inputs, judged next to the chains
  /// (shadow/external_outputs.h).
  std::vector<ExternalRun> compare;
};

struct AuditResult {
  std::vector<ChainSpec> chains;
  std::string reference;
  double lambda = 0;
  bool apriori = false;                 ///< a-priori certificates computed
  /// ... and the one that each chain, the fp32 chain and the exact network agree (an fp32 chain audited)
  bool apriori_fp32 = false;
  /// Margin-directed certificates computed; otherwise why not (an op type without a backward
  /// step, or "disabled").
  bool margin = false;
  std::string margin_missing;
  long samples = 0;
  int threads = 1;
  int ranks = 1;  ///< MPI ranks that shared the samples (threads is per rank)
  /// stats[layer][chain]
  std::vector<std::vector<LayerChainStats>> stats;
  std::vector<SampleRecord> records;              ///< one per sample
  std::vector<ChainClassification> classification;  ///< one per chain
  long reference_correct = 0;                     ///< samples whose label the reference predicts
  bool has_labels = false;
  double seconds = 0;
  AuditTiming timing;  ///< seconds per phase, summed over threads
  std::vector<OutputTask> tasks;                  ///< one per graph output
  std::vector<std::vector<TaskSummary>> task_summaries;  ///< [output][chain]
  std::vector<ParameterCause> parameter_causes;   ///< constants each chain's storage damages
  std::vector<ExternalSummary> compare;           ///< one per AuditOptions::compare run
};

/// Runs the audit of `plan` on `inputs` (shape [N, ...] matching the model's first input with
/// batch 1) with optional labels (integer [N]). Bad data (wrong shape, NaN/Inf inputs, labels
/// out of range) throws ModelError naming the file and the problem.
AuditResult run_audit(const Plan& plan, const Constant& inputs, const Constant* labels, const AuditOptions& options,
                      const std::string& input_name = "input", const std::string& labels_name = "labels");
/// The same on samples of every graph input (several inputs, integer inputs: plan_samples of a
/// SampleSet, checked by the caller); options.max_samples is the caller's business then.
AuditResult run_audit(const Plan& plan, const PlanSamples& samples, const Constant* labels, const AuditOptions& options,
                      const std::string& labels_name = "labels");

/// Splits an [N, ...] array into per-sample vectors for the model's first input, checking the
/// shape; throws ModelError on mismatch or non-finite values.
std::vector<double> sample_values(const Constant& inputs, long sample, long per_sample);

/// The data checks of `fpaudit audit` and `fpaudit bounds`: a model with one input, `inputs`
/// floating-point samples [N, ...] of its shape, finite over the samples used (the first
/// `max_samples`, or all when negative). Returns how many samples to use and sets `per_sample`;
/// ModelError (naming `input_name`) otherwise.
long checked_sample_count(const Plan& plan, const Constant& inputs, long max_samples, const std::string& input_name,
                          long& per_sample);

}  // namespace fpaudit
