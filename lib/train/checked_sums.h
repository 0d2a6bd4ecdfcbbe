// The sums of a backward pass, each evaluated by a chain exactly as its forward GEMMs are
// (Arithmetic::gemm, ::dot, ::sum with the chain's schedule and accumulation format, then one
// rounding into storage), and, when asked, checked against the exact sum of the same operands
// under the dot-product bound the forward rules use (lib/bounds/sums.h; theory/training-step.md,
// Theorem 1). The reference evaluates the same calls with exact sums rounded once.
#pragma once

#include <span>

#include "core/arithmetic.h"
#include "core/rounding_model.h"

namespace fpaudit::train {

/// How a chain's backward sums compare with the exact sums of their own operands.
struct SumCheck {
  long checked = 0;     ///< elements checked
  long violations = 0;  ///< elements whose error exceeds the bound (a failing audit)
  double max_ratio = 0; ///< largest |computed − exact| / bound
  /// Σ copies·bound² over the checks: the squared 2-norm of the bounds of every element a layer
  /// wrote from them (a value copied to several elements counts once per copy).
  double bound_sq = 0;
  void add(double computed, double exact, double bound, long copies = 1);
  void merge(const SumCheck& o);
};

/// The arithmetic a backward pass runs in, and where its checks go (null: no check) with the
/// rounding model they read (a.rounding_model(), worked out once per pass).
struct BackwardArithmetic {
  BackwardArithmetic(const Arithmetic& arithmetic, SumCheck* c) : a(arithmetic), check(c) {
    if (check) model = a.rounding_model();
  }
  const Arithmetic& a;
  SumCheck* check = nullptr;
  bounds::ArithmeticModel model;
};

/// The deterministic bound on |round_storage(ŝ) − Σ t_i| for n terms with Σ|t_i| ≤ S in an
/// arithmetic of rounding model m, plus the binary64 rounding of the exact value `exact` it is compared with.
double backward_sum_bound(const bounds::ArithmeticModel& m, long n, double S, double exact);

/// a.gemm(g) with the result rounded to storage; W spans g.W's whole array and X g.X's (for the
/// check, which repeats the product exactly and on absolute values).
void checked_gemm(const BackwardArithmetic& b, const GemmArgs& g, std::span<const double> W, std::span<const double> X);
/// round_storage(a.dot(x, w)) over contiguous x and w.
double checked_dot(const BackwardArithmetic& b, std::span<const double> x, std::span<const double> w);
/// round_storage(a.sum(x)) over contiguous x.
double checked_sum(const BackwardArithmetic& b, std::span<const double> x);
/// ‖x‖₂ rounded upward (binary64 sums of squares with the safety factor of n + 1 operations).
double norm_up(std::span<const double> x);
/// √x rounded upward.
double sqrt_up(double x);

/// One rounding into storage of `exact` (a product or quotient the caller computed in binary64
/// from storage values), checked against u·|exact| + η; `copies`: how many gradient elements
/// receive the value.
double checked_round(const BackwardArithmetic& b, double computed, double exact, long copies = 1);

}  // namespace fpaudit::train
