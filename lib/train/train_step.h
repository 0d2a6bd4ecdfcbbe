// fpaudit train-step: one forward pass, one backward pass and one optimizer step per step on
// one batch, in every chain and in the exact reference (exact sums for every gradient), and what
// the 16-bit formats do to training: gradient errors against the exact gradient, gradients that
// flush to zero, turn subnormal or overflow at the loss scale, the loss scales for which neither
// happens, updates that vanish with and without fp32 master weights, optimizer-state hazards,
// and, over several steps on the same batch, how far the weights drift from the reference's and
// whether the loss still falls as the reference's does. theory/training-step.md.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/arithmetic.h"
#include "graph/graph.h"
#include "shadow/plan.h"
#include "train/backward.h"
#include "train/checked_sums.h"
#include "train/loss.h"
#include "train/optimizer.h"

namespace fpaudit::train {

struct TrainOptions {
  std::vector<ChainSpec> chains;
  LossKind loss = LossKind::CrossEntropy;
  OptimizerSettings optimizer;
  double loss_scale = 1;        ///< S, used when dynamic_scale is false
  bool dynamic_scale = false;   ///< GradScaler's rule: start at 2^16, halve and retry on overflow
  bool master_weights = false;  ///< the trajectory keeps fp32 master weights (else pure storage)
  BatchNormMode batchnorm = BatchNormMode::Model;  ///< which form of BatchNormalization trains
  int steps = 1;
  int threads = 0;              ///< 0: all cores; results do not depend on it
};

/// Binned magnitudes: bin k counts the non-zero |g| with 2^(k + kHistogramLow) ≤ |g| < 2^(k + kHistogramLow + 1)
/// (the first and last bins also take everything below and above).
inline constexpr int kHistogramLow = -80, kHistogramBins = 100;

/// One gradient tensor (a parameter's, or an activation's) in one chain, at step 1.
struct GradientStats {
  std::string name;        ///< the value it is the gradient of
  std::string layer;       ///< the node whose backward pass produced it
  bool parameter = false;
  long elements = 0;
  long exact_nonzero = 0;  ///< elements whose exact gradient is not 0
  long flushed = 0;        ///< of those, stored as 0 by the chain
  long subnormal = 0;      ///< of those, stored as a subnormal of the chain's storage format
  long overflow = 0;       ///< stored as Inf or NaN
  double max_abs_error = 0;   ///< max |ĝ/S − ḡ|
  double normwise = 0;        ///< ‖ĝ/S − ḡ‖₂ / ‖ḡ‖₂
  double cosine = 1;          ///< cos∠(ĝ, ḡ)
  SumCheck sums;              ///< the backward sums that produced it, against their bounds
  /// The backward pass's own error: ‖ĝ − g̃‖₂ with g̃ the exact backward pass of the chain's
  /// activations from the chain's loss gradient (both at scale S), its bound (Theorem 4; NaN
  /// where a layer on the way has none) and ‖g̃‖₂.
  double backward_error = NAN, backward_bound = NAN, backward_reference = 0;
  double exact_min = 0, exact_max = 0;  ///< smallest and largest non-zero |ḡ|
  std::vector<long> histogram;          ///< |ḡ| (reference only)
};

/// Loss scales as powers of two 2^e, e ∈ [low, high]; empty when low > high.
struct ScaleRange {
  int low = 0, high = -1;
  bool empty() const { return low > high; }
};

struct LossScaleAnalysis {
  double exact_min = 0, exact_max = 0;  ///< over every gradient tensor
  ScaleRange all_normal;     ///< S·|ḡ| normal and finite for every non-zero ḡ
  ScaleRange no_flush;       ///< S·|ḡ| finite and not rounded to 0 (subnormals allowed)
  int no_overflow_max = 0;   ///< the largest e with S·max|ḡ| finite: where dynamic scaling settles
  int recommended = 0;       ///< the middle of all_normal, else of no_flush, else no_overflow_max
  /// Observed at the recommended scale: the chain's step-1 shares at 2^recommended.
  long checked = 0, flushed = 0, subnormal = 0, overflow = 0;
};

/// One chain's run.
struct ChainTrainResult {
  std::string chain;
  std::string storage;
  double scale = 1;              ///< the loss scale of step 1 (after dynamic backing off)
  int dynamic_skipped = 0;       ///< steps skipped by dynamic scaling (overflow at a larger scale)
  std::vector<GradientStats> gradients;
  /// Step 1 on the same gradient: pure storage-format updates, and with fp32 master weights.
  std::vector<UpdateCounts> update_pure, update_master;  ///< per parameter, as `parameters`
  double epsilon_pure = 0;       ///< Adam's ε as the storage format holds it
  LossScaleAnalysis scales;
  std::vector<double> loss;      ///< before step t = 1..steps, and after the last
  std::vector<double> drift;     ///< after step t: ‖w − w_ref‖₂ / ‖w_ref − w_0‖₂ over every parameter
  std::vector<double> layer_drift;  ///< after the last step, per parameter (same ratio)
  std::vector<UpdateCounts> trajectory_updates;  ///< per step, summed over parameters, of the followed variant
  double seconds = 0;
};

struct TrainResult {
  std::vector<std::string> parameters;  ///< trained constants, in graph order
  std::vector<long> parameter_sizes;
  std::vector<double> reference_loss;   ///< as ChainTrainResult::loss
  std::vector<GradientStats> reference_gradients;  ///< names, magnitudes and histograms
  std::vector<ChainTrainResult> chains;
  long samples = 0;
  int threads = 1;
  double seconds = 0;
  TrainOptions options;
};

/// x: inputs [N, ...] (the plan's graph inferred for batch N); labels: N integers.
TrainResult run_train_step(const Plan& plan, const Constant& x, const Constant& labels, const TrainOptions& options);

}  // namespace fpaudit::train
