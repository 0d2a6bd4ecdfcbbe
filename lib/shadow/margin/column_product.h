// The dense product behind Conv's backward step (theory/margin-bound.md §3): per group, the
// column cotangents
//     col_mid[k, p] += Σ_m W[m, k]·G_mid[m, p],     col_rad[k, p] += Σ_m |W[m, k]|·G_rad[m, p]
// for the group's output channels m in increasing order. Every element takes its terms in that
// order whatever the blocking, so the result is the same bits as the plain triple loop.
#pragma once

namespace fpaudit::margin {

/// One group's operands: W rows [m][rows] (a block of W's columns with w_stride; |W| is taken
/// when read, exactly), G rows [m][P] for the m in [m_begin, m_end); col_mid/col_rad [rows][P]
/// are accumulated into.
struct ColumnProduct {
  const double* w = nullptr;      ///< W[m, k] at w[m·rows + k]
  const double* g_mid = nullptr;  ///< G_mid[m, p] at g_mid[m·P + p]
  const double* g_rad = nullptr;
  long m_begin = 0, m_end = 0, rows = 0, P = 0;
  long w_stride = 0;  ///< the distance between rows m of w; 0: rows (W's own width)
  long ld() const { return w_stride ? w_stride : rows; }
};

/// col += the products above. A zero weight contributes nothing (its term is skipped, as
/// 0·Inf would be NaN): with every G finite a skipped term and an added +0 are the same bits (no
/// partial sum here is ever -0), so the blocked kernel adds them; otherwise the plain loop runs.
void add_column_product(const ColumnProduct& c, double* col_mid, double* col_rad);

}  // namespace fpaudit::margin
