// What the LayerNorm rules (the native operator, lib/bounds/normalization.cpp, and the exported
// pattern, lib/bounds/layer_norm_pattern.cpp) need about one row of n values x ∈ [lo, hi]:
// the geometry of the box (theory/normalization.md §3, Lemma) and the drift of the normalised
// values n̂(x) = (x - mean x)/√(v(x) + ε) between the chain's input and the exact one
// (Theorem 3 there; theory/layernorm-pattern.md for the cap √(n-1)).
#pragma once

#include <vector>

#include "bounds/transfer.h"

namespace fpaudit::bounds {

/// The box's centre and half-widths, and bounds on the centred values and the standard
/// deviation over the box, from √v(x) ∈ √v(mid) ± ‖x - mid‖₂/√n (centring is a projection).
struct RowGeometry {
  std::vector<double> mid, hw, dmid;  ///< centre, half-width, |mid_j - mean(mid)| (upper)
  double S1 = 0;                      ///< Σ|x_j| (upper)
  double mean_hw = 0;                 ///< mean half-width (upper)
  double sd_lo = 0, sd_hi = 0;        ///< √v(mid) bounds (without ε)
  double mean = 0, mean_rad = 0;      ///< mean(x) ∈ [mean - mean_rad, mean + mean_rad] over the box
};
/// The row x[base + j], j < n, of an enclosure.
RowGeometry row_geometry(const Enclosure& x, long base, long n);

/// ‖w‖₂ (upper) of a vector of nonnegative numbers.
double norm2_up(const std::vector<double>& w);

/// Per element j of the row: nu[j] ≥ |n̂_j(x)| for every x in the box [lo - E, hi + E] (so for
/// the chain's input and the exact one), at most `cap`; drift[j] ≥ |n̂_j(x_c) - n̂_j(x̄)| for
/// |x_c - x̄| ≤ E, at most 2·nu[j]. `eps` is a lower bound of the exact ε.
struct NormalisedDrift {
  std::vector<double> nu, drift;
};
NormalisedDrift normalised_drift(const RowGeometry& g, const std::vector<double>& E, double eps, double cap);

}  // namespace fpaudit::bounds
