#include "shadow/apriori.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>

#include "bounds/transfer.h"
#include "core/mixed_arithmetic.h"
#include "shadow/apriori_widen.h"
#include "shadow/classify.h"

namespace fpaudit {

namespace {

/// A mixed chain's value x held in one format and read by a node of another, which reads
/// round(x) (theory/mixed-chains.md): lo ≤ x ≤ hi gives round(lo) ≤ round(x) ≤ round(hi), and
/// |round(x) − x̄| ≤ |round(x) − x| + |x − x̄|, the first term known exactly at a point (lo = hi)
/// and at most u·max(|lo|, |hi|) + η otherwise (+Inf where round(x) may overflow). The tensors
/// are this thread's, one set per input index `k`; point enclosures and equal det/prob bounds
/// stay shared, as the rules expect of them.
bounds::Enclosure cross_boundary(const bounds::Enclosure& e, const Arithmetic& to, const bounds::RoundingTarget& target, std::size_t k) {
  // A deque: growing it for input k must not move the tensors that input k−1's enclosure, already
  // returned, points to (a vector reallocated them, and a kept Add read freed memory).
  thread_local std::deque<std::array<Tensor, 4>> scratch;
  if (scratch.size() <= k) scratch.resize(k + 1);
  Tensor &lo = scratch[k][0], &hi = scratch[k][1], &err = scratch[k][2], &err_prob = scratch[k][3];
  const bool point = e.lo == e.hi, same_err = e.err == e.err_prob;
  lo = *e.lo;
  lo.packs.reset();
  to.round_storage(lo.data);
  if (!point) {
    hi = *e.hi;
    hi.packs.reset();
    to.round_storage(hi.data);
  }
  err.resize(e.err->shape);
  if (!same_err) err_prob.resize(e.err->shape);
  for (long i = 0; i < lo.size(); ++i) {
    const double delta = point ? bounds::nan_to_inf(std::fabs(lo.data[i] - e.lo->data[i])) : target.error(e.magnitude(i));
    err.data[i] = bounds::nan_to_inf(bounds::up(e.err->data[i] + delta));
    if (!same_err) err_prob.data[i] = bounds::nan_to_inf(bounds::up(e.err_prob->data[i] + delta));
  }
  return {&lo, point ? &lo : &hi, &err, same_err ? &err : &err_prob};
}

}  // namespace

double bound_layer(const PlannedLayer& layer, const bounds::ArithmeticModel& model, double lambda, const Activations& lo,
                   const Activations& hi, const Activations& err, const Activations& err_prob, Activations& det,
                   Activations& prob, BoundScope scope, bounds::SignedSumMemo* memo) {
  // A mixed chain: the node's own model, and its inputs held in another format crossing into it.
  const bounds::ArithmeticModel& m = model.mixed ? model.mixed->model_at(*layer.node) : model;
  // The pattern's rule assumes one arithmetic for all its operators (a mixed chain's may differ;
  // x read from another format crosses into that one exactly as the Sub and ReduceMean read it).
  bool pattern = scope == BoundScope::Propagated && layer.pattern_rule;
  if (pattern && model.mixed) {
    const MixedArithmetic& mixed = *model.mixed;
    for (const Node* n : layer.pattern_nodes) pattern = pattern && mixed.keeps(*n) == mixed.keeps(*layer.node);
  }
  const std::vector<int>& slots = pattern ? layer.pattern_inputs : layer.inputs;
  std::vector<bounds::Enclosure> in(slots.size());
  for (std::size_t i = 0; i < slots.size(); ++i) {
    const int slot = slots[i];
    if (slot < 0) continue;
    in[i] = {&lo.value(slot), &hi.value(slot), &err.value(slot), &err_prob.value(slot)};
    if (model.mixed) {
      if (const Arithmetic* to = crossing(lo.plan(), *model.mixed, layer, slot)) in[i] = cross_boundary(in[i], *to, m.storage, i);
    }
  }
  // An unnamed node output (slot -1) has no tensor: its kernel gets null, as in
  // Activations::run_layer. When det and prob are one set of activations, the caller keeps the
  // deterministic bounds only: the probabilistic ones go to thread scratch rather than over them
  // (they are equal for the exact reference, not for mpfr:BITS).
  const bool det_only = &det == &prob;
  thread_local std::vector<Tensor> discarded;
  if (det_only && discarded.size() < layer.outputs.size()) discarded.resize(layer.outputs.size());
  std::vector<Tensor*> d, p;
  for (std::size_t k = 0; k < layer.outputs.size(); ++k) {
    const int slot = layer.outputs[k];
    Tensor* t = slot < 0 ? nullptr : &det.mutable_value(slot);
    d.push_back(t);
    if (t && det_only) discarded[k].resize(t->shape);
    p.push_back(t && det_only ? &discarded[k] : slot < 0 ? nullptr : &prob.mutable_value(slot));
  }
  // A memo to read must hold a whole recording pass; one to record starts empty, sized to the
  // layer's one output, and holds nothing if the rule records nothing. A pattern's rule is not a
  // dot product: no memo.
  if (memo && !memo->reuse) memo->written = 0;
  if (memo && (pattern || d.size() != 1 || !d[0] || (memo->reuse && (!memo->complete() || memo->alt.size() != d[0]->data.size()))))
    memo = nullptr;
  if (memo && !memo->reuse) memo->start(d[0]->data.size());
  double failure = 0;
  try {
    if (pattern) layer.pattern_rule->bound({m, lambda, in, d, p, &failure, !det_only});
    else layer.bound({m, lambda, in, d, p, &failure, !det_only, memo});
  } catch (const bounds::NoBound&) {
    if (memo && !memo->reuse) memo->written = 0;
    for (Tensor* t : d)
      if (t) std::fill(t->data.begin(), t->data.end(), INFINITY);
    for (Tensor* t : p)
      if (t) std::fill(t->data.begin(), t->data.end(), INFINITY);
  }
  return failure;
}

void infinite_where_nonfinite(const PlannedLayer& layer, const Activations& values, Activations& det, Activations& prob) {
  for (int slot : layer.outputs) {
    if (slot < 0) continue;  // an unnamed output
    const std::vector<double>& y = values.value(slot).data;
    std::vector<double>& d = det.mutable_value(slot).data;
    std::vector<double>& p = prob.mutable_value(slot).data;
    for (std::size_t i = 0; i < y.size(); ++i)
      if (!std::isfinite(y[i])) d[i] = p[i] = INFINITY;
  }
}

std::shared_ptr<const ConcentratedPlan> concentrated_plan(const Plan& plan) {
  auto p = std::make_shared<const ConcentratedPlan>(plan);
  return p->any() ? p : nullptr;
}

std::unique_ptr<AprioriChain> make_apriori_chain(const Plan& plan, const ChainSpec& spec,
                                                 const std::shared_ptr<const ConstantStore>& ref_constants,
                                                 std::shared_ptr<const StoredConstants> stored,
                                                 std::shared_ptr<const ConcentratedPlan> concentrated) {
  auto c = std::make_unique<AprioriChain>();
  c->spec = spec;
  c->arithmetic = make_chain_arithmetic(spec);
  c->model = bounds::ArithmeticModel::of(*c->arithmetic);
  c->stored = stored ? std::move(stored) : store_constants(plan, *c->arithmetic, ref_constants);
  // Round-to-nearest trees of one format only (a mixed chain's layers may differ): the model of
  // margin::azuma_local, which checks the rest.
  if (!c->model.mixed) c->concentrated = concentrated ? std::move(concentrated) : concentrated_plan(plan);
  return c;
}

AprioriState::AprioriState(const Plan& plan, const AprioriChain& chain, ConstantCaches& caches)
    : plan_(&plan),
      chain_(&chain),
      lo_(plan, caches.of(chain.stored->values)),
      hi_(plan, caches.of(chain.stored->values)),
      lo_prob_(plan, caches.of(chain.stored->values)),
      hi_prob_(plan, caches.of(chain.stored->values)),
      err_(plan, caches.of(chain.stored->err)),
      err_prob_(plan, caches.of(chain.stored->err)),
      scratch_(plan, caches.of(chain.stored->err)),
      local_prob_(plan, caches.of(chain.stored->err)),
      terms_(plan.slots().size()),
      azuma_(plan.slots().size()),
      carried_(plan.slots().size()),
      prob_memo_(plan.layers().size()) {}

void AprioriState::release(int slot) {
  for (Activations* a : {&lo_, &hi_, &lo_prob_, &hi_prob_, &err_, &err_prob_, &scratch_, &local_prob_}) a->release(slot);
  terms_[static_cast<std::size_t>(slot)] = PathTerms{};
}

bool AprioriState::recomputable(int slot) const {
  return plan_->producer(slot) >= 0 && !plan_->slots()[static_cast<std::size_t>(slot)].exact_data;
}

void AprioriState::release_enclosures(int slot) {
  scratch_.release(slot);
  local_prob_.release(slot);
  terms_[static_cast<std::size_t>(slot)] = PathTerms{};
  if (!recomputable(slot)) return;
  for (Activations* a : {&lo_, &hi_, &lo_prob_, &hi_prob_}) a->release(slot);
}

void AprioriState::restore(int slot, bool prob, const Activations& ref, const Activations& ref_err) {
  if (!recomputable(slot)) return;
  enclosure(slot, prob, ref.value(slot), ref_err.value(slot), (prob ? lo_prob_ : lo_).mutable_value(slot).data,
            (prob ? hi_prob_ : hi_).mutable_value(slot).data);
}

void AprioriState::drop(int slot, bool prob) {
  if (!recomputable(slot)) return;
  (prob ? lo_prob_ : lo_).release(slot);
  (prob ? hi_prob_ : hi_).release(slot);
}

void AprioriState::start(const std::vector<std::vector<double>>& inputs) {
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const std::vector<double>& x = inputs[k];
    std::vector<double> xc = stored_input(*plan_, k, *chain_->arithmetic, x);
    std::vector<double> e(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) e[i] = std::fabs(xc[i] - x[i]);
    lo_.set_input(k, xc);
    hi_.set_input(k, xc);
    lo_prob_.set_input(k, xc);
    hi_prob_.set_input(k, std::move(xc));
    err_.set_input(k, e);
    err_prob_.set_input(k, std::move(e));
  }
  failure_ = 0;
  layer_failure_.clear();
  for (PathTerms& t : terms_) t.ready = false;
  for (KeptAzuma& k : azuma_) k.ready = false;
}


