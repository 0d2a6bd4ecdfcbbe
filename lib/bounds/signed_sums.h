// The probabilistic error bound of a sequential dot product from its signed partial sums
// (theory/probabilistic-signed.md): one Azuma–Hoeffding event over the sum's own roundings,
// stopped where the accumulated error first exceeds the bound, gives
//     |ŝ − s| ≤ b + K·η,   b = λu(√V + √K·K·η) / (1 − λu√K),   V ≥ Σ_i (Σ_{k≤i} t_k)²
// with probability at least 1 − 2·exp(−λ²/2), under the model (M) of theory/probabilistic.md.
// Higham–Mary's bound γ̃_K(λ)·Σ|t_k| charges every partial sum at Σ|t_k|; this one at its signed
// value, so cancelling terms cost less: 3–7 times tighter on the shipped MLP's layers (median).
//
// The dot-product rule (bounds/linear.cpp) takes, per output, the smaller of the two. Both fail
// with at most the Higham–Mary failure probability it already reports (2K·exp(−λ²(1−u)²/2) is
// at least 2·exp(−λ²/2)), and which of them is taken is decided from the operands' enclosures
// before the sum runs, so the reported probability stays a bound.
#pragma once

#include <vector>

#include "bounds/linear.h"
#include "bounds/sum_constants.h"

namespace fpaudit::bounds {

/// Whether the signed bound applies to the sums of one dot-product call: a chain's sequential
/// sums rounded to nearest in a non-saturating accumulator, where Higham–Mary's probabilistic
/// constant is in use (c.failure > 0) and λu√K < 1/2.
bool signed_sum_applies(const ArithmeticModel& m, const SumConstants& c, long K, double lambda);
/// Whether Theorem 1 with the b below holds for m's sums of K terms at λ (the first part of
/// signed_sum_applies): sequential, rounded to nearest, not saturating, λu√K < 1/2.
bool signed_sum_holds(const ArithmeticModel& m, long K, double lambda);

/// B's midpoints at mid[k·ld + n·step] and radii (nullptr: B is a point, radius 0).
struct SignedB {
  const double* mid = nullptr;
  const double* rad = nullptr;
  long ld = 0, step = 0;
};

/// B's midpoints and radii for signed_sum_bounds, once per call of the rule: a point's values in
/// place, an enclosure's into mid and rad.
SignedB signed_b(const MatmulBound& g, std::vector<double>& mid, std::vector<double>& rad);

/// For rows [m0, m0 + rows) of g and every column n, the signed bound on the sum's rounding
/// error (its underflow term included) into alt[r·g.N + n]; S[r·g.N + n] are the rows' binary64
/// sums Σ max|a|·max|b| (bounds/matmul_sums.h), which bound the binary64 rounding of the signed
/// partial sums. The terms are taken in the order k = 0, 1, ..., K − 1, the chain's order.
void signed_sum_bounds(const ArithmeticModel& m, double lambda, const MatmulBound& g, const SignedB& b, long m0, long rows,
                       const double* S, double* alt);

/// The variance bound of Theorem 1 that signed_sum_bounds uses: V[r·g.N + n] ≥ Σ_i w_i², w_i ≥
/// |s_i| for every prefix i of output (m0 + r, n) and every operand in the enclosures (§3).
void signed_sum_variance(const MatmulBound& g, const SignedB& b, long m0, long rows, const double* S, double* V);
/// The same bits one element at a time in plain scalar code, k in order: the definition that the
/// tiled kernels (one per instruction set, several tile shapes) are tested against.
void signed_sum_variance_definition(const MatmulBound& g, const SignedB& b, long m0, long rows, const double* S, double* V);
/// Theorem 1's b = λu(√V + √K·K·η)/(1 − λu√K) for sums of K terms (m's accumulator), rounded
/// up: on the theorem's event every prefix's accumulated δ-error is at most b. Its constants are
/// computed once, b(V) per sum.
class SignedSumB {
 public:
  SignedSumB(const ArithmeticModel& m, double lambda, long K);
  double operator()(double V) const;
  double k_eta = 0;  ///< K·η rounded up: the underflow term Theorem 1 adds to b
 private:
  double lu_ = 0, den_ = 0, under_ = 0;
};

}  // namespace fpaudit::bounds
