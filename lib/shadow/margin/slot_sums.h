// The sums the margin bound takes over every output slot a backward pass reaches
// (theory/margin-bound.md, margin-bound-signed.md, margin-bound-azuma.md), with the cotangent G
// of the slot and its weights:
//     Σ |G|·ℓ_det, Σ |G|·ℓ_prob                 (every slot)
//     Σ mid·Δ, Σ |mid·Δ|, Σ rad·|Δ| + |G|·spread (layers whose constants' rounding is signed)
//     Σ mid²·q, Σ |mid|·h + rad·ℓ_prob          (layers in the Azuma event)
//     Σ mid·(yc − yr)                            (observed blame: yc − yr given)
// Each sum is its own chain of additions in index order, whatever else is computed alongside,
// so the bits are those of one loop per sum and slot; the speed comes from running the chains
// of several slots and sums side by side (each alone is bound by the latency of an addition).
#pragma once

#include <span>
#include <vector>

#include "shadow/margin/backward.h"

namespace fpaudit::margin {

struct SlotInputs {
  const std::vector<double>* l_det = nullptr;  ///< ℓ deterministic and probabilistic
  const std::vector<double>* l_prob = nullptr;
  const std::vector<double>* known = nullptr;  ///< Δ and its spread (signed constants), or null
  const std::vector<double>* spread = nullptr;
  const std::vector<double>* q = nullptr;  ///< the Azuma terms q and h, or null
  const std::vector<double>* h = nullptr;
  /// The observed local error yc − yr (chain minus reference, each rounded difference as given),
  /// or null.
  const std::vector<double>* observed = nullptr;
};

/// The raw sums, not yet rounded up (0 for the parts not asked for).
struct SlotSums {
  double det = 0, prob = 0;             ///< Σ |G|·ℓ
  double sum = 0, abs = 0, rest = 0;    ///< Σ mid·Δ, Σ |mid·Δ|, Σ rad·|Δ| + |G|·spread
  double variance = 0, azuma_rest = 0;  ///< Σ mid²·q, Σ |mid|·h + rad·ℓ_prob
  double observed = 0;                  ///< Σ mid·(yc − yr)
};

/// One slot: its cotangent (as many elements as l_det), its weights, where the sums go.
struct SlotJob {
  const Cotangent* g = nullptr;
  SlotInputs in;
  SlotSums* out = nullptr;
};

/// Computes every job's sums (jobs may come in any order; each result is the same bits).
void slot_sums(std::span<const SlotJob> jobs);

}  // namespace fpaudit::margin
