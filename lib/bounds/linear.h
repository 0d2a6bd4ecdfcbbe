// The bound rule of every dot-product operator (Gemm, MatMul, Conv and ConvTranspose via
// im2col): theory/dot-product.md states and proves it.
//
// For y = Σ_k a_k·b_k (+ c) evaluated by the chain on its own operands a, b (enclosed, with
// error bounds E_a, E_b against the exact network's ā, b̄), the error against ȳ = Σ ā_k b̄_k + c̄ is
// at most
//     R + Σ_k (|a_k| E_b,k + E_a,k |b_k| + E_a,k E_b,k) + E_c
// where R, the rounding error of the evaluation itself, with S = Σ|a_k||b_k| and d the
// schedule's rounding_depth, is
//     chain:      ((1+u_A)^d - 1)·S + K·η_A·(1+u_A)^(d-1)      the sum (bounds/sums.h)
//                 + u_A·T + η_A                                 bias added in A, |ŝ + c| ≤ T
//                 + u_S·T' + η_S                                stored, when S ≠ A; |y| ≤ T'
//     exact:      u_S·(S + |c|) + η_S                           one rounding of the exact value
// The probabilistic bound replaces (1+u_A)^d - 1 by Higham–Mary's γ̃_d(λ) for the sum only (for
// sequential sums, by the smaller of that and the signed-partial-sum bound, bounds/signed_sums.h).
// Gemm with alpha ≠ 1 or a C that is not a per-feature bias evaluates
//     y = round_S(fma_A(alpha, ŝ, round_A(beta·C)))
// (the binary64 product alpha·ŝ rounded first, see lib/format/arithmetic.cpp's fma), and the
// rule becomes |alpha|·(sum error + input terms) + |beta|·E_C + the three roundings.
#pragma once

#include "bounds/transfer.h"

namespace fpaudit::bounds {

/// A matrix operand seen through strides into an enclosure: element (i, j) is at
/// offset + i·stride_i + j·stride_j of the enclosure's tensors.
struct MatrixOperand {
  const Enclosure* e = nullptr;
  long offset = 0, stride_i = 0, stride_j = 0;
  long at(long i, long j) const { return offset + i * stride_i + j * stride_j; }
};

/// Bounds of Y = A·B (+ bias): A is M×K, B is K×N, `bias` (optional) gives the enclosure index
/// of output (m, n) through bias_at. Writes det/prob for output (m, n) at out_offset + m·ldo + n.
struct MatmulBound {
  long M = 0, K = 0, N = 0;
  MatrixOperand A, B;
  const Enclosure* bias = nullptr;
  long bias_offset = 0, bias_stride_m = 0, bias_stride_n = 0;  ///< bias element of (m, n)
  long out_offset = 0, ldo = 0;
  /// Gemm's general form alpha·A·B + beta·C (the bias is then C): see the file comment.
  bool scaled = false;
  double alpha = 1, beta = 1;
  /// BoundRequest::prob_wanted: false skips the signed-partial-sum bound, which only tightens
  /// the probabilistic output (the deterministic one never reads it).
  bool prob_wanted = true;
  /// BoundRequest::memo: where given, the signed-sum bounds are recorded into it or read from it
  /// (output (m, n) at its element out_offset + m·ldo + n).
  SignedSumMemo* memo = nullptr;
};

/// Gemm's product A'·B' as its kernel reads it (lib/kernels/ops/linear.cpp): a(m, k) = A'[m][k],
/// b(k, n) = B'[k][n], A' = Aᵀ when trans_a, likewise B; the rest of the MatmulBound left default.
inline MatmulBound gemm_product(const Enclosure* a, const Enclosure* b, long M, long K, long N, bool trans_a, bool trans_b) {
  MatmulBound g;
  g.M = M;
  g.K = K;
  g.N = N;
  g.A = {a, 0, trans_a ? 1 : K, trans_a ? M : 1};
  g.B = {b, 0, trans_b ? 1 : N, trans_b ? K : 1};
  return g;
}

/// Returns the largest per-element failure probability of the probabilistic bound.
double matmul_bound(const ArithmeticModel& model, double lambda, const MatmulBound& g, Tensor& det, Tensor& prob);

}  // namespace fpaudit::bounds
