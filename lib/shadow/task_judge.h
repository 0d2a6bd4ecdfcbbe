// Judging one output of one sample in one chain by its task (shadow/task.h), from the chain's
// values y, the reference's z, the chain's deterministic a-posteriori bound E on |y − z̄| and
// the reference's own bound R on |z − z̄| (z̄ the exact network's output). Every comparison that
// proves something is made with directed rounding (bounds::up/down), as classify.cpp does for
// Γ > 2δ.
#pragma once

#include <cmath>
#include <vector>

#include "shadow/task.h"

namespace fpaudit {

/// One output, one chain, one sample.
struct TaskSample {
  // regress
  double max_abs = 0;      ///< max |y − z| (+Inf when y or z holds a non-finite value z lacks)
  double normwise = 0;     ///< ‖y − z‖₂ / ‖z‖₂ (0 when z = 0 and y = z)
  double cosine = 1;       ///< cos(y, z)
  double max_bound = 0;    ///< max over elements of E + R (rounded up), the bound on |y − z|
  double bound_ratio = 0;  ///< max over elements of |y − z| / (E + R)
  long outside = 0;        ///< elements with |y − z| > atol + rtol·|z|
  bool within_observed = false;  ///< every element within the tolerance of the reference
  /// Proved: every element's bound E ≤ atol + rtol·(|z| − R), so |y − z̄| ≤ atol + rtol·|z̄|:
  /// the chain is within the tolerance of the exact network.
  bool within_proved = false;
  bool nonfinite = false;  ///< y holds NaN or Inf where z is finite
  // classify, segment, detect: one decision per pixel (per element for detect)
  long decisions = 0;
  long flipped = 0;             ///< decisions differing from the reference's
  long certified_observed = 0;  ///< Γ > 2δ per pixel; for detect |y − z| < |z − threshold|
  long certified_bound = 0;     ///< the same with the bound E + R in place of the observed error
  long violations = 0;          ///< certified (either way) yet flipped: impossible unless fpaudit is wrong
  double min_margin = INFINITY;  ///< smallest reference margin: Γ per pixel, |z − threshold| for detect
};

/// `n` values of y, z, E, R for `task`'s output.
TaskSample judge_output(const OutputTask& task, const double* y, const double* z, const double* E, const double* R, long n);

/// Counts over the samples of one output in one chain.
struct TaskSummary {
  long samples = 0;
  // regress
  long within_observed = 0, within_proved = 0, nonfinite = 0;
  long outside = 0;  ///< elements outside the tolerance, over all samples
  double max_abs = 0, max_normwise = 0, sum_normwise = 0, min_cosine = 1, max_bound = 0, max_bound_ratio = 0;
  // classify, segment, detect
  long decisions = 0, flipped = 0, certified_observed = 0, certified_bound = 0, violations = 0;
  long samples_flipped = 0;  ///< samples with at least one flipped decision
  double min_margin = INFINITY;

  void add(const TaskSample& s);
};

}  // namespace fpaudit
