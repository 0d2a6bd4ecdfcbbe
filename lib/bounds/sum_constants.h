// The constants of a rounded sum or dot product of n terms under a schedule, in one place for
// every bound that has a sum inside (Gemm, MatMul, Conv; the kernel listing of fpaudit kernels):
//
//   |computed − exact| ≤ gamma·Σ|x_i·w_i| + eta     (deterministic)
//   |computed − exact| ≤ gamma_prob·Σ|x_i·w_i| + eta  (probabilistic, failure ≤ failure per element)
//
// IEEE schedules (sequential, two-lane, blocked, pairwise): gamma = γ_d(u), d = rounding_depth,
// eta = d·η (Higham, Accuracy and Stability, §3.1 and §4.2; Higham & Mary 2019).
// TensorCore blocks: the tensor-core rule of theory/tensor-core.md,
//   gamma = γ_k(u_tc), u_tc = (1 + ρ)(1 + (b + 1)·2^-F) − 1, k = ⌈n/b⌉ blocks,
//   eta = k·(1 + gamma)·η_block,
// where ρ is the rounding of one block result (2^-23, truncation to binary32, then for a
// narrower accumulator once more to nearest). Truncation errors all have one sign, so the
// mean-zero hypothesis of the probabilistic bound fails: gamma_prob = gamma, failure = 0.
#pragma once

#include "bounds/model.h"

namespace fpaudit::bounds {

struct SumConstants {
  long depth = 0;          ///< rounding_depth (for TensorCore: the number of blocks)
  double gamma = 0;        ///< relative constant of the deterministic bound
  double gamma_prob = 0;   ///< relative constant of the probabilistic bound
  double eta = 0;          ///< absolute underflow term of the whole sum
  double failure = 0;      ///< per-element failure probability of the probabilistic bound
};

/// The constants for n terms summed by schedule s in an accumulation format of unit roundoff
/// u_acc (0: exact) and underflow term eta_acc (half its smallest subnormal spacing).
SumConstants sum_constants(const DotSchedule& s, long n, double u_acc, double eta_acc, double lambda);

/// The per-block unit roundoff u_tc of the tensor-core model (see above), for block size b,
/// `extra_bits` alignment bits beyond binary32's 23, and accumulator unit roundoff u_acc.
double tensor_core_unit_roundoff(int b, int extra_bits, double u_acc);

}  // namespace fpaudit::bounds
