// The backward pass of the margin-directed bound (theory/margin-bound.md): an interval enclosure
// G_k of the mean-value Jacobian from every value of the network to one direction c of the
// logits, computed by vector-Jacobian products in midpoint–radius form.
//
// For a layer y = f(x), the exact network's f, and two points x̂ (the chain's value) and x̄ (the
// exact network's value) of its input, the secant Jacobian J̃ satisfies f(x̂) − f(x̄) = J̃·(x̂ − x̄).
// A backward step is given an enclosure [mid ± rad] of a row vector g at the layer's output and
// returns one of gᵀJ̃ at its input, for every J̃ that two points inside the layer's trajectory box
// [lo, hi] (a box holding both x̂ and x̄) can produce. Linear layers: J̃ is the layer's own
// matrix; ReLU and MaxPool: the secant slopes, exact where the box fixes the switch and an
// interval where it does not. Every step rounds in binary64 and folds its own rounding errors
// into the radius (theory/margin-bound.md §3), so the enclosure is rigorous.
//
// Backward steps are registered by op type, as the forward bound rules are.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bounds/transfer.h"
#include "kernels/op.h"
#include "shadow/margin/rounding.h"

namespace fpaudit::margin {

/// An interval vector in midpoint–radius form: every g with |g_i − mid_i| ≤ rad_i.
struct Cotangent {
  std::vector<double> mid, rad;
  bool reached = false;  ///< false: the value does not influence the direction (g = 0 exactly)
  void reset(std::size_t n) {
    mid.assign(n, 0.0);
    rad.assign(n, 0.0);
    reached = false;
  }
};

/// Elementwise lo ≤ x̂, x̄ ≤ hi: the box holding both trajectories at one value.
struct TrajectoryBox {
  const double* lo = nullptr;
  const double* hi = nullptr;
};

/// What rounding a layer's constants to storage changes in its output, for layers linear in
/// their constants (theory/margin-bound-signed.md): Δ = f(x; Ŵ) − f(x; W) with Ŵ the chain's
/// rounded constants and W the model's, for every x in an input box [mid ± rad].
struct ConstantError {
  std::vector<double> delta;   ///< f(mid; Ŵ) − f(mid; W), rounded
  std::vector<double> spread;  ///< ≥ |f(x; Ŵ) − f(x; W) − delta| for every x in the box, rounded up
};

/// One layer's backward step, prepared once per model.
class BackwardStep {
 public:
  virtual ~BackwardStep() = default;
  /// Whether constant_error is available: the layer is linear in its constants (Gemm, Conv).
  virtual bool has_constant_error() const { return false; }
  /// Computes ConstantError for the input box [mid ± rad] of the first input (rad null: a point)
  /// and the chain's rounded constants (`rounded[i]` per node input, null for run-time ones).
  virtual void constant_error(const double*, const double*, std::span<const Tensor* const>, ConstantError&) const {}
  /// For layers that compute every output as one sum of products with constants plus an optional
  /// constant bias, unscaled (Gemm with α = β = 1, Conv), and every input x in the box [mid ± rad]:
  /// per output, S ≥ Σ_j |Ŵ_ij|·|x_j|, Y ≥ |Σ_j Ŵ_ij·x_j + b̂_i| and B = |b̂_i| (0 without a bias),
  /// rounded up, for the chain's rounded constants `rounded`. Returns the number of terms of each
  /// sum, 0 for layers of any other form (theory/margin-bound-azuma.md).
  struct AbsSums {
    std::vector<double> S, Y, B;
  };
  virtual long abs_sums(const double*, const double*, std::span<const Tensor* const>, AbsSums&) const { return 0; }
  /// For the Azuma form's signed partial sums (theory/margin-bound-azuma.md, Lemma 2′): per
  /// output, V ≥ Σ_i w_i² with w_i ≥ |s_i| for every prefix i of its sum (terms in the kernel's
  /// order) and every input in the box [lo, hi], the chain's rounded constants
  /// (bounds::signed_sum_variance); false where the step does not model it.
  virtual bool prefix_variance(const Tensor&, const Tensor&, std::span<const Tensor* const>, std::vector<double>&) const {
    return false;
  }
  /// For the a-priori enclosure of a layer that reads another's output
  /// (theory/apriori-concentrated.md), per output of a layer of abs_sums' form:
  /// A ≥ Σ_j |Ŵ_ij|·a_j and Q ≥ Σ_j Ŵ_ij²·v_j, rounded up, for a, v ≥ 0 indexed like the first
  /// input and the chain's rounded constants (v null: A only). Returns the number of terms of
  /// each sum, 0 where the step does not model it.
  virtual long weight_sums(const double*, const double*, std::span<const Tensor* const>, std::vector<double>&,
                           std::vector<double>&) const {
    return 0;
  }
  /// For the concentrated a-priori enclosures (theory/apriori-concentrated.md): the layers between
  /// a producer and its consumer carry, per element, what the producer's roundings contribute —
  /// v (the weight of the element in the variance) and a (a bound on the rest of its error) — from
  /// their first input to their output. `lo`, `hi`: the input's box; `e_in`: its error bound;
  /// `local`: the layer's own error bound with exact input, null for an exact layer. Only the
  /// layers for which carries_terms() holds implement it.
  struct CarryIn {
    const double *lo = nullptr, *hi = nullptr, *e_in = nullptr, *local = nullptr;
  };
  virtual bool carries_terms() const { return false; }
  /// Whether carry_terms needs `local` (the layer rounds).
  virtual bool carry_rounds() const { return false; }
  virtual void carry_terms(const CarryIn&, const std::vector<double>&, const std::vector<double>&, std::vector<double>& v_out,
                           std::vector<double>& a_out) const {
    v_out.clear();  // a step that does not carry: nothing (the path ends, its consumer keeps its rule)
    a_out.clear();
  }
  /// Adds an enclosure of gᵀJ̃ to in[i] for every runtime input i (null for constants and
  /// absent inputs; those are never propagated to). `boxes[i]` encloses input i's trajectories.
  virtual void apply(std::span<const TrajectoryBox> boxes, const Cotangent& out, std::span<Cotangent* const> in) const = 0;
  /// Whether apply reads its boxes: false for the steps linear in their runtime inputs (their
  /// apply leaves the parameter unnamed), which the pass then gives empty boxes instead of
  /// computing ones nobody reads.
  virtual bool reads_boxes() const { return true; }
  /// Layers with several outputs (Split): whether the step takes them all, and the same as
  /// apply() with one cotangent per output (null where the output does not reach c).
  virtual bool multiple_outputs() const { return false; }
  virtual void apply_outputs(std::span<const TrajectoryBox>, std::span<const Cotangent* const>, std::span<Cotangent* const>) const {}
};

using BackwardFactory = std::function<std::unique_ptr<BackwardStep>(const OpContext&)>;

struct BackwardRegistration {
  std::string_view op_type;
  BackwardFactory make;
};

/// Every op type with a backward step.
std::span<const BackwardRegistration> backward_registry();
/// The prepared step for a node, or null when its op type has none (the margin bound is then
/// unavailable for the model; nothing is guessed).
std::unique_ptr<BackwardStep> make_backward_step(const OpContext& ctx);

// ---- pieces the steps share (backward_arithmetic.cpp) ------------------------------------------

/// A real scalar a enclosed by [lo, hi] in midpoint–radius form: [lo, hi] ⊆ [mid ± rad], mid
/// rounded, rad rounded up; abs = |mid|.
struct Slope {
  double mid, rad, abs;
  Slope(double lo, double hi) : Slope(bounds::mid_rad(lo, hi)) {}
  explicit Slope(bounds::MidRad x) : mid(x.mid), rad(x.rad), abs(std::fabs(x.mid)) {}
};
/// in_mid ± in_rad += a·[m ± r] for the slope a: the interval product, rounded outward.
inline void add_scaled_element(const Slope& a, double m, double r, double& in_mid, double& in_rad) {
  const double p = a.mid * m;
  const double mid = in_mid + p;
  // (am ± ar)(m ± r) ⊆ am·m ± (|am|·r + ar·(|m| + r)); the rounding of p and of the sum into mid
  // are each at most 2^-53 of their magnitude.
  const double extra = a.abs * r + a.rad * (std::fabs(m) + r) + (std::fabs(p) + std::fabs(mid)) * 0x1p-53;
  in_mid = mid;
  in_rad = inflate(in_rad + extra);
}
/// add_scaled over a run of n elements, in vector lanes where the CPU has them (the same bits).
void add_scaled_run(const Cotangent& g, long g_offset, const Slope& a, Cotangent& in, long in_offset, long n);
/// in += g·a for a real scalar a enclosed by [a_lo, a_hi], per element of a range: the interval
/// product, rounded outward into midpoint–radius form. Inline for one element (the elementwise
/// steps call it per element).
inline void add_scaled(const Cotangent& g, long g_offset, double a_lo, double a_hi, Cotangent& in, long in_offset, long n) {
  const Slope a(a_lo, a_hi);
  if (n != 1) {
    add_scaled_run(g, g_offset, a, in, in_offset, n);
    return;
  }
  add_scaled_element(a, g.mid[static_cast<std::size_t>(g_offset)], g.rad[static_cast<std::size_t>(g_offset)],
                     in.mid[static_cast<std::size_t>(in_offset)], in.rad[static_cast<std::size_t>(in_offset)]);
  in.reached = true;
}
/// in[i] += g[i]·a_i for slopes a_i enclosed by [lo[i], hi[i]], for every i whose cotangent g[i]
/// is not exactly zero (a binary step skips an output that does not reach c): add_scaled per
/// element, in vector lanes; the same bits (a NaN's sign aside). g and in must be different
/// cotangents. Returns whether any element added (then in is reached).
bool add_scaled_slopes(const double* gm, const double* gr, const double* lo, const double* hi, double* im, double* ir, long n);
/// ReLU's step on whole tensors, unit i of g into unit i of in: slope 1 (add_exact) where
/// lo_box[i] ≥ 0, nothing where else hi_box[i] ≤ 0, the unknown slope in [0, 1]
/// (add_unit_slope_hull) everywhere else, NaN bounds included; the same bits as those calls (a
/// NaN may have the other sign, which nothing reads).
/// g and in must be different cotangents of the same size.
void add_relu(const double* lo_box, const double* hi_box, const Cotangent& g, Cotangent& in);
/// MaxPool's step over one plane of disjoint windows of 4 taps each (tap[4p + t], offsets into
/// the plane): for output p, the units that can hold the maximum (hi ≥ max over the window of lo)
/// take add_exact when there is one, add_unit_slope_hull each otherwise. Writes each tap's next
/// value of in (mid, rad at 4p + t; the earlier value where nothing is added), which the caller
/// stores back; the same bits as the calls (a NaN's sign aside). Returns whether anything is
/// added.
bool add_max_pool4(const std::int32_t* tap, long P, const double* lo, const double* hi, const double* gm, const double* gr,
                   const double* im, const double* ir, double* next_mid, double* next_rad);
/// The hull [min(0, m − r), max(0, m + r)] of s·g for a cotangent g ∈ [m ± r] and a slope
/// s ∈ [0, 1] unknown, in midpoint–radius form.
inline Slope unit_slope_hull(double m, double r) {
  return Slope(bounds::min_num(0.0, bounds::down_sum(m - r)), bounds::max_num(0.0, bounds::up_sum(m + r)));
}
/// in_mid ± in_rad += [m ± r], an enclosure already rounded outward: the rounding of the addition
/// into the radius. What add_exact and add_unit_slope_hull add, and their lanes (add_relu,
/// add_max_pool4).
inline void add_term(double m, double r, double& in_mid, double& in_rad) {
  const double mid = in_mid + m;
  in_mid = mid;
  in_rad = inflate(in_rad + r + std::fabs(mid) * 0x1p-53);
}
/// in[i] += s·g[j] for a slope s ∈ [0, 1] unknown (unit_slope_hull).
/// Inline, with add_exact: the ReLU step calls one of them per element.
inline void add_unit_slope_hull(const Cotangent& g, long j, Cotangent& in, long i) {
  const Slope h = unit_slope_hull(g.mid[j], g.rad[j]);
  add_term(h.mid, h.rad, in.mid[i], in.rad[i]);
  in.reached = true;
}
/// in[i] += g[j] exactly (a slope known to be 1), the rounding of the addition in the radius.
inline void add_exact(const Cotangent& g, long j, Cotangent& in, long i) {
  add_term(g.mid[j], g.rad[j], in.mid[i], in.rad[i]);
  in.reached = true;
}

}  // namespace fpaudit::margin
