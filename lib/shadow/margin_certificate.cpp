#include "shadow/margin_certificate.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <span>

#include "bounds/transfer.h"
#include "shadow/margin/azuma.h"

namespace fpaudit {

namespace {

/// One family of bounds (a trajectory's boxes and local bounds) and its certificates so far.
struct Family {
  margin::MarginTerms terms;
  const Tensor* elementwise_det = nullptr;   ///< the elementwise bounds E at the logits
  const Tensor* elementwise_prob = nullptr;
  bool det = true, prob = true;  ///< still certifiable
  bool alive() const { return det || prob; }
};

/// A posteriori boxes: the hull of the chain's value x̂ and the reference's enclosure
/// [x_ref ± R] of the exact value, computed per slot when read.
struct HullBoxes final : margin::BoxSource {
  const MarginSample& s;
  explicit HullBoxes(const MarginSample& sample) : s(sample) {}
  void box(int slot, std::vector<double>& lo, std::vector<double>& hi) const override {
    margin::trajectory_hull(s.chain.value(slot).data, s.ref.value(slot).data, s.ref_err.value(slot).data, lo, hi);
  }
  /// x̂ is known: |x̂ − x̄| ≤ max(x̂ − lo, hi − x̂), in one pass without the box (where x̂ lies
  /// outside [x_ref ± R] the box's end on its side is x̂ itself, and that difference is negative).
  void error_bound(int slot, std::vector<double>& w) const override {
    margin::trajectory_error(s.chain.value(slot).data, s.ref.value(slot).data, s.ref_err.value(slot).data, w);
  }
};

/// A priori boxes: the enclosures of one pass (prob: the probabilistic one), recomputed where the
/// audit freed them.
struct AprioriBoxes final : margin::BoxSource {
  const MarginSample& s;
  AprioriState& state;
  bool prob;
  AprioriBoxes(const MarginSample& sample, bool probabilistic) : s(sample), state(*sample.apriori), prob(probabilistic) {}
  void box(int slot, std::vector<double>& lo, std::vector<double>& hi) const override {
    state.enclosure(slot, prob, s.ref.value(slot), s.ref_err.value(slot), lo, hi);
  }
  /// The pass's own bound E ≥ |x̂ − x̄| (the box is x_ref ± (E + R)).
  void error_bound(int slot, std::vector<double>& w) const override {
    w = (prob ? state.prob(slot) : state.det(slot)).data;
  }
};

/// Makes the a-priori enclosures of a layer's runtime inputs readable for its step.
void restore_inputs(const AprioriBoxes& a, const PlannedLayer& layer) {
  for (int in : layer.inputs)
    if (in >= 0 && !a.s.plan.slots()[static_cast<std::size_t>(in)].constant) a.state.restore(in, a.prob, a.s.ref, a.s.ref_err);
}

/// The local bound ℓ_k of every layer at the chain's input enclosure lo ≤ x ≤ hi with exact
/// inputs (zero_err: only the constants' rounding), into det / prob. Layers whose constants'
/// rounding is carried signed (BackwardStep::has_constant_error, theory/margin-bound-signed.md)
/// get their rounding alone (no_err), and Δ with its spread into known / spread, when no_err is
/// given (a posteriori only: a priori it would cost as much again for what the switches lose).
/// Returns the union bound on the probability that any elementwise probabilistic bound fails.
/// The zero input errors are freed once no later layer reads them. Over a-priori enclosures
/// (`apriori`: s.apriori's of the pass `prob`), each layer's inputs are restored for its step and
/// freed once no later layer reads them. `memo_of(l)` (may be empty, or return null): layer l's
/// signed-sum bounds recorded by an earlier pass over the same enclosures, model and λ, read
/// instead of computed where that pass recorded them whole (bounds::SignedSumMemo).
double local_bounds(const MarginSample& s, const bounds::ArithmeticModel& model, const Activations& lo, const Activations& hi,
                    Activations* no_err, Activations& det, Activations& prob, Activations* known, Activations* spread,
                    const AprioriBoxes* apriori, const std::function<bounds::SignedSumMemo*(std::size_t)>& memo_of) {
  double failure = 0;
  const auto& layers = s.plan.layers();
  margin::ConstantError ce;
  std::vector<const Tensor*> rounded;
  std::vector<double> mid, rad;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const PlannedLayer& layer = layers[l];
    const bool signed_constants = no_err && s.margin.step(l).has_constant_error();
    const Activations& err = signed_constants ? *no_err : s.zero_err;
    if (apriori) restore_inputs(*apriori, layer);
    bounds::SignedSumMemo* memo = memo_of ? memo_of(l) : nullptr;
    if (memo) memo->to_read();  // bound_layer ignores an incomplete one
    const double f = bound_layer(layer, model, s.lambda, lo, hi, err, err, det, prob, BoundScope::Local, memo);
    if (signed_constants) {
      rounded = constant_inputs(layer, lo);
      const std::vector<double>& a = lo.value(layer.inputs[0]).data;
      const std::vector<double>& b = hi.value(layer.inputs[0]).data;
      const bool point = &lo == &hi;
      if (!point) {
        mid.resize(a.size());
        rad.resize(a.size());
        for (std::size_t i = 0; i < a.size(); ++i) {
          const bounds::MidRad x = bounds::mid_rad(a[i], b[i]);
          mid[i] = x.mid;
          rad[i] = x.rad;
        }
      }
      s.margin.step(l).constant_error(point ? a.data() : mid.data(), point ? nullptr : rad.data(), rounded, ce);
      known->mutable_value(layer.outputs[0]).data = ce.delta;
      spread->mutable_value(layer.outputs[0]).data = ce.spread;
    }
    for (int o : layer.outputs)
      if (o >= 0) failure += f * static_cast<double>(det.value(o).size());
    for (int slot : s.plan.dead_after(l)) {
      s.zero_err.release(slot);
      if (no_err) no_err->release(slot);
      if (apriori) apriori->state.drop(slot, apriori->prob);
    }
  }
  return failure;
}

/// q and h (margin/azuma.h) of every layer whose rounding errors the Azuma form models, over the
/// a-priori enclosures of its input (restored for the layer, freed after); flags those layers.
/// Returns whether any layer is flagged.
bool azuma_terms(const MarginSample& s, const bounds::ArithmeticModel& model, const AprioriBoxes& boxes, MarginScratch& w) {
  const Activations &lo = boxes.state.lo(boxes.prob), &hi = boxes.state.hi(boxes.prob);
  const auto& layers = s.plan.layers();
  w.azuma_layer.assign(layers.size(), 0);
  w.azuma_signed_events = 0;
  bool any = false;
  std::vector<const Tensor*> rounded;
  std::vector<double> mid, rad;
  margin::AzumaLocal a;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const PlannedLayer& layer = layers[l];
    if (!s.margin.step(l).has_constant_error()) continue;
    // A producer of a concentrated enclosure (shadow/apriori_concentrated.h) has its terms already,
    // computed the same way over the same box: the same bits.
    if (const margin::AzumaLocal* kept = boxes.state.azuma_terms(layer.outputs[0], s.lambda)) {
      w.azuma_signed_events += kept->signed_events;
      w.azuma_q.mutable_value(layer.outputs[0]).data = kept->q;
      w.azuma_h.mutable_value(layer.outputs[0]).data = kept->h;
      w.azuma_layer[l] = 1;
      any = true;
      continue;
    }
    restore_inputs(boxes, layer);
    rounded = constant_inputs(layer, lo);
    const std::vector<double>& a_lo = lo.value(layer.inputs[0]).data;
    const std::vector<double>& a_hi = hi.value(layer.inputs[0]).data;
    mid.resize(a_lo.size());
    rad.resize(a_lo.size());
    for (std::size_t i = 0; i < a_lo.size(); ++i) {
      const bounds::MidRad x = bounds::mid_rad(a_lo[i], a_hi[i]);
      mid[i] = x.mid;
      rad[i] = x.rad;
    }
    // The box's ends too, for the signed partial sums (Lemma 2′), before they are freed.
    const bool flagged = margin::azuma_local(s.margin.step(l), model, mid.data(), rad.data(), rounded, a,
                                             &lo.value(layer.inputs[0]), &hi.value(layer.inputs[0]), s.lambda);
    for (int in : layer.inputs)
      if (in >= 0) boxes.state.drop(in, boxes.prob);
    if (!flagged) continue;
    w.azuma_signed_events += a.signed_events;
    w.azuma_q.mutable_value(layer.outputs[0]).data = a.q;
    w.azuma_h.mutable_value(layer.outputs[0]).data = a.h;
    w.azuma_layer[l] = 1;
    any = true;
  }
  return any;
}

