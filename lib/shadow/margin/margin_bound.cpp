#include "shadow/margin/margin_bound.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "bounds/transfer.h"
#include "shadow/margin/rounding.h"
#include "shadow/margin/slot_sums.h"

namespace fpaudit::margin {

namespace {

/// The backward step of a node, prepared from the context its kernel was prepared from.
std::unique_ptr<BackwardStep> prepare(const Graph& graph, const Node& node) {
  const OpContext ctx = context_of(graph, node);
  return make_backward_step(ctx);
}

/// Σ_i |G_i|·ℓ_i for the two weightings, rounded up.
struct Weighted {
  double det = 0, prob = 0;
};
/// The products |G_i|·ℓ_i that may underflow: none when every ℓ_i is exactly 0 (an exact layer:
/// ReLU, Flatten, MaxPool), whose share then stays exactly 0; else one per element.
long products(const std::vector<double>& l) {
  return std::all_of(l.begin(), l.end(), [](double v) { return v == 0; }) ? 0 : static_cast<long>(l.size());
}
Weighted weighted(const SlotSums& s, const SlotInputs& in) {
  // The underflow allowance of theory/bounds-arithmetic.md §1(a) for those products.
  const long n = static_cast<long>(in.l_det->size());
  return {bounds::nan_to_inf(bounds::safe_sum(s.det, 2 * n + 2, products(*in.l_det))),
          bounds::nan_to_inf(bounds::safe_sum(s.prob, 2 * n + 2, products(*in.l_prob)))};
}

/// |g·Δ| for g ∈ [mid ± rad] and Δ ∈ [d ± spread]: |Σ mid·d| + Σ rad·|d| + Σ |G|·spread, with
/// the binary64 rounding of the signed sum; rounded up.
double signed_known(const SlotSums& s, long n) {
  return bounds::nan_to_inf(inflate(std::fabs(s.sum) + dot_rounding(n, s.abs) + bounds::safe_sum(s.rest, 4 * n + 4, 2 * n)));
}

/// One flagged layer's share of the Azuma form (theory/margin-bound-azuma.md, Theorem 1): for
/// g = mid + ρ, |ρ| ≤ rad, and the layer's rounding error e' = Σ_m (δ_m z_m + ε_m),
///   g·e' = Σ_i mid_i·Σ_m δ_m z_m  (into the martingale: variance proxy Σ mid_i²·q_i)
///        + Σ_i mid_i·Σ_m ε_m      (≤ Σ |mid_i|·h_i)
///        + ρ·e'                   (≤ Σ rad_i·ℓ'_i, ℓ' the layer's local bound on e').
struct AzumaPart {
  double variance = 0, rest = 0;
};
AzumaPart azuma_part(const SlotSums& s, long n) {
  // The variance term (m·m + 2^-1074)·q is one undirected product of an upper bound of m²
  // (slot_sums.cpp), the rest two per element (theory/bounds-arithmetic.md §1(a)).
  return {bounds::nan_to_inf(bounds::safe_sum(s.variance, 3 * n + 3, n)), bounds::nan_to_inf(bounds::safe_sum(s.azuma_rest, 3 * n + 3, 2 * n))};
}

/// Slots whose sums run together (slot_sums.cpp takes up to four side by side).
constexpr std::size_t kJobsPerSum = 8;

/// The cotangent of a slot, zero, unless this pass has already made it.
void allocate_cotangent(Cotangent& g, const Slot& slot) {
  const std::size_t n = static_cast<std::size_t>(element_count(slot.shape));
  if (g.mid.size() == n) return;
  g.mid.assign(n, 0.0);
  g.rad.assign(n, 0.0);
}

/// Gives a cotangent's memory back; not reached.
void free_cotangent(Cotangent& g) {
  std::vector<double>().swap(g.mid);
  std::vector<double>().swap(g.rad);
  g.reached = false;
}

/// The box of a runtime slot: the stored one, or the one its source computes into lo / hi.
TrajectoryBox box_of(const MarginTerms& terms, int slot, std::vector<double>& lo, std::vector<double>& hi) {
  if (!terms.boxes) return {terms.box_lo->value(slot).data.data(), terms.box_hi->value(slot).data.data()};
  terms.boxes->box(slot, lo, hi);
  return {lo.data(), hi.data()};
}

/// a + x rounded up; exactly x when a is 0 (a layer's first output: the same bits as before
/// layers could have several).
double add_up(double a, double x) { return a == 0 ? x : bounds::up(a + x); }

/// Theorem 1′'s remainder of one step at one of its runtime inputs: ⟨ρ, w⟩ for the radius ρ the
/// step left in the input's cotangent and w ≥ |x̂ − x̄| there, rounded up; ρ is then zero, so the
/// next step starts from the point cotangent mid. Only elements with ρ > 0 count (an unbounded w
/// where the cotangent is a point adds nothing).
double cut_radius(Cotangent& g, const std::vector<double>& w) {
  double s = 0;
  long n = 0;
  for (std::size_t i = 0; i < g.rad.size(); ++i) {
    if (!(g.rad[i] > 0)) continue;
    s += g.rad[i] * w[i];
    ++n;
    g.rad[i] = 0;
  }
  return n == 0 ? 0.0 : bounds::nan_to_inf(bounds::safe_sum(s, 2 * n + 2, n));
}

}  // namespace

void BoxSource::error_bound(int slot, std::vector<double>& w) const {
  thread_local std::vector<double> lo, hi;
  box(slot, lo, hi);
  w.resize(lo.size());
  for (std::size_t i = 0; i < lo.size(); ++i) w[i] = bounds::up(hi[i] - lo[i]);
}

MarginPlan::MarginPlan(const Plan& plan) : plan_(&plan) {
  for (const PlannedLayer& layer : plan.layers()) {
    std::unique_ptr<BackwardStep> s;
    try {
      s = prepare(plan.graph(), *layer.node);
      if (s && layer.outputs.size() != 1 && !s->multiple_outputs()) s = nullptr;
    } catch (const std::exception&) {
      s = nullptr;
    }
    if (!s && missing_.empty()) missing_ = fmt::format("{} ({})", layer.node->op_type, layer.node->name);
    steps_.push_back(std::move(s));
  }
}

namespace {
// The two loops below as selects, cloned per instruction set: the same IEEE operations in every
// lane (no contraction: -ffp-contract=off), so the same bits as one element at a time.
__attribute__((target_clones("avx512f", "avx2", "default"))) void hull_all(const double* chain, const double* ref,
                                                                           const double* ref_err, double* lo, double* hi,
                                                                           std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    lo[i] = bounds::min_num(chain[i], bounds::down(ref[i] - ref_err[i]));
    hi[i] = bounds::max_num(chain[i], bounds::up(ref[i] + ref_err[i]));
  }
}
__attribute__((target_clones("avx512f", "avx2", "default"))) void error_all(const double* chain, const double* ref,
                                                                            const double* ref_err, double* w, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const double x = chain[i];
    const double lo = bounds::min_num(x, bounds::down(ref[i] - ref_err[i]));
    const double hi = bounds::max_num(x, bounds::up(ref[i] + ref_err[i]));
    w[i] = bounds::up(bounds::max_num(x - lo, hi - x));
  }
}
}  // namespace