const bounds::RoundingTarget& AprioriState::storage_of(const PlannedLayer& layer) const {
  return (chain_->model.mixed ? chain_->model.mixed->model_at(*layer.node) : chain_->model).storage;
}

void AprioriState::enclosure(int slot, bool prob, const Tensor& ref, const Tensor& ref_err, std::vector<double>& lo,
                             std::vector<double>& hi) const {
  if (!recomputable(slot)) {
    lo = this->lo(prob).value(slot).data;
    hi = this->hi(prob).value(slot).data;
    return;
  }
  // widen_enclosures again from the error bound it left: where it overflowed, that bound is +Inf and the
  // widening overflows again; elsewhere the same operations on the same operands.
  const bounds::RoundingTarget& s = storage_of(plan_->layers()[static_cast<std::size_t>(plan_->producer(slot))]);
  thread_local std::vector<double> e;
  e = (prob ? err_prob_ : err_).value(slot).data;
  lo.resize(e.size());
  hi.resize(e.size());
  widen_enclosures(ref.data.data(), ref_err.data.data(), e.data(), lo.data(), hi.data(), ref.size(), s.saturates, s.max_finite);
}

void AprioriState::enclose(int slot, const Tensor& ref, const Tensor& ref_err, const bounds::RoundingTarget& s) {
  // [x_ref - (E + R), x_ref + (E + R)], rounded outward (theory/bounds-arithmetic.md §1). The
  // chain's value is finite (so E holds) if the enclosure stays below the storage format's largest
  // finite value: the rule's error before the final rounding already keeps it there
  // (theory/a-priori-certificate.md). Otherwise it may have overflowed: E = +Inf.
  const bool exact = plan_->slots()[static_cast<std::size_t>(slot)].exact_data;
  auto widen = [&](Tensor& e, Tensor& lo, Tensor& hi) {
    if (exact) {  // integers from integer inputs: the reference's own, in every chain, unrounded
      lo.data = ref.data;
      hi.data = ref.data;
      std::fill(e.data.begin(), e.data.end(), 0.0);
      return;
    }
    widen_enclosures(ref.data.data(), ref_err.data.data(), e.data.data(), lo.data.data(), hi.data.data(), ref.size(), s.saturates,
              s.max_finite);
  };
  widen(err_.mutable_value(slot), lo_.mutable_value(slot), hi_.mutable_value(slot));
  widen(err_prob_.mutable_value(slot), lo_prob_.mutable_value(slot), hi_prob_.mutable_value(slot));
}

