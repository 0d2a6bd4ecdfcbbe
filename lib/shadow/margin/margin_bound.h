// The margin-directed error bound (theory/margin-bound.md). For the chain's logits ẑ, the exact
// network's z̄ and a direction c = e_t − e_j (top class t against class j),
//
//     |c·(ẑ − z̄)| ≤ Σ_k ⟨|G_k|, ℓ_k⟩ + |⟨mid_0, e_0⟩| + ⟨rad_0, |e_0|⟩
//
// where ℓ_k bounds elementwise the local error layer k makes at the chain's own input (its
// rounding and its weights' rounding: the forward rules of lib/bounds with exact inputs), G_k
// encloses the mean-value Jacobian from layer k's output to c·z (one backward pass, backward.h,
// over trajectory boxes holding both the chain's and the exact values), and e_0 = x̂_0 − x_0 is
// the known, signed rounding of the input. The same pass with the probabilistic ℓ_k gives the
// probabilistic bound, which holds when every elementwise probabilistic bound it uses holds.
//
// One MarginPlan per model (read-only, shared by threads); one MarginWorkspace per thread.
#pragma once

#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "shadow/margin/backward.h"
#include "shadow/plan.h"

namespace fpaudit::margin {

class MarginPlan {
 public:
  explicit MarginPlan(const Plan& plan);
  const Plan& plan() const { return *plan_; }
  /// Whether every layer has a backward step; otherwise the op type that lacks one.
  bool available() const { return missing_.empty(); }
  const std::string& missing() const { return missing_; }
  const BackwardStep& step(std::size_t layer) const { return *steps_[layer]; }

 private:
  const Plan* plan_;
  std::vector<std::unique_ptr<BackwardStep>> steps_;
  std::string missing_;
};

/// The a-posteriori trajectory box of one value: the hull of the chain's value x̂ and the
/// reference's enclosure [x_ref ± R] of the exact one, rounded outward, into lo and hi.
void trajectory_hull(const std::vector<double>& chain, const std::vector<double>& ref, const std::vector<double>& ref_err,
                     std::vector<double>& lo, std::vector<double>& hi);

/// max(x̂ − lo, hi − x̂) rounded up over that box, ≥ |x̂ − x̄|, into w: the same bits as
/// trajectory_hull followed by the differences, without storing the box.
void trajectory_error(const std::vector<double>& chain, const std::vector<double>& ref, const std::vector<double>& ref_err,
                      std::vector<double>& w);

/// Trajectory boxes computed per slot when the pass reads them, so that no slot's box outlives
/// its step (a posteriori: trajectory_hull; a priori: AprioriState::enclosure).
class BoxSource {
 public:
  virtual ~BoxSource() = default;
  /// lo ≤ x̂, x̄ ≤ hi elementwise for a runtime slot, into lo and hi.
  virtual void box(int slot, std::vector<double>& lo, std::vector<double>& hi) const = 0;
  /// An elementwise bound w ≥ |x̂ − x̄| at a runtime slot, rounded up. Both values lie in the
  /// box, so its width always is one (the default); a source that knows more narrows it.
  virtual void error_bound(int slot, std::vector<double>& w) const;
};

/// What the bound of one trajectory needs, per slot of the plan.
struct MarginTerms {
  const Activations* box_lo = nullptr;   ///< trajectory boxes: lo ≤ x̂, x̄ ≤ hi
  const Activations* box_hi = nullptr;
  const Activations* local_det = nullptr;   ///< ℓ_k at every layer output (deterministic)
  const Activations* local_prob = nullptr;  ///< ℓ_k, probabilistic
  const std::vector<double>* input_error = nullptr;  ///< e_0 = x̂_0 − x_0, signed, graph input 0
  /// Optional: an observed local error per layer output, chain minus reference, the binary64
  /// difference of the two local evaluations (first-order blame).
  const Activations* observed = nullptr;
  /// Optional (theory/margin-bound-signed.md): per layer output, for the layers with
  /// BackwardStep::has_constant_error, the signed effect Δ of rounding their constants and its
  /// spread; ℓ_k of those layers must then leave the constants' rounding out.
  const Activations* known = nullptr;
  const Activations* known_spread = nullptr;
  /// Optional (theory/margin-bound-azuma.md): for the layers flagged in azuma_layer, q and h of
  /// azuma.h at their outputs; their rounding errors then enter one Azuma–Hoeffding event with
  /// parameter azuma_lambda (MarginBound::azuma), the other layers their probabilistic ℓ_k. The
  /// cotangents must not depend on the chain's roundings (a-priori boxes only), and local_prob of
  /// the flagged layers must be their rounding alone (`known` given).
  const Activations* azuma_q = nullptr;
  const Activations* azuma_h = nullptr;
  const std::vector<char>* azuma_layer = nullptr;
  double azuma_lambda = 0;
  /// Optional, instead of box_lo / box_hi: the boxes computed when the pass reads them.
  const BoxSource* boxes = nullptr;
  /// Theorem 1′ (theory/margin-bound.md): charge each step's radius against |x̂ − x̄| at its
  /// inputs and carry only point cotangents, instead of carrying the radius to every earlier
  /// layer's ℓ. Tighter where the boxes are narrow (a posteriori: the observed error plus R);
  /// a priori, where |x̂ − x̄| is only known as wide as the enclosure, the carried radius does better.
  bool cut_radius = false;
};

struct MarginBound {
  double det = 0, prob = 0;        ///< bounds on |c·(ẑ − z̄)|, rounded up
  double input = 0;                ///< the input rounding's part (in both)
  double azuma = INFINITY;         ///< the Azuma–Hoeffding form of `prob` (when asked for), rounded up
  std::vector<double> layer_det;   ///< per layer: ⟨|G_k|, ℓ_k⟩ deterministic
  std::vector<double> layer_prob;  ///< per layer: probabilistic
  std::vector<double> layer_observed;  ///< per layer: ⟨mid_k, observed local error⟩ (when given)
  /// per layer, in layer_det / layer_prob: the remainder ⟨ρ_k, |x̂ − x̄|⟩ of its step's radius ρ_k
  /// at its runtime inputs (theory/margin-bound.md §2, Theorem 1′).
  std::vector<double> layer_remainder;
};

class MarginWorkspace {
 public:
  explicit MarginWorkspace(const Plan& plan);
  std::vector<Cotangent> g;  ///< per slot
};

/// The bound for c = e_t − e_j at graph output `out_slot`: one backward pass.
MarginBound margin_bound(const MarginPlan& mp, MarginWorkspace& w, const MarginTerms& terms, int out_slot, int t, int j);

/// One bound for every c = e_t − e_j, j ∈ js, at once: one backward pass from the interval
/// cotangent with 1 at t and [−1, 0] (midpoint −½, radius ½) at each j, which holds each of
/// those c (Theorem 1 and 1′ hold for any c in the top cotangent). Looser than one pass per j,
/// but one pass for a whole tail of far classes. With one j, the same as margin_bound(t, j).
MarginBound margin_bound_group(const MarginPlan& mp, MarginWorkspace& w, const MarginTerms& terms, int out_slot, int t,
                               std::span<const int> js);

}  // namespace fpaudit::margin
