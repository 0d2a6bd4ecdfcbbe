// The bound rule of every dot-product operator (Gemm, MatMul, Conv via im2col): theory/dot-product.md.
//
// For y = Σ_k a_k·b_k (+ c) evaluated by the chain on its own operands a, b (enclosed, with
// error bounds E_a, E_b against the exact network's ā, b̄), the error against ȳ = Σ ā_k b̄_k + c̄ is
// at most
//     R + Σ_k (|a_k| E_b,k + E_a,k |b_k| + E_a,k E_b,k) + E_c
// where R, the rounding error of the evaluation itself, is for a sum of depth d (rounding_depth)
//     in A, then rounded to S:  γ_d(u_A)·S + d·η_A  [+ bias: u_A·T + η_A]  [+ to storage: u_S·T' + η_S]
//     exact sums (reference):   u_S·(S + |c|) + η_S
// with S = Σ|a_k||b_k| and T, T' upper bounds of the magnitudes rounded. The probabilistic bound
// replaces γ_d by Higham–Mary's γ̃_d(λ) for the sum only.
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
  long bias_stride_m = 0, bias_stride_n = 0;  ///< bias element of (m, n): m·stride_m + n·stride_n
  long out_offset = 0, ldo = 0;
};

/// Returns the per-element failure probability of the probabilistic bound (0 for exact sums).
double matmul_bound(const ArithmeticModel& model, double lambda, const MatmulBound& g, Tensor& det, Tensor& prob);

}  // namespace fpaudit::bounds