void trajectory_hull(const std::vector<double>& chain, const std::vector<double>& ref, const std::vector<double>& ref_err,
                     std::vector<double>& lo, std::vector<double>& hi) {
  lo.resize(chain.size());
  hi.resize(chain.size());
  hull_all(chain.data(), ref.data(), ref_err.data(), lo.data(), hi.data(), chain.size());
}

void trajectory_error(const std::vector<double>& chain, const std::vector<double>& ref, const std::vector<double>& ref_err,
                      std::vector<double>& w) {
  w.resize(chain.size());
  error_all(chain.data(), ref.data(), ref_err.data(), w.data(), chain.size());
}

MarginWorkspace::MarginWorkspace(const Plan& plan) : g(plan.slots().size()) {}

MarginBound margin_bound(const MarginPlan& mp, MarginWorkspace& w, const MarginTerms& terms, int out_slot, int t, int j) {
  const int js[1] = {j};
  return margin_bound_group(mp, w, terms, out_slot, t, js);
}

MarginBound margin_bound_group(const MarginPlan& mp, MarginWorkspace& w, const MarginTerms& terms, int out_slot, int t,
                               std::span<const int> js) {
  const Plan& plan = mp.plan();
  const auto& slots = plan.slots();
  // A slot's cotangent exists from its first consumer's step to its own sums: the pass holds the
  // frontier of the backward pass, not a copy of every activation.
  for (std::size_t s = 0; s < slots.size(); ++s)
    if (!slots[s].constant) free_cotangent(w.g[s]);
  Cotangent& top = w.g[static_cast<std::size_t>(out_slot)];
  allocate_cotangent(top, slots[static_cast<std::size_t>(out_slot)]);
  top.mid[static_cast<std::size_t>(t)] = 1;
  for (int j : js) {
    // [−1, 0] holds the −1 of e_t − e_j and the 0 of every other direction in the group.
    top.mid[static_cast<std::size_t>(j)] = js.size() == 1 ? -1 : -0.5;
    top.rad[static_cast<std::size_t>(j)] = js.size() == 1 ? 0 : 0.5;
  }
  top.reached = true;

  const auto& layers = plan.layers();
  MarginBound b;
  b.layer_det.assign(layers.size(), 0.0);
  b.layer_prob.assign(layers.size(), 0.0);
  b.layer_remainder.assign(layers.size(), 0.0);
  if (terms.observed) b.layer_observed.assign(layers.size(), 0.0);
  // The Azuma form: Σ mid²·q under the square root, the rest (radius, signed constants, underflow,
  // the layers outside the event) added per layer.
  const bool azuma = terms.azuma_q != nullptr;
  std::vector<double> layer_azuma(azuma ? layers.size() : 0, 0.0);
  double variance = 0;
  std::vector<TrajectoryBox> boxes;
  std::vector<Cotangent*> ins;
  std::vector<const Cotangent*> outs;
  thread_local std::vector<std::vector<double>> step_lo, step_hi;  // computed boxes, per input of the step at work
  thread_local std::vector<SlotJob> jobs;
  thread_local std::vector<std::size_t> job_layer, job_slot;
  thread_local std::vector<SlotSums> sums;
  thread_local std::vector<double> remainder_w;
  jobs.clear();
  job_layer.clear();
  job_slot.clear();
  // At most one job per slot: the sums never move, so a job may point at its own.
  sums.assign(slots.size(), SlotSums{});
  std::size_t summed = 0;  // jobs [0, summed) have their sums, and their cotangents are freed
  auto sum_pending = [&] {
    slot_sums(std::span<const SlotJob>(jobs).subspan(summed));
    for (; summed < jobs.size(); ++summed) free_cotangent(w.g[job_slot[summed]]);
  };
  for (std::size_t l = layers.size(); l-- > 0;) {
    const PlannedLayer& layer = layers[l];
    // Every output that reaches c adds its terms (several only for Split-like layers, whose
    // step takes all of them); a layer none of whose outputs reaches c is skipped.
    outs.clear();
    for (int o : layer.outputs) outs.push_back(o >= 0 && w.g[static_cast<std::size_t>(o)].reached ? &w.g[static_cast<std::size_t>(o)] : nullptr);
    if (std::none_of(outs.begin(), outs.end(), [](const Cotangent* c) { return c != nullptr; })) continue;
    // A slot's cotangent is final once its layer is reached (only its consumers, already done,
    // add to it); its sums wait for a few more slots' (kJobsPerSum), to run side by side.
    for (std::size_t k = 0; k < outs.size(); ++k) {
      if (!outs[k]) continue;
      const int o = layer.outputs[k];
      SlotInputs si{&terms.local_det->value(o).data, &terms.local_prob->value(o).data};
      if (terms.known && mp.step(l).has_constant_error()) {
        si.known = &terms.known->value(o).data;
        si.spread = &terms.known_spread->value(o).data;
      }
      if (azuma && (*terms.azuma_layer)[l]) {
        si.q = &terms.azuma_q->value(o).data;
        si.h = &terms.azuma_h->value(o).data;
      }
      if (terms.observed) si.observed = &terms.observed->value(o).data;
      jobs.push_back({outs[k], si, &sums[jobs.size()]});
      job_layer.push_back(l);
      job_slot.push_back(static_cast<std::size_t>(o));
    }
    boxes.clear();
    ins.clear();
    if (step_lo.size() < layer.inputs.size()) {
      step_lo.resize(layer.inputs.size());
      step_hi.resize(layer.inputs.size());
    }
    const bool reads_boxes = mp.step(l).reads_boxes();
    for (std::size_t k = 0; k < layer.inputs.size(); ++k) {
      const int s = layer.inputs[k];
      const bool runtime = s >= 0 && !slots[static_cast<std::size_t>(s)].constant;
      boxes.push_back(runtime && reads_boxes ? box_of(terms, s, step_lo[k], step_hi[k]) : TrajectoryBox{});
      if (runtime) allocate_cotangent(w.g[static_cast<std::size_t>(s)], slots[static_cast<std::size_t>(s)]);
      ins.push_back(runtime ? &w.g[static_cast<std::size_t>(s)] : nullptr);
    }
    if (outs.size() == 1)
      mp.step(l).apply(boxes, *outs[0], ins);
    else
      mp.step(l).apply_outputs(boxes, outs, ins);
    // Theorem 1′: each runtime input's radius, which this step made from a point cotangent, is
    // charged against the error |x̂ − x̄| there and cut, so that no radius is carried through the
    // absolute values of later steps (graph inputs keep theirs for the input's signed term).
    for (std::size_t k = 0; k < layer.inputs.size(); ++k) {
      Cotangent* g = ins[k];
      const int s = layer.inputs[k];
      if (!terms.cut_radius || !g || std::find(plan.input_slots().begin(), plan.input_slots().end(), s) != plan.input_slots().end()) continue;
      if (std::none_of(g->rad.begin(), g->rad.end(), [](double r) { return r > 0; })) continue;
      if (terms.boxes) {
        terms.boxes->error_bound(s, remainder_w);
      } else {
        const TrajectoryBox box = box_of(terms, s, step_lo[k], step_hi[k]);
        remainder_w.resize(g->rad.size());
        for (std::size_t i = 0; i < remainder_w.size(); ++i) remainder_w[i] = bounds::up(box.hi[i] - box.lo[i]);
      }
      const double r = cut_radius(*g, remainder_w);
      b.layer_remainder[l] = add_up(b.layer_remainder[l], r);
    }
    // A few slots' sums at a time: enough to run side by side (slot_sums.h), few enough that
    // their cotangents stay a small part of the pass's memory.
    if (jobs.size() - summed >= kJobsPerSum) sum_pending();
  }
  sum_pending();
  // The remainders are deterministic (on the boxes' event): into every form alike.
  for (std::size_t l = 0; l < layers.size(); ++l) {
    if (b.layer_remainder[l] == 0) continue;
    b.layer_det[l] = add_up(b.layer_det[l], b.layer_remainder[l]);
    b.layer_prob[l] = add_up(b.layer_prob[l], b.layer_remainder[l]);
    if (azuma) layer_azuma[l] = add_up(layer_azuma[l], b.layer_remainder[l]);
  }
  // Combined per layer in the order of the pass: layers from the last, outputs in order.
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const std::size_t l = job_layer[i];
    const SlotInputs& si = jobs[i].in;
    const SlotSums& ss = sums[i];
    const long n = static_cast<long>(si.l_det->size());
    const Weighted wl = weighted(ss, si);
    double det = wl.det, prob = wl.prob;
    double known = 0;
    if (si.known) {
      known = signed_known(ss, n);
      det = bounds::up(det + known);
      prob = bounds::up(prob + known);
    }
    b.layer_det[l] = add_up(b.layer_det[l], det);
    b.layer_prob[l] = add_up(b.layer_prob[l], prob);
    if (azuma) {
      double a = prob;
      if (si.q) {
        const AzumaPart p = azuma_part(ss, n);
        variance = bounds::up(variance + p.variance);
        a = bounds::up(p.rest + known);
      }
      layer_azuma[l] = add_up(layer_azuma[l], a);
    }
    if (terms.observed) b.layer_observed[l] += ss.observed;
  }

  // The input's rounding is known with its sign: |Σ g·e_0| ≤ |Σ mid·e_0| + Σ rad·|e_0|, plus the
  // binary64 rounding of the first sum.
  const Cotangent& g0 = w.g[static_cast<std::size_t>(plan.input_slots()[0])];
  if (g0.reached) {
    const std::vector<double>& e0 = *terms.input_error;
    double signed_sum = 0, abs_sum = 0, rad_sum = 0;
    for (std::size_t i = 0; i < e0.size(); ++i) {
      signed_sum += g0.mid[i] * e0[i];
      abs_sum += std::fabs(g0.mid[i] * e0[i]);
      rad_sum += g0.rad[i] * std::fabs(e0[i]);
    }
    const long n = static_cast<long>(e0.size());
    b.input = inflate(std::fabs(signed_sum) + dot_rounding(n, abs_sum) + bounds::safe_sum(rad_sum, 2 * n + 2, n));
  }
  // Σ over layers, each term already rounded up; the sum's own rounding by the safety factor.
  const long n_terms = static_cast<long>(layers.size()) + 1;
  double det = b.input, prob = b.input;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    det += b.layer_det[l];
    prob += b.layer_prob[l];
  }
  b.det = bounds::nan_to_inf(det * bounds::safety(n_terms));
  b.prob = bounds::nan_to_inf(prob * bounds::safety(n_terms));
  if (azuma) {
    // One Azuma–Hoeffding event: |Σ X_m| ≤ λ·√(Σ c_m²) with probability ≥ 1 − 2·exp(−λ²/2).
    double a = bounds::up(terms.azuma_lambda * bounds::up(std::sqrt(variance)));
    a += b.input;
    for (double x : layer_azuma) a += x;
    b.azuma = bounds::nan_to_inf(a * bounds::safety(n_terms + 1));
  }
  return b;
}

}  // namespace fpaudit::margin
