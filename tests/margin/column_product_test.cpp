// The blocked column product of Conv's backward step (shadow/margin/column_product.h) against its
// definition, the plain loop over m in order with zero weights skipped: the same bits on shapes
// that exercise every block edge, with zero weights, cancelling terms, tiny (subnormal) products,
// and a non-finite cotangent (where skipping a zero weight differs from adding 0·Inf).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include <doctest/doctest.h>

#include "support/test_values.h"

#include "shadow/margin/column_product.h"

using namespace fpaudit::margin;

namespace {

using Lcg = fpaudit::test::SignedValues;

/// The definition: col += Σ_m in order, a zero weight's term skipped.
void reference(const ColumnProduct& c, std::vector<double>& cm, std::vector<double>& cr) {
  for (long m = c.m_begin; m < c.m_end; ++m)
    for (long k = 0; k < c.rows; ++k) {
      const double wv = c.w[m * c.rows + k];
      if (wv == 0) continue;
      for (long p = 0; p < c.P; ++p) {
        cm[static_cast<std::size_t>(k * c.P + p)] += wv * c.g_mid[m * c.P + p];
        cr[static_cast<std::size_t>(k * c.P + p)] += std::fabs(wv) * c.g_rad[m * c.P + p];
      }
    }
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

}  // namespace

TEST_CASE("column product: blocked kernel = plain loop, bit for bit") {
  Lcg rng{42};
  // (channels M, rows, P, first m): rows and P below, at and beyond the block sizes (4 × 8);
  // 1,100 channels: column panels of 32 (the cache blocking), 100 columns in 4.
  const long shapes[][4] = {{1, 1, 1, 0},     {3, 4, 8, 0},   {5, 7, 13, 1}, {16, 36, 196, 4}, {9, 9, 17, 3}, {32, 144, 49, 16},
                            {6, 8, 7, 2},     {4, 5, 14, 0},  {16, 147, 1, 3}, {8, 5, 1, 0}, {1096, 9, 100, 4}};
  for (const auto& sh : shapes) {
    const long M = sh[0] + sh[3], rows = sh[1], P = sh[2];
    std::vector<double> w(static_cast<std::size_t>(M * rows)), gm(static_cast<std::size_t>(M * P)), gr(gm.size());
    for (double& v : w) v = rng.next();
    for (std::size_t i = 0; i < gm.size(); ++i) gm[i] = rng.next(), gr[i] = std::fabs(rng.next());
    // Denormal products and an exact cancellation in one column.
    gm[0] = 0x1p-1070;
    if (M > 1) gm[static_cast<std::size_t>(P)] = -gm[0];
    for (bool finite : {true, false}) {
      if (!finite) gr[gr.size() / 2] = INFINITY, gm[gm.size() - 1] = -INFINITY;
      const ColumnProduct c{w.data(), gm.data(), gr.data(), sh[3], M, rows, P};
      std::vector<double> cm(static_cast<std::size_t>(rows * P)), cr(cm.size());
      for (std::size_t i = 0; i < cm.size(); ++i) cm[i] = rng.next(), cr[i] = std::fabs(rng.next());
      std::vector<double> em = cm, er = cr;
      reference(c, em, er);
      add_column_product(c, cm.data(), cr.data());
      CAPTURE(M);
      CAPTURE(rows);
      CAPTURE(P);
      CAPTURE(finite);
      CHECK(same_bits(cm, em));
      CHECK(same_bits(cr, er));
      // A block of W's columns [k0, k0 + rows) out of a wider matrix (w_stride): the same bits.
      const long k0 = 2, wide = rows + 5;
      std::vector<double> ww(static_cast<std::size_t>(M * wide), 7.0);
      for (long m = 0; m < M; ++m)
        for (long k = 0; k < rows; ++k) ww[static_cast<std::size_t>(m * wide + k0 + k)] = w[static_cast<std::size_t>(m * rows + k)];
      const ColumnProduct cs{ww.data() + k0, gm.data(), gr.data(), sh[3], M, rows, P, wide};
      std::vector<double> sm(static_cast<std::size_t>(rows * P), 0.0), sr(sm.size(), 0.0), fm = sm, fr = sr;
      reference(c, fm, fr);
      add_column_product(cs, sm.data(), sr.data());
      CHECK(same_bits(sm, fm));
      CHECK(same_bits(sr, fr));
    }
  }
}