void AprioriState::layer(std::size_t l, double lambda, const Activations& ref, const Activations& ref_err) {
  const PlannedLayer& layer = plan_->layers()[l];
  // Deterministic pass: keep its deterministic output (det = prob asks for it alone, so the
  // rules skip what only tightens a probabilistic bound); probabilistic pass: keep its
  // probabilistic output (its inputs hold on the event that the bounds upstream hold).
  bound_layer(layer, chain_->model, lambda, lo_, hi_, err_, err_, err_, err_, BoundScope::Propagated);
  // A consumer of concentrated terms (shadow/apriori_concentrated.h) computes its probabilistic
  // bound itself, from its rule with exact input; any other layer, or a consumer whose terms are
  // missing, by its rule.
  const ConcentratedPlan* cp = chain_->concentrated.get();
  double fail = 0, concentrated = 0;
  bounds::SignedSumMemo& memo = prob_memo_[l];
  memo.written = 0;  // the first pass over this sample's box records, a later one reads
  if (!(cp && cp->producer_of(l) >= 0 && concentrate(l, lambda, fail, concentrated)))
    fail = bound_layer(layer, chain_->model, lambda, lo_prob_, hi_prob_, err_prob_, err_prob_, scratch_, err_prob_, BoundScope::Propagated,
                       memo.complete() ? memo.to_read() : memo.to_record());
  long elements = 0;
  const bounds::RoundingTarget& storage = storage_of(layer);
  for (int slot : layer.outputs) {
    if (slot < 0) continue;  // an unnamed output
    enclose(slot, ref.value(slot), ref_err.value(slot), storage);
    elements += ref.value(slot).size();
  }
  if (cp && cp->is_producer(l)) keep_producer_terms(l, lambda);
  if (cp && cp->on_path(l)) carry_terms(l, lambda);
  // An element's probabilistic bound holds on its own rule's event and every event upstream
  // (the concentrated form's events counted whole, as if one element relied on all of them).
  layer_failure_.push_back(probability_sum(probability_sum(failure_, fail), concentrated));
  if (fail > 0) failure_ = probability_sum(failure_, bounds::up(fail * static_cast<double>(elements)));
  if (concentrated > 0) failure_ = probability_sum(failure_, concentrated);
}

