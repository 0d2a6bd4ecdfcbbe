// The margin certificate of a chain on one sample (theory/margin-bound.md §6): the class of the
// chain provably equals the exact network's when, for the reference's top class t and every
// other class j,
//     z_t − z_j − (R_t + R_j) > B_j          (z, R: the reference's logits and own error bound)
// with B_j the margin-directed bound on |c·(ẑ − z̄)|, c = e_t − e_j (lib/margin). Two ways:
//   a posteriori: trajectory boxes from the chain's own values and the reference's enclosure
//                 of the exact ones, ℓ_k at the chain's own layer inputs;
//   a priori:     the a-priori enclosures of the chain's values (shadow/apriori.h) as boxes,
//                 ℓ_k the supremum of the local bound over them.
// Directions are tried from the smallest reference margin up, and stop once none of the four
// certificates (a priori/a posteriori × det/prob) can still hold; the runner-up (the smallest
// margin) is always computed, and its bounds and per-layer terms are what the audit reports.
#pragma once

#include <vector>

#include "shadow/margin/margin_bound.h"
#include "shadow/apriori.h"
#include "shadow/classify.h"
#include "shadow/stats.h"

namespace fpaudit {

/// One thread's scratch for the margin certificates.
struct MarginScratch {
  /// zero_constants: a cache of ConstantStore::zeros (shadow/constant_store.h).
  MarginScratch(const Plan& plan, ConstantCache& zero_constants);
  std::vector<Activations> local;  ///< local bounds ℓ_k, deterministic and probabilistic, of the family at work
  Activations no_err;              ///< zero everywhere, constants included
  std::vector<Activations> known;  ///< the constants' signed rounding effect and its spread, likewise
  Activations azuma_q, azuma_h;    ///< a priori, probabilistic boxes: margin/azuma.h per flagged layer
  std::vector<char> azuma_layer;
  long azuma_signed_events = 0;    ///< outputs whose q relies on their own signed-sum event (margin/azuma.h)
  margin::MarginWorkspace backward;
};

/// What one chain's margin certificate reads on one sample (all per slot).
struct MarginSample {
  const Plan& plan;
  const margin::MarginPlan& margin;
  double lambda;
  const std::vector<double>& x;            ///< the exact input
  const Activations& ref;                  ///< reference values and their own error bound
  const Activations& ref_err;
  // A posteriori:
  const bounds::ArithmeticModel& model;
  const Arithmetic& arithmetic;            ///< rounds the input into the chain's storage
  const Activations& chain;                ///< the chain's own values
  /// Zero on runtime values, |Δ| on the chain's constants; read as local bounds' input error, and
  /// its runtime slots freed once read (zeros again on the next read).
  Activations& zero_err;
  const Activations* observed;             ///< local evaluation (chain) minus its reference, for blame
  /// The chain's elementwise propagated deterministic bounds (a posteriori): a direction j they
  /// already certify (E_t + E_j < the margin) needs no backward pass.
  const Activations& err;
  // A priori (null: not computed):
  /// Its enclosures are recomputed here where the audit freed them (AprioriState::restore).
  AprioriState* apriori;
  const AprioriChain* apriori_chain;
  /// Multiplies every margin bound: 1 in the audit; mutation tests shrink it and require the
  /// violations to be counted.
  double bound_scale = 1;
  /// Whether the a-priori probabilistic bound may take its Azuma–Hoeffding form.
  bool azuma = true;
  /// After the runner-up's own pass, the other directions go as one group (theory/margin-bound.md
  /// §2.2), split in halves where it leaves something unproved, down to single passes below this
  /// many directions. 2: every set of two or more is tried as a group first.
  std::size_t grouped_directions = 2;
  /// Per layer, the signed-sum bounds of the chain's propagated pass at its own values (the
  /// audit's; null: computed here): the a-posteriori local bounds, at the same values, read them.
  bounds::SignedSumMemo* posterior_memo = nullptr;
  /// Whether the a-priori probabilistic local bounds read the signed-sum bounds that the
  /// a-priori pass recorded over the same boxes (AprioriState::prob_memo).
  bool prior_memo = true;
};

/// Computes the certificates into v.margin and adds the runner-up's per-layer terms to
/// blame[layer] (one entry per layer).
void certify_margin(const MarginSample& s, MarginScratch& w, MarginVerdict& v, std::vector<MarginBlame*> blame);

}  // namespace fpaudit
