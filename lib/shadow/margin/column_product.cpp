#include "shadow/margin/column_product.h"

#include <algorithm>
#include <cmath>

#include "common/cache_panel.h"
#include "common/cpu_features.h"

namespace fpaudit::margin {

namespace {

/// The plain loop, term by term in m order, zero weights skipped: the definition of the result.
void plain(const ColumnProduct& c, double* col_mid, double* col_rad) {
  for (long m = c.m_begin; m < c.m_end; ++m) {
    const double *gm = c.g_mid + m * c.P, *gr = c.g_rad + m * c.P;
    for (long k = 0; k < c.rows; ++k) {
      const double wv = c.w[m * c.ld() + k], aw = std::fabs(wv);
      if (wv == 0) continue;
      double *cm = col_mid + k * c.P, *cr = col_rad + k * c.P;
      for (long p = 0; p < c.P; ++p) {
        cm[p] += wv * gm[p];
        cr[p] += aw * gr[p];
      }
    }
  }
}

bool all_finite(const ColumnProduct& c) {
  bool finite = true;
  for (long i = c.m_begin * c.P; i < c.m_end * c.P; ++i) finite &= std::isfinite(c.g_mid[i]) & std::isfinite(c.g_rad[i]);
  return finite;
}

/// A kRows × (kVecs·L) block of both outputs held in registers while every m streams by: each
/// output element still takes its terms m = m_begin, m_begin + 1, ... in order (one product and
/// one addition each, lane by lane, the same operations as `plain`), but W, G and the partial
/// sums are read once per block rather than once per term. V is a GCC vector of L doubles:
/// its + and * are IEEE binary64 per lane, and -ffp-contract=off keeps them unfused.
template <class V, long kRows, long kVecs>
[[gnu::always_inline]] inline void block(const ColumnProduct& c, long k0, long p0, double* col_mid, double* col_rad) {
  constexpr long L = sizeof(V) / sizeof(double);
  V am[kRows][kVecs], ar[kRows][kVecs];
  for (long r = 0; r < kRows; ++r)
    for (long v = 0; v < kVecs; ++v) {
      __builtin_memcpy(&am[r][v], col_mid + (k0 + r) * c.P + p0 + v * L, sizeof(V));
      __builtin_memcpy(&ar[r][v], col_rad + (k0 + r) * c.P + p0 + v * L, sizeof(V));
    }
  for (long m = c.m_begin; m < c.m_end; ++m) {
    V gm[kVecs], gr[kVecs];
    for (long v = 0; v < kVecs; ++v) {
      __builtin_memcpy(&gm[v], c.g_mid + m * c.P + p0 + v * L, sizeof(V));
      __builtin_memcpy(&gr[v], c.g_rad + m * c.P + p0 + v * L, sizeof(V));
    }
    const double* wr = c.w + m * c.ld() + k0;
    for (long r = 0; r < kRows; ++r) {
      const V wv = V{} + wr[r], aw = V{} + std::fabs(wr[r]);  // broadcasts (adding to +0 is exact)
      for (long v = 0; v < kVecs; ++v) {
        am[r][v] += wv * gm[v];
        ar[r][v] += aw * gr[v];
      }
    }
  }
  for (long r = 0; r < kRows; ++r)
    for (long v = 0; v < kVecs; ++v) {
      __builtin_memcpy(col_mid + (k0 + r) * c.P + p0 + v * L, &am[r][v], sizeof(V));
      __builtin_memcpy(col_rad + (k0 + r) * c.P + p0 + v * L, &ar[r][v], sizeof(V));
    }
}

/// The edges (rows below kRows, columns below kCols) one element at a time, m in order.
void edge(const ColumnProduct& c, long k0, long k1, long p0, long p1, double* col_mid, double* col_rad) {
  for (long k = k0; k < k1; ++k)
    for (long p = p0; p < p1; ++p) {
      double sm = col_mid[k * c.P + p], sr = col_rad[k * c.P + p];
      for (long m = c.m_begin; m < c.m_end; ++m) {
        sm += c.w[m * c.ld() + k] * c.g_mid[m * c.P + p];
        sr += std::fabs(c.w[m * c.ld() + k]) * c.g_rad[m * c.P + p];
      }
      col_mid[k * c.P + p] = sm;
      col_rad[k * c.P + p] = sr;
    }
}


/// Columns [p0, end) in whole vectors of V for rows [k0, k0 + kRows); returns the first column
/// left over.
template <class V, long kRows>
[[gnu::always_inline]] inline long vectors(const ColumnProduct& c, long k0, long p0, long end, double* col_mid, double* col_rad) {
  constexpr long L = sizeof(V) / sizeof(double);
  for (; p0 + L <= end; p0 += L) block<V, kRows, 1>(c, k0, p0, col_mid, col_rad);
  return p0;
}

/// Columns per panel of G: both arrays, every m.
long column_panel(const ColumnProduct& c) {
  return cache_panel_columns((c.m_end - c.m_begin) * 2 * static_cast<long>(sizeof(double)), c.P);
}

/// One output column (P = 1: a 1×1 output plane): kVecs vectors of rows k at a time, each lane
/// k taking its terms W[m, k]·G[m] for m in order (the same operations as `plain`; a product
/// with the scalar G[m] multiplies every lane by it). Returns the first row left over.
template <class V, long kVecs>
[[gnu::always_inline]] inline long single_column(const ColumnProduct& c, long k0, double* col_mid, double* col_rad) {
  constexpr long L = sizeof(V) / sizeof(double);
  for (; k0 + kVecs * L <= c.rows; k0 += kVecs * L) {
    V am[kVecs], ar[kVecs];
    for (long v = 0; v < kVecs; ++v) {
      __builtin_memcpy(&am[v], col_mid + k0 + v * L, sizeof(V));
      __builtin_memcpy(&ar[v], col_rad + k0 + v * L, sizeof(V));
    }
    for (long m = c.m_begin; m < c.m_end; ++m) {
      const double gm = c.g_mid[m], gr = c.g_rad[m];
      for (long v = 0; v < kVecs; ++v) {
        V w, aw;
        __builtin_memcpy(&w, c.w + m * c.ld() + k0 + v * L, sizeof(V));
        for (long i = 0; i < L; ++i) aw[i] = std::fabs(w[i]);
        am[v] += w * gm;
        ar[v] += aw * gr;
      }
    }
    for (long v = 0; v < kVecs; ++v) {
      __builtin_memcpy(col_mid + k0 + v * L, &am[v], sizeof(V));
      __builtin_memcpy(col_rad + k0 + v * L, &ar[v], sizeof(V));
    }
  }
  return k0;
}

template <class V0, class... Vs>
[[gnu::always_inline]] inline void one_column(const ColumnProduct& c, double* col_mid, double* col_rad) {
  long k0 = single_column<V0, 4>(c, 0, col_mid, col_rad);
  k0 = single_column<V0, 1>(c, k0, col_mid, col_rad);
  ((k0 = single_column<Vs, 1>(c, k0, col_mid, col_rad)), ...);
  edge(c, k0, c.rows, 0, 1, col_mid, col_rad);
}

/// The blocks in the widest vectors, the rest of each block's columns in narrower ones (small
/// planes: 4 or 16 columns), then the edges element by element: every element's operations are
/// the same whichever path takes it.
/// Column panels outside, row blocks inside: a panel of G stays in cache while every block of
/// rows reads it, instead of each block streaming all of G from memory (a ResNet-50 Conv's
/// cotangent is 3.2 MB at 56×56 against 144 blocks of rows).
template <long kRows, class... Vs>
[[gnu::always_inline]] inline void blocked(const ColumnProduct& c, double* col_mid, double* col_rad) {
  if (c.P == 1) return one_column<Vs...>(c, col_mid, col_rad);
  const long rows_blocked = c.rows - c.rows % kRows, panel = column_panel(c);
  for (long begin = 0; begin < c.P; begin += panel) {
    const long end = std::min(c.P, begin + panel);
    for (long k0 = 0; k0 < rows_blocked; k0 += kRows) {
      long p0 = begin;
      ((p0 = vectors<Vs, kRows>(c, k0, p0, end, col_mid, col_rad)), ...);
      edge(c, k0, k0 + kRows, p0, end, col_mid, col_rad);
    }
    for (long k = rows_blocked; k < c.rows; ++k) {  // the last rows one at a time, still in vectors
      long p0 = begin;
      ((p0 = vectors<Vs, 1>(c, k, p0, end, col_mid, col_rad)), ...);
      edge(c, k, k + 1, p0, end, col_mid, col_rad);
    }
  }
}

using V8 = double __attribute__((vector_size(64)));
using V4 = double __attribute__((vector_size(32)));
using V2 = double __attribute__((vector_size(16)));

// One instantiation per instruction set, picked at run time: every one computes the same bits.
[[gnu::target("avx512f")]] void blocked_avx512(const ColumnProduct& c, double* col_mid, double* col_rad) {
  blocked<4, V8, V4, V2>(c, col_mid, col_rad);
}
[[gnu::target("avx2")]] void blocked_avx2(const ColumnProduct& c, double* col_mid, double* col_rad) {
  blocked<4, V4, V2>(c, col_mid, col_rad);
}
void blocked_sse2(const ColumnProduct& c, double* col_mid, double* col_rad) { blocked<2, V2>(c, col_mid, col_rad); }

}  // namespace

void add_column_product(const ColumnProduct& c, double* col_mid, double* col_rad) {
  if (!all_finite(c)) {
    plain(c, col_mid, col_rad);
    return;
  }
  static const auto kernel = cpu::avx512f() ? blocked_avx512
                             : cpu::avx2()    ? blocked_avx2
                                              : blocked_sse2;
  kernel(c, col_mid, col_rad);
}

}  // namespace fpaudit::margin