const PathTerms* AprioriState::path_terms_of(int slot) const {
  if (slot < 0) return nullptr;
  const PathTerms& t = terms_[static_cast<std::size_t>(slot)];
  return t.ready ? &t : nullptr;
}

const margin::AzumaLocal* AprioriState::azuma_terms(int slot, double lambda) const {
  if (slot < 0 || lambda != producer_lambda_) return nullptr;
  const KeptAzuma& k = azuma_[static_cast<std::size_t>(slot)];
  return k.ready ? &k.terms : nullptr;
}

void AprioriState::keep_producer_terms(std::size_t l, double lambda) {
  producer_lambda_ = lambda;
  const PlannedLayer& layer = plan_->layers()[l];
  const int in = layer.inputs[0], out = layer.outputs[0];
  const ConcentratedPlan& cp = *chain_->concentrated;
  const std::vector<const Tensor*> rounded = constant_inputs(layer, lo_prob_);  // the chain's (lo = hi)
  std::vector<double>& carried = carried_[static_cast<std::size_t>(out)];
  KeptAzuma& azuma = azuma_[static_cast<std::size_t>(out)];
  azuma.ready = producer_terms(cp.step(l), chain_->model, lambda, lo_prob_.value(in), hi_prob_.value(in), err_prob_.value(in), rounded,
                               carried.empty() ? nullptr : &carried, terms_[static_cast<std::size_t>(out)], azuma.terms);
  std::vector<double>().swap(carried);
}

