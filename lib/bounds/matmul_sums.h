// The three sums per output of the dot-product bound rule (bounds/linear.h) for a block of rows,
// B contiguous in n:
//     S[r][n]  = Σ_k am[r][k]·bm[k][n]
//     Ed[r][n] = Σ_k (am[r][k]·ed[k][n] + ead[r][k]·(bm[k][n] + ed[k][n]))
//     Ep[r][n] = the same with eap and ep
// each term by term in the order k = 0, 1, ..., K−1, a k whose am, ead and eap are all zero
// skipped (an exact zero row of A contributes nothing, even against an infinite B). Blocked in
// registers; every element takes the same operations in the same order as the plain loop, so
// the results are the same bits on every instruction set.
#pragma once

namespace fpaudit::bounds {

struct RowBlockSums {
  const double* am = nullptr;   ///< [rows][K]: |A| (max of the enclosure's ends)
  const double* ead = nullptr;  ///< [rows][K]: A's deterministic error bounds
  const double* eap = nullptr;  ///< [rows][K]: A's probabilistic error bounds (unused without prob)
  const double* bm = nullptr;   ///< B's magnitudes at bm[k·bm_ld + n]
  const double* ed = nullptr;   ///< B's deterministic error bounds at ed[k·ld + n]
  const double* ep = nullptr;   ///< B's probabilistic error bounds at ep[k·ld + n]
  long ld = 0;                  ///< row stride of ed and ep
  long K = 0, N = 0;            ///< N: the columns computed
  bool prob = true;             ///< compute Ep (otherwise it is left alone)
  bool b_finite = false;        ///< every bm, ed (and ep) finite: the caller checked
  /// Every ed (and ep) is ±0, B's values exact (local bounds: only the constants' rounding, or
  /// none): with b_finite and a finite |A|, each term a·e + d·(bm + e) is d·bm up to the sign of
  /// a zero, which a sum that starts at +0 cannot tell, so the kernel forms d·bm alone, and only
  /// S where A's error bounds are zero too (then Ed and Ep are +0). The caller checked.
  bool b_exact = false;
  /// Row strides of bm and of S, Ed, Ep; 0 means N. A caller computing a panel of columns
  /// [n0, n0 + N) of wider matrices offsets the pointers by n0 and gives the full widths here.
  long bm_ld = 0, out_ld = 0;
  long bm_stride() const { return bm_ld ? bm_ld : N; }
  long out_stride() const { return out_ld ? out_ld : N; }
};

/// B's magnitudes bm[k·N + n] = max(|lo|, |hi|) of B(k, n) at lo/hi[k·ld + n], and whether every
/// bm + ed and bm + ep is finite (RowBlockSums::b_finite); into *exact (when given) whether every
/// ed and ep is ±0 (RowBlockSums::b_exact).
bool b_magnitudes(const double* lo, const double* hi, const double* ed, const double* ep, long ld, long K, long N, double* bm,
                  bool* exact = nullptr);

/// Rows [0, rows) of A into RowBlockSums' layout [r][K]: am = max(|lo|, |hi|) as
/// Enclosure::magnitude takes it, ead and eap copied; A(r, k) at r·stride_i + k·stride_j.
void a_rows(const double* lo, const double* hi, const double* ed, const double* ep, long stride_i, long stride_j, long rows,
            long K, double* am, double* ead, double* eap);

/// The rows of A the kernel takes at once on this machine (8, 4 or 2); `am`, `ead` and `eap`
/// must hold that many rows (padding rows are computed and may be ignored).
long row_block_height();

/// S, Ed, Ep: [row_block_height()][out_stride()], columns [0, N) overwritten.
void row_block_sums(const RowBlockSums& b, double* S, double* Ed, double* Ep);

/// One output's three sums with B contiguous in k (Gemm with transB: the weights are [N][K]),
/// A's row in RowBlockSums' layout (am, ead, eap) and B's column as lo, hi, ed, ep[k]:
/// bm_k = max(|lo_k|, |hi_k|) (|hi| where the comparison fails, NaN included), and the terms of
/// S, Ed and Ep as above, all k taken (no skip). Each sum in eight partial sums, term k in sum
/// k mod 8 in k order, added as ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)): the same bits
/// on every instruction set. Without prob, *Ep is not written.
void column_sums(const double* am, const double* ead, const double* eap, const double* lo, const double* hi, const double* ed,
                 const double* ep, long K, bool prob, double* S, double* Ed, double* Ep);

}  // namespace fpaudit::bounds