bool all_finite(const Tensor& t) {
  return std::all_of(t.data.begin(), t.data.end(), [](double v) { return std::isfinite(v); });
}

}  // namespace

MarginScratch::MarginScratch(const Plan& plan, ConstantCache& zero_constants)
    : no_err(plan, zero_constants),
      azuma_q(plan, zero_constants),
      azuma_h(plan, zero_constants),
      backward(plan) {
  for (int k = 0; k < 2; ++k) local.emplace_back(plan, zero_constants);
  for (int k = 0; k < 2; ++k) known.emplace_back(plan, zero_constants);
}

void certify_margin(const MarginSample& s, MarginScratch& w, MarginVerdict& v, std::vector<MarginBlame*> blame) {
  v = MarginVerdict{};
  if (!s.margin.available()) return;
  v.available = true;
  const int out = s.plan.output_slots().at(0);
  const std::vector<double>& z = s.ref.value(out).data;
  const std::vector<double>& R = s.ref_err.value(out).data;
  const std::vector<double>& zc = s.chain.value(out).data;
  const long n = static_cast<long>(z.size());
  const TopTwo top = top_two(z.data(), n);
  if (top.top1 < 0 || n < 2) return;
  const int t = top.top1;
  std::vector<int> order;
  for (int j = 0; j < n; ++j)
    if (j != t) order.push_back(j);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return z[static_cast<std::size_t>(a)] > z[static_cast<std::size_t>(b)]; });

  // The input's rounding, signed.
  std::vector<double> xc = s.x;
  holder_of(s.plan, s.arithmetic, s.plan.input_slots().at(0)).round_storage(xc);
  std::vector<double> e0(xc.size());
  for (std::size_t i = 0; i < xc.size(); ++i) e0[i] = xc[i] - s.x[i];  // exact: Sterbenz

  // The families run one after the other, each on its own directions, so that their local bounds
  // share one pair of buffers (L, and K for the signed constants): each pass overwrites every
  // layer output it reads. The order cannot change a result: a family's certificate depends on its
  // own bounds alone, and the counts below are sums.
  std::vector<Activations>& L = w.local;
  std::vector<Activations>& K = w.known;
  const bool finite = all_finite(s.chain.value(out));

  const std::size_t ti = static_cast<std::size_t>(t);
  // The exact margin against j is at least gamma(j) (rounded down); the drift is observed
  // against z_ref, within the bound plus ref_r(j).
  auto ref_r = [&](int j) { return bounds::up(R[ti] + R[static_cast<std::size_t>(j)]); };
  auto gamma = [&](int j) { return bounds::down(bounds::down(z[ti] - z[static_cast<std::size_t>(j)]) - ref_r(j)); };
  // Counts the directions in js whose drift exceeds the bound mb (a bug, or a probabilistic
  // bound's failure).
  auto check_drifts = [&](const margin::MarginBound& mb, std::span<const int> js) {
    if (!finite) return;
    for (int j : js) {
      const std::size_t ji = static_cast<std::size_t>(j);
      const double drift = std::fabs((zc[ti] - z[ti]) - (zc[ji] - z[ji]));
      const double slack = (std::fabs(zc[ti]) + std::fabs(z[ti]) + std::fabs(zc[ji]) + std::fabs(z[ji])) * 0x1p-51;
      if (drift - slack > bounds::up(mb.det + ref_r(j))) ++v.violations;
      if (drift - slack > bounds::up(mb.prob + ref_r(j))) ++v.prob_exceeded;
    }
  };
  auto bound = [&](const Family& F, std::span<const int> js) {
    margin::MarginBound mb = margin::margin_bound_group(s.margin, w.backward, F.terms, out, t, js);
    // Both hold on the family's event (the Azuma event included in its failure probability).
    if (F.terms.azuma_q) mb.prob = bounds::min_num(mb.prob, mb.azuma);
    mb.det *= s.bound_scale;
    mb.prob *= s.bound_scale;
    ++v.directions;
    check_drifts(mb, js);
    return mb;
  };

  // Family f (0: a posteriori, 1: a priori deterministic, 2: a priori probabilistic) against each
  // runner-up in turn, from the smallest reference margin up, while it can still certify: the
  // runner-up first (its bound and blame are what the audit reports), then the others.
  auto run_directions = [&](Family& F, int f) {
    // Whether the family's elementwise bounds certify direction j for what is still needed of
    // it: |c·(ẑ − z̄)| ≤ E_t + E_j below the margin.
    auto elementwise_certified = [&](int j, bool need_det, bool need_prob) {
      const std::size_t ji = static_cast<std::size_t>(j);
      const double ed = bounds::up(F.elementwise_det->data[ti] + F.elementwise_det->data[ji]);
      const double ep = bounds::up(F.elementwise_prob->data[ti] + F.elementwise_prob->data[ji]);
      return (!need_det || !F.det || gamma(j) > ed) && (!need_prob || !F.prob || gamma(j) > ep);
    };
    // The directions js (nearest margin first) for what is still needed: one pass each when few;
    // else one grouped pass (margin_bound_group) against the group's least margin, and where it
    // leaves something unproved, each half in turn, the nearer first (a failure there ends it).
    std::function<void(std::span<const int>, bool, bool)> tail = [&](std::span<const int> js, bool need_det, bool need_prob) {
      auto needed = [&] { return (need_det && F.det) || (need_prob && F.prob); };
      if (js.size() < std::max<std::size_t>(2, s.grouped_directions)) {
        for (int j : js) {
          if (!needed()) return;
          if (elementwise_certified(j, need_det, need_prob)) continue;
          const int one[1] = {j};
          const margin::MarginBound mb = bound(F, one);
          if (need_det) F.det = F.det && gamma(j) > mb.det;
          if (need_prob) F.prob = F.prob && gamma(j) > mb.prob;
        }
        return;
      }
      std::vector<int> group;
      for (int j : js)
        if (!elementwise_certified(j, need_det, need_prob)) group.push_back(j);
      if (group.empty()) return;
      const margin::MarginBound mb = bound(F, group);
      double least = INFINITY;
      for (int g : group) least = std::fmin(least, gamma(g));
      need_det = need_det && F.det && !(least > mb.det);
      need_prob = need_prob && F.prob && !(least > mb.prob);
      if (!needed()) return;
      const std::size_t half = group.size() / 2;
      tail(std::span<const int>(group).first(half), need_det, need_prob);
      if (needed()) tail(std::span<const int>(group).subspan(half), need_det, need_prob);
    };

    const int j = order[0];
    const int one[1] = {j};
    const margin::MarginBound mb = bound(F, one);
    F.det = F.det && gamma(j) > mb.det;
    F.prob = F.prob && gamma(j) > mb.prob;
    const std::size_t ji = static_cast<std::size_t>(j);
    const double bd = bounds::up(mb.det + ref_r(j)), bp = bounds::up(mb.prob + ref_r(j));
    const double drift = std::fabs((zc[ti] - z[ti]) - (zc[ji] - z[ji]));
    if (f == 0) {
      v.drift = finite ? drift : NAN;
      v.bound_det = bd;
      v.bound_prob = bp;
      double total_obs = 0;
      for (double o : mb.layer_observed) total_obs += std::fabs(o);
      for (std::size_t l = 0; l < blame.size() && l < mb.layer_det.size(); ++l) {
        MarginBlame& m = *blame[l];
        ++m.samples;
        const double share = mb.det > 0 && std::isfinite(mb.det) ? mb.layer_det[l] / mb.det : 0.0;
        const double obs = mb.layer_observed.empty() ? 0.0 : std::fabs(mb.layer_observed[l]);
        m.bound_share += share;
        m.observed_share += total_obs > 0 ? obs / total_obs : 0.0;
        m.bound_max = std::fmax(m.bound_max, mb.layer_det[l]);
        m.observed_max = std::fmax(m.observed_max, obs);
      }
    } else if (f == 1) {
      v.apriori_det = bd;
    } else {
      v.apriori_prob = bp;
    }
    // After the runner-up (one pass: its bound and blame are what the audit reports), the other
    // directions go as one group (margin_bound_group, theory/margin-bound.md §2.2), split in halves
    // where it leaves something unproved, down to single passes. A group that certifies proves
    // each of its directions (its bound holds for every one), and a group that does not ends in the
    // single passes the directions would have had alone, so a sample certified one direction at a
    // time is still certified; a few more are, where a group's bound came out below a single one's.
    // Each direction's drift is checked against the bound of the pass that covered it.
    // A certified 10-class sample costs 2 passes per family instead of 9: the CNN's audit (100
    // images, 1 thread) 17.9 → 16.7 s, the MLP's (200) 7.7 → 6.5 s, the ViT's (30) 12.4 → 10.8 s.
    // MarginSample::grouped_directions sets the shortest set bounded as a group (tests compare
    // with one pass per direction).
    const std::span<const int> rest = std::span<const int>(order).subspan(1);
    if (F.alive() && !rest.empty()) tail(rest, true, true);
  };

  // A posteriori: ℓ_k at the chain's own values, the constants' rounding signed.
  // The signed-sum bounds of the audit's propagated pass at the same values, where it kept them.
  const auto posterior_memo = [&](std::size_t l) { return s.posterior_memo ? &s.posterior_memo[l] : nullptr; };
  v.failure = std::fmin(1.0, local_bounds(s, s.model, s.chain, s.chain, &w.no_err, L[0], L[1], &K[0], &K[1], nullptr, posterior_memo));
  const HullBoxes hull(s);
  std::vector<double> lo, hi;
  for (const PlannedLayer& layer : s.plan.layers()) {
    if (layer.node->op_type != "Relu" && layer.node->op_type != "LeakyRelu") continue;
    const int in = layer.inputs[0];
    if (s.plan.slots()[static_cast<std::size_t>(in)].constant) continue;
    hull.box(in, lo, hi);
    for (std::size_t i = 0; i < lo.size(); ++i) v.unstable += lo[i] < 0 && hi[i] > 0;
  }
  Family post{{nullptr, nullptr, &L[0], &L[1], &e0, s.observed, &K[0], &K[1]}};
  post.terms.boxes = &hull;
  post.terms.cut_radius = true;
  post.det = post.prob = finite;
  post.elementwise_det = &s.err.value(out);
  // Deterministic for both: the elementwise probabilistic bounds would add their own failure
  // probability, which this certificate does not count.
  post.elementwise_prob = &s.err.value(out);
  run_directions(post, 0);
  v.a_posteriori = {post.det, post.prob && v.failure < 1};
  if (!s.apriori) return;

  // A priori, deterministic: ℓ_k over the a-priori enclosures. Only their deterministic form:
  // the family certifies nothing probabilistically (det.prob = false below), so its local bounds
  // go to one buffer, which bound_layer takes as a deterministic pass (the rules skip the
  // signed-sum variances), and the pass reads them as both forms: its `prob` equals its `det`.
  const bounds::ArithmeticModel& m = s.apriori_chain->model;
  const AprioriBoxes det_boxes(s, false), prob_boxes(s, true);
  local_bounds(s, m, s.apriori->lo(false), s.apriori->hi(false), nullptr, L[0], L[0], nullptr, nullptr, &det_boxes, nullptr);
  Family det{{nullptr, nullptr, &L[0], &L[0], &e0, nullptr}};
  det.terms.boxes = &det_boxes;
  det.prob = false;
  det.elementwise_det = det.elementwise_prob = &s.apriori->det(out);
  run_directions(det, 1);

  // A priori, probabilistic (valid on the event that its enclosures hold): the constants'
  // rounding carried signed over the boxes (theory/margin-bound-signed.md, Lemma 1 with a box)
  // and, for the layers it models, its rounding errors in one Azuma–Hoeffding event
  // (theory/margin-bound-azuma.md): its cotangents come from a-priori boxes, which do not depend
  // on the chain's roundings.
  const Activations &plo = s.apriori->lo(true), &phi = s.apriori->hi(true);
  // The signed-sum bounds of the a-priori probabilistic pass over the same boxes.
  const auto prior_memo = [&](std::size_t l) { return s.prior_memo ? &s.apriori->prob_memo(l) : nullptr; };
  double pri_failure =
      local_bounds(s, m, plo, phi, &w.no_err, L[0], L[1], &K[0], &K[1], &prob_boxes, prior_memo) + s.apriori->failure_probability();
  const bool azuma = s.azuma && azuma_terms(s, m, prob_boxes, w);
  // One event per direction; every direction may be needed: (classes − 1)·2·exp(−λ²/2). And one
  // signed-sum event per output whose q is Lemma 2′'s, 2·exp(−λ²/2) each.
  if (azuma)
    pri_failure += bounds::up(static_cast<double>(n - 1 + w.azuma_signed_events) * bounds::up_libm(2 * std::exp(-0.5 * s.lambda * s.lambda)));
  v.apriori_failure = std::fmin(1.0, pri_failure);
  Family prob{{nullptr, nullptr, &L[0], &L[1], &e0, nullptr, &K[0], &K[1]}};
  prob.terms.boxes = &prob_boxes;
  // Theorem 1′ here too: the radius carried to the earlier layers would meet their small
  // probabilistic ℓ_k, but through interval Jacobians over the wide a-priori boxes; charged
  // against E_prob at once it certified more (CNN fp16-acc32 1 → 23 of 200, MLP fp16 185 → 193).
  // The deterministic pass keeps the carried radius (cut: MLP bf16-acc32 157 → 139).
  prob.terms.cut_radius = true;
  if (azuma) {
    prob.terms.azuma_q = &w.azuma_q;
    prob.terms.azuma_h = &w.azuma_h;
    prob.terms.azuma_layer = &w.azuma_layer;
    prob.terms.azuma_lambda = s.lambda;
  }
  prob.det = false;
  prob.elementwise_det = prob.elementwise_prob = &s.apriori->prob(out);
  run_directions(prob, 2);
  v.a_priori = {det.det, prob.prob && v.apriori_failure < 1};
}

}  // namespace fpaudit