double AprioriState::exact_input_bound(std::size_t l, double lambda) {
  const PlannedLayer& layer = plan_->layers()[l];
  std::vector<double>& e_in = err_prob_.mutable_value(layer.inputs[0]).data;
  thread_local std::vector<double> kept;
  kept.swap(e_in);
  e_in.assign(kept.size(), 0.0);
  bounds::SignedSumMemo& memo = prob_memo_[l];  // the same box as this layer's first pass
  const double fail = bound_layer(layer, chain_->model, lambda, lo_prob_, hi_prob_, err_prob_, err_prob_, scratch_, local_prob_,
                                  BoundScope::Propagated, memo.complete() ? memo.to_read() : memo.to_record());
  e_in.swap(kept);
  return fail;
}

void AprioriState::carry_terms(std::size_t l, double lambda) {
  const PlannedLayer& layer = plan_->layers()[l];
  const int in = layer.inputs[0], out = layer.outputs[0];
  const PathTerms& from = terms_[static_cast<std::size_t>(in)];
  PathTerms& to = terms_[static_cast<std::size_t>(out)];
  to.ready = false;
  if (!from.ready) return;
  const margin::BackwardStep& step = chain_->concentrated->step(l);
  // A layer that rounds adds its own error with exact input, deterministic (no event to count).
  if (step.carry_rounds()) exact_input_bound(l, lambda);
  const margin::BackwardStep::CarryIn c{lo_prob_.value(in).data.data(), hi_prob_.value(in).data.data(), err_prob_.value(in).data.data(),
                                        step.carry_rounds() ? scratch_.value(out).data.data() : nullptr};
  step.carry_terms(c, from.v, from.a, to.v, to.a);
  local_prob_.release(out);
  const std::size_t n = static_cast<std::size_t>(element_count(plan_->slots()[static_cast<std::size_t>(out)].shape));
  to.ready = to.v.size() == n && to.a.size() == n;
}

bool AprioriState::concentrate(std::size_t l, double lambda, double& rule_failure, double& events) {
  const PlannedLayer& layer = plan_->layers()[l];
  const ConcentratedPlan& cp = *chain_->concentrated;
  const PathTerms& terms = terms_[static_cast<std::size_t>(layer.inputs[0])];
  const std::vector<const Tensor*> rounded = constant_inputs(layer, lo_prob_);
  thread_local std::vector<double> T, A, unused;
  if (!consumer_terms(cp.step(l), terms, lambda, rounded, T)) return false;
  // The elementwise alternative: Σ_j |Ŵ_ij|·E_j, the input error carried through the weights.
  if (cp.step(l).weight_sums(err_prob_.value(layer.inputs[0]).data.data(), nullptr, rounded, A, unused) <= 0 || A.size() != T.size())
    return false;
  // L: the layer's rule with its runtime input taken exact (its own rounding and its constants'),
  // over the same box; its error is L plus the input error carried through the rounded weights,
  // at most min(T, A) (theory/apriori-concentrated.md).
  rule_failure = exact_input_bound(l, lambda);
  const int out = layer.outputs[0];
  const std::vector<double>& L = local_prob_.value(out).data;
  std::vector<double>& E = err_prob_.mutable_value(out).data;
  if (L.size() != T.size() || E.size() != T.size()) return false;
  // A consumer that is a producer too hands its bound on the input error carried through its
  // weights, min(T, A), to its own P (keep_producer_terms; T's event is counted here).
  std::vector<double>* carry = cp.is_producer(l) ? &carried_[static_cast<std::size_t>(out)] : nullptr;
  if (carry) carry->resize(E.size());
  long taken = 0;
  for (std::size_t i = 0; i < E.size(); ++i) {
    const bool concentrated = T[i] < A[i];  // NaN never taken
    const double carried = concentrated ? T[i] : A[i];
    E[i] = bounds::nan_to_inf(bounds::up(L[i] + carried));
    if (carry) (*carry)[i] = carried;
    taken += concentrated;
  }
  local_prob_.release(out);
  events = 0;
  if (taken == 0) return true;
  // One Azuma–Hoeffding event per output that takes the form, and the producer's signed-sum events.
  const double event = bounds::up_libm(2 * std::exp(-0.5 * lambda * lambda));
  const KeptAzuma& producer = azuma_[static_cast<std::size_t>(plan_->layers()[static_cast<std::size_t>(cp.producer_of(l))].outputs[0])];
  events = bounds::up(static_cast<double>(taken + producer.terms.signed_events) * event);
  return true;
}

}  // namespace fpaudit
