// The a-priori report (`fpaudit bounds`): per layer and chain the a-priori deterministic and
// probabilistic bounds on the propagated error, and per chain the fraction of samples whose
// class is certified — computed from the model, the reference run and the bound rules alone,
// without running any low-precision chain (theory/a-priori-certificate.md).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/arithmetic.h"
#include "shadow/plan.h"
#include "shadow/sample_plan.h"

namespace fpaudit {

struct BoundsOptions {
  std::vector<ChainSpec> chains;
  std::string reference = "exact";
  long max_samples = -1;
  int threads = 0;
  double lambda = 7.0;
  std::function<void(long done, long total)> progress;
};

/// One layer, one chain: the largest a-priori bounds over its output elements and the samples.
struct AprioriLayerStats {
  double det = 0;       ///< deterministic bound on |x_chain - x_exact|
  double prob = 0;      ///< probabilistic bound
  /// Largest failure probability of one element's probabilistic bound: the layer's own rule's
  /// plus every event upstream (the union bound).
  double failure = 0;
  long unbounded = 0;   ///< elements whose deterministic bound is +Inf
};

/// One chain over the samples.
struct AprioriCounts {
  long det = 0, prob = 0;          ///< samples certified: chain class = exact class
  long all_det = 0, all_prob = 0;  ///< samples certified: chain class = fp32 class = exact class
  double failure = 0;              ///< largest failure probability of a probabilistic certificate (per sample)
  double run_failure = 0;          ///< per run: the union bound over the samples, capped at 1
  double delta_bound = 0;          ///< largest a-priori bound on δ over the samples
  long correct = 0;                ///< reference class equals the label, and certified (det)
};

struct BoundsResult {
  std::vector<ChainSpec> chains;
  std::string reference;
  double lambda = 0;
  long samples = 0;
  int threads = 1;
  double seconds = 0;
  bool has_labels = false;
  long reference_correct = 0;
  std::vector<std::vector<AprioriLayerStats>> layers;  ///< [layer][chain]
  std::vector<double> reference_bound;                 ///< [layer]: the reference's own largest bound
  std::vector<AprioriCounts> certified;                ///< [chain]
};

/// Runs the reference and the a-priori bound propagation of every chain over the samples of
/// `inputs` ([N, ...], the model's one input with batch 1); labels optional. Bad data throws
/// ModelError naming the file and the problem.
BoundsResult run_bounds(const Plan& plan, const Constant& inputs, const Constant* labels, const BoundsOptions& options,
                        const std::string& input_name = "input");
/// The same on samples of every graph input (plan_samples of a SampleSet, checked by the caller).
BoundsResult run_bounds(const Plan& plan, const PlanSamples& samples, const Constant* labels, const BoundsOptions& options);

}  // namespace fpaudit
