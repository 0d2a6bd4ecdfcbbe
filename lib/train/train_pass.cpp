#include "train/train_pass.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "bounds/transfer.h"

namespace fpaudit::train {


TrainableModel::TrainableModel(const Plan& plan, BatchNormMode batchnorm) : plan_(&plan), producer_(plan.slots().size()) {
  const Graph& graph = plan.graph();
  if (plan.input_slots().size() != 1 || plan.output_slots().size() != 1)
    throw ModelError(fmt::format("{}: train-step needs a model with one input and one output", graph.source.string()));
  for (const PlannedLayer& layer : plan.layers()) {
    backward_.push_back(make_layer_backward(context_of(graph, *layer.node), batchnorm));
    for (std::size_t i : backward_.back()->parameters())
      if (i < layer.inputs.size() && layer.inputs[i] >= 0 && plan.slots()[static_cast<std::size_t>(layer.inputs[i])].constant &&
          std::find(parameters_.begin(), parameters_.end(), layer.inputs[i]) == parameters_.end())
        parameters_.push_back(layer.inputs[i]);
  }
  producer_[static_cast<std::size_t>(output_slot())] = "loss";
  gradient_slots_.push_back(output_slot());
  for (std::size_t l = plan.layers().size(); l-- > 0;) {
    const PlannedLayer& layer = plan.layers()[l];
    for (std::size_t i = 0; i < layer.inputs.size(); ++i) {
      const int s = layer.inputs[i];
      if (!wants_gradient(l, i)) continue;
      // A value read by several layers (a residual branch, a shared weight) is listed once, at
      // its last reader, the first the backward pass reaches.
      if (std::find(gradient_slots_.begin(), gradient_slots_.end(), s) != gradient_slots_.end()) continue;
      producer_[static_cast<std::size_t>(s)] = layer.node->name;
      gradient_slots_.push_back(s);
    }
  }
}

bool TrainableModel::wants_gradient(std::size_t layer, std::size_t input) const {
  const PlannedLayer& l = plan_->layers()[layer];
  const int s = l.inputs[input];
  if (s < 0 || s == input_slot()) return false;
  if (!plan_->slots()[static_cast<std::size_t>(s)].constant) return backward_[layer]->differentiable(input);
  const std::vector<std::size_t> params = backward_[layer]->parameters();
  return std::find(params.begin(), params.end(), input) != params.end();
}

std::vector<Tensor> constants_with(const TrainableModel& m, const Arithmetic& a, const std::vector<std::vector<double>>& weights) {
  std::vector<Tensor> c = round_constants(m.plan(), a);
  for (std::size_t k = 0; k < weights.size(); ++k) {
    Tensor& t = c[static_cast<std::size_t>(m.parameter_slots()[k])];
    t.data = weights[k];
    t.packs = std::make_shared<OperandPacks>();  // the binary32 copies of the old values are stale
  }
  return c;
}

Activations forward(const TrainableModel& m, const Arithmetic& a, const std::vector<Tensor>& constants, std::vector<double> x) {
  Activations act(m.plan(), constants);
  a.round_storage(x);
  act.set_input(0, std::move(x));
  const Plan& plan = m.plan();
  std::vector<const Tensor*> in;
  for (std::size_t l = 0; l < plan.layers().size(); ++l) {
    const PlannedLayer& layer = plan.layers()[l];
    in.clear();
    for (int s : layer.inputs) in.push_back(s >= 0 ? &act.value(s) : nullptr);
    if (layer.outputs[0] < 0 || !m.backward(l).forward(a, in, act.mutable_value(layer.outputs[0]))) act.run_layer(a, l, act);
  }
  return act;
}

namespace {

/// Theorem 4's bound on one reader's contribution: λ (its checks) + ‖B̂ − B‖·‖ĝ_out‖ (the
/// chain's own factors) + ‖B‖·e_out, plus the reference's own rounding to binary64.
double contribution_bound(double lambda, double norm, double factor, double e_out, double g_out, std::size_t n) {
  using bounds::up;
  const double propagated = up(up(norm * e_out) + up(factor * g_out));
  return up(up(lambda + propagated) + up(up(up(norm + factor) * up(g_out + e_out)) * 0x1p-52) + static_cast<double>(n) * 0x1p-1074);
}

/// The bound on a value's gradient from its readers' contribution bounds c_k and the check of
/// their accumulation (λ_acc; none for one reader).
double accumulated_bound(const std::vector<double>& c, const std::vector<Tensor>& parts, double lambda_acc) {
  using bounds::up;
  if (c.size() == 1) return c[0];
  double sum = 0, norms = 0;
  for (double v : c) sum = up(sum + v);
  for (const Tensor& t : parts) norms = up(norms + norm_up(t.data));
  return up(up(lambda_acc + sum) + up(up(norms + sum) * 0x1p-52) + static_cast<double>(parts[0].data.size()) * 0x1p-1074);
}

}  // namespace

std::vector<Tensor> backward(const TrainableModel& m, const Arithmetic& a, const Activations& act, std::vector<double> dlogits,
                             std::vector<SumCheck>* checks, std::vector<double>* totals) {
  const Plan& plan = m.plan();
  // Each reader's contribution to a value's gradient, in the order the readers are reached
  // (last reader first); a value's gradient is finished when its producer is reached.
  std::vector<std::vector<Tensor>> parts(plan.slots().size());
  std::vector<std::vector<double>> part_bounds(plan.slots().size());
  std::vector<Tensor> grads(plan.slots().size());
  if (totals) totals->assign(plan.slots().size(), NAN);
  Tensor& top = grads[static_cast<std::size_t>(m.output_slot())];
  top.shape = act.value(m.output_slot()).shape;
  top.data = std::move(dlogits);
  if (totals) (*totals)[static_cast<std::size_t>(m.output_slot())] = 0;  // g̃ starts from the same dlogits
  auto done = [&](int s) {
    const std::size_t k = static_cast<std::size_t>(s);
    SumCheck acc;
    const std::vector<Tensor> kept = totals && parts[k].size() > 1 ? parts[k] : std::vector<Tensor>{};
    finish(a, parts[k], grads[k], checks ? &acc : nullptr);
    if (checks) (*checks)[k].merge(acc);
    if (totals && !part_bounds[k].empty()) (*totals)[k] = accumulated_bound(part_bounds[k], kept, sqrt_up(acc.bound_sq));
  };
  for (std::size_t l = plan.layers().size(); l-- > 0;) {
    const PlannedLayer& layer = plan.layers()[l];
    const int out = layer.outputs[0];
    if (out < 0) continue;
    if (out != m.output_slot()) done(out);
    const Tensor& dy = grads[static_cast<std::size_t>(out)];
    if (dy.data.empty()) continue;  // not on the way to the loss
    std::vector<const Tensor*> in;
    for (int s : layer.inputs) in.push_back(s >= 0 ? &act.value(s) : nullptr);
    const double e_out = totals ? (*totals)[static_cast<std::size_t>(out)] : NAN;
    const double g_out = totals ? norm_up(dy.data) : NAN;
    // One run per wanted input, so each gradient's sums are checked on their own.
    for (std::size_t i = 0; i < layer.inputs.size(); ++i) {
      if (!m.wants_gradient(l, i)) continue;
      const int s = layer.inputs[i];
      Tensor g(act.value(s).shape);
      std::vector<Tensor*> want(layer.inputs.size(), nullptr);
      want[i] = &g;
      SumCheck local;
      const BackwardArithmetic b(a, checks ? &local : nullptr);
      m.backward(l).run(b, in, act.value(out), dy, want);
      if (checks) (*checks)[static_cast<std::size_t>(s)].merge(local);
      if (totals)
        part_bounds[static_cast<std::size_t>(s)].push_back(
            contribution_bound(sqrt_up(local.bound_sq), m.backward(l).backward_norm(i, in, act.value(out)),
                               m.backward(l).factor_error(i, a, in, act.value(out)), e_out, g_out, g.data.size()));
      parts[static_cast<std::size_t>(s)].push_back(std::move(g));
    }
  }
  for (int s : m.parameter_slots()) done(s);
  return grads;
}

void finish(const Arithmetic& a, std::vector<Tensor>& parts, Tensor& grad, SumCheck* check) {
  if (parts.empty()) return;
  if (parts.size() == 1) {
    grad = std::move(parts[0]);
    parts.clear();
    return;
  }
  // Gradient accumulation: element by element, the contributions summed in one call of the
  // chain's sum (its schedule and accumulation format) and rounded once into storage, in the
  // fixed order of the readers from the last layer back (theory/training-step.md §1).
  const BackwardArithmetic b(a, check);
  grad = Tensor(parts[0].shape);
  std::vector<double> terms(parts.size());
  for (std::size_t e = 0; e < grad.data.size(); ++e) {
    for (std::size_t k = 0; k < parts.size(); ++k) terms[k] = parts[k].data[e];
    grad.data[e] = checked_sum(b, terms);
  }
  parts.clear();
}

}  // namespace fpaudit::train
