// The three sums of one row of a product with a coefficient matrix that Gemm's constant_error
// needs (theory/margin-bound-signed.md): for operands x_k (a row of A, a box's midpoints) with
// radii r_k and coefficients D[k, n] (the weights' rounding B̂ − B), per column n
//     sum = Σ_k x_k·D[k, n],   abs = Σ_k |x_k·D[k, n]|,   spread = Σ_k r_k·|D[k, n]|
// in the order k = 0, 1, ..., K − 1, every term added (no skips). The vector paths take the
// columns as lanes, each lane those operations in that order: the same bits as the definition.
#pragma once

namespace fpaudit::margin {

struct ScaledSums {
  const double* x = nullptr;  ///< x_k at x[k·x_stride]
  const double* r = nullptr;  ///< r_k at r[k·x_stride]; null: spread stays 0
  long x_stride = 1;
  /// D[k, n] = d[j] − d_minus[j] at j = k·d_k + n·d_n (d_minus null: d[j] alone), the difference
  /// taken in binary64 as each term is formed (exact for a rounding's error: Sterbenz), so that
  /// no copy of D is made per call.
  const double* d = nullptr;
  const double* d_minus = nullptr;
  long d_k = 0, d_n = 1;
  long K = 0, N = 0;
};

/// sum, abs and spread [N], overwritten: AVX-512 or AVX2 lanes where the CPU has them and
/// FPAUDIT_ISA allows, else the definition.
void scaled_sums(const ScaledSums& a, double* sum, double* abs, double* spread);

/// The definition, one column at a time in plain scalar code (what the tests hold the lanes to).
void scaled_sums_definition(const ScaledSums& a, double* sum, double* abs, double* spread);

}  // namespace fpaudit::margin
