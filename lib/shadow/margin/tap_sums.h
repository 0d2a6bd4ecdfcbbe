// The three sums over a convolution's taps that Conv's constant_error and abs_sums need
// (theory/margin-bound-signed.md, theory/margin-bound-azuma.md): for a coefficient matrix A (the
// weights' rounding Ŵ − W, or the rounded weights Ŵ) and an input box [x ± r], per output
// (b, m, p),
//     sum = Σ_k A[m, k]·x[s],   abs = Σ_k |A[m, k]·x[s]|,   spread = Σ_k |A[m, k]|·r[s]
// over the columns k = (c, tap) of m's group in increasing order, s the input position tap k of
// output p reads; a padding tap and a zero coefficient are skipped. Every output takes its terms
// in that order whatever the blocking, so the result is the same bits as the plain loop.
#pragma once

#include <cstdint>

namespace fpaudit::margin {

/// A grouped convolution's shape and tap table (lib/core/ops/conv.h): table[tap·out_plane + p] is
/// the offset in the input plane that tap reads for output p, or ops::kPadding.
struct TapGeometry {
  const std::int32_t* table = nullptr;
  long taps = 0, in_plane = 0, out_plane = 0, batch = 0, channels = 0, out_channels = 0, groups = 1;
};

/// A [out_channels, channels/groups · taps] row-major; x, r (r may be null: spread stays 0)
/// [batch, channels, in_plane]; sum, abs, spread [batch, out_channels, out_plane], overwritten.
void tap_sums(const TapGeometry& g, const double* a, const double* x, const double* r, double* sum, double* abs, double* spread);

}  // namespace fpaudit::margin
