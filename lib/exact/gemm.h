// Many exact dot products that share their operands: Y = W·X + bias with every element
// correctly rounded, as exact::dot rounds it (the reference chain's Gemm, MatMul and Conv).
//
// exact::dot runs one dot product across vector lanes and folds the lanes at the end; for the
// short products of convolutions (9 to a few hundred terms) the fold, the certificate and the
// call cost more than the products. Here each lane is one output column instead: the error-free
// pass (TwoProd, TwoSum) runs for 8 columns at once (AVX-512F; 4 with AVX2 and FMA), the certificate decides each
// column from its own lane, and whatever it cannot decide goes to exact::dot_certified. Every
// value is the correctly rounded exact one either way, so the bits are exact::dot's.
#pragma once

namespace fpaudit::exact {

/// Y[m·ldy + n] = RN(bias[m] + Σ_k W[m·ldw + k]·X[k·ldx + n]) for m < M, n < N (bias may be
/// null: 0). Any binary64 operands, NaN and Inf included (as exact::dot).
void gemm(long M, long N, long K, const double* W, long ldw, const double* X, long ldx, const double* bias, double* Y,
          long ldy);

/// Whether gemm runs its vector path on this CPU (otherwise it calls exact::dot per output).
bool gemm_vectorised();

}  // namespace fpaudit::exact
