#include "shadow/apriori.h"

#include <algorithm>
#include <cmath>

#include "bounds/transfer.h"
#include "shadow/classify.h"

namespace fpaudit {

double bound_layer(const PlannedLayer& layer, const bounds::ArithmeticModel& model, double lambda, const Activations& lo,
                   const Activations& hi, const Activations& err, const Activations& err_prob, Activations& det,
                   Activations& prob) {
  std::vector<bounds::Enclosure> in(layer.inputs.size());
  for (std::size_t i = 0; i < layer.inputs.size(); ++i) {
    const int slot = layer.inputs[i];
    if (slot < 0) continue;
    in[i] = {&lo.value(slot), &hi.value(slot), &err.value(slot), &err_prob.value(slot)};
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
  double failure = 0;
  try {
    layer.bound({model, lambda, in, d, p, &failure});
  } catch (const bounds::NoBound&) {
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

std::unique_ptr<AprioriChain> make_apriori_chain(const Plan& plan, const ChainSpec& spec,
                                                 const std::vector<Tensor>& ref_constants,
                                                 std::shared_ptr<const StoredConstants> stored) {
  auto c = std::make_unique<AprioriChain>();
  c->spec = spec;
  c->arithmetic = make_chain_arithmetic(spec);
  c->model = bounds::ArithmeticModel::of(*c->arithmetic);
  c->stored = stored ? std::move(stored) : store_constants(plan, *c->arithmetic, ref_constants);
  return c;
}

AprioriState::AprioriState(const Plan& plan, const AprioriChain& chain)
    : plan_(&plan),
      chain_(&chain),
      lo_(plan, chain.constants()),
      hi_(plan, chain.constants()),
      lo_prob_(plan, chain.constants()),
      hi_prob_(plan, chain.constants()),
      err_(plan, chain.constant_err()),
      err_prob_(plan, chain.constant_err()),
      scratch_(plan, chain.constant_err()) {}

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
}

void AprioriState::enclose(int slot, const Tensor& ref, const Tensor& ref_err) {
  // [x_ref - (E + R), x_ref + (E + R)], rounded outward (theory/bounds-arithmetic.md §1). The
  // chain's value is finite (so E holds) if the enclosure stays below the storage format's largest
  // finite value: the rule's error before the final rounding already keeps it there
  // (theory/a-priori-certificate.md). Otherwise it may have overflowed: E = +Inf.
  const bounds::RoundingTarget& s = chain_->model.storage;
  const bool exact = plan_->slots()[static_cast<std::size_t>(slot)].exact_data;
  auto widen = [&](Tensor& e, Tensor& lo, Tensor& hi) {
    if (exact) {  // integers from integer inputs: the reference's own, in every chain, unrounded
      lo.data = ref.data;
      hi.data = ref.data;
      std::fill(e.data.begin(), e.data.end(), 0.0);
      return;
    }
    for (long i = 0; i < ref.size(); ++i) {
      const double r = bounds::up(e.data[i] + ref_err.data[i]);
      lo.data[i] = bounds::down(ref.data[i] - r);
      hi.data[i] = bounds::up(ref.data[i] + r);
      if (!s.saturates && !(bounds::max_num(-lo.data[i], hi.data[i]) < s.max_finite)) {
        e.data[i] = INFINITY;
        lo.data[i] = -INFINITY;
        hi.data[i] = INFINITY;
      }
    }
  };
  widen(err_.mutable_value(slot), lo_.mutable_value(slot), hi_.mutable_value(slot));
  widen(err_prob_.mutable_value(slot), lo_prob_.mutable_value(slot), hi_prob_.mutable_value(slot));
}

void AprioriState::layer(std::size_t l, double lambda, const Activations& ref, const Activations& ref_err) {
  const PlannedLayer& layer = plan_->layers()[l];
  // Deterministic pass: keep its deterministic output; probabilistic pass: keep its
  // probabilistic output (its inputs hold on the event that the bounds upstream hold).
  bound_layer(layer, chain_->model, lambda, lo_, hi_, err_, err_, err_, scratch_);
  const double fail = bound_layer(layer, chain_->model, lambda, lo_prob_, hi_prob_, err_prob_, err_prob_, scratch_, err_prob_);
  long elements = 0;
  for (int slot : layer.outputs) {
    if (slot < 0) continue;  // an unnamed output
    enclose(slot, ref.value(slot), ref_err.value(slot));
    elements += ref.value(slot).size();
  }
  // An element's probabilistic bound holds on its own rule's event and every event upstream.
  layer_failure_.push_back(probability_sum(failure_, fail));
  if (fail > 0) failure_ = probability_sum(failure_, bounds::up(fail * static_cast<double>(elements)));
}

}  // namespace fpaudit
