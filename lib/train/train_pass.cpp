#include "train/train_pass.h"

#include <algorithm>

#include <fmt/format.h>

namespace fpaudit::train {


TrainableModel::TrainableModel(const Plan& plan) : plan_(&plan), producer_(plan.slots().size()) {
  const Graph& graph = plan.graph();
  if (plan.input_slots().size() != 1 || plan.output_slots().size() != 1)
    throw ModelError(fmt::format("{}: train-step needs a model with one input and one output", graph.source.string()));
  std::vector<int> readers(plan.slots().size(), 0);
  for (const PlannedLayer& layer : plan.layers()) {
    backward_.push_back(make_layer_backward(context_of(graph, *layer.node)));
    for (int s : layer.inputs)
      if (s >= 0 && !plan.slots()[static_cast<std::size_t>(s)].constant && ++readers[static_cast<std::size_t>(s)] > 1)
        throw ModelError(fmt::format("{}: value '{}' feeds more than one layer; train-step differentiates chains of layers only",
                                     graph.source.string(), plan.slots()[static_cast<std::size_t>(s)].name));
    for (std::size_t i : backward_.back()->parameters())
      if (i < layer.inputs.size() && layer.inputs[i] >= 0 && plan.slots()[static_cast<std::size_t>(layer.inputs[i])].constant)
        parameters_.push_back(layer.inputs[i]);
  }
  producer_[static_cast<std::size_t>(output_slot())] = "loss";
  gradient_slots_.push_back(output_slot());
  for (std::size_t l = plan.layers().size(); l-- > 0;) {
    const PlannedLayer& layer = plan.layers()[l];
    const std::vector<std::size_t> params = backward_[l]->parameters();
    for (std::size_t i = 0; i < layer.inputs.size(); ++i) {
      const int s = layer.inputs[i];
      if (s < 0 || s == input_slot()) continue;
      const bool param = std::find(params.begin(), params.end(), i) != params.end();
      if (plan.slots()[static_cast<std::size_t>(s)].constant && !param) continue;
      producer_[static_cast<std::size_t>(s)] = layer.node->name;
      gradient_slots_.push_back(s);
    }
  }
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
  act.run_all(a);
  return act;
}

std::vector<Tensor> backward(const TrainableModel& m, const Arithmetic& a, const Activations& act, std::vector<double> dlogits,
                             std::vector<SumCheck>* checks) {
  const Plan& plan = m.plan();
  std::vector<Tensor> grads(plan.slots().size());
  Tensor& top = grads[static_cast<std::size_t>(m.output_slot())];
  top.shape = act.value(m.output_slot()).shape;
  top.data = std::move(dlogits);
  for (std::size_t l = plan.layers().size(); l-- > 0;) {
    const PlannedLayer& layer = plan.layers()[l];
    const int out = layer.outputs[0];
    if (out < 0 || grads[static_cast<std::size_t>(out)].data.empty()) continue;  // not on the way to the loss
    std::vector<const Tensor*> in;
    for (int s : layer.inputs) in.push_back(s >= 0 ? &act.value(s) : nullptr);
    const std::vector<std::size_t> params = m.backward(l).parameters();
    // One run per wanted input, so each gradient's sums are checked on their own.
    for (std::size_t i = 0; i < layer.inputs.size(); ++i) {
      const int s = layer.inputs[i];
      if (s < 0 || s == m.input_slot()) continue;
      if (plan.slots()[static_cast<std::size_t>(s)].constant && std::find(params.begin(), params.end(), i) == params.end()) continue;
      Tensor& g = grads[static_cast<std::size_t>(s)];
      g = Tensor(act.value(s).shape);
      std::vector<Tensor*> want(layer.inputs.size(), nullptr);
      want[i] = &g;
      const BackwardArithmetic b(a, checks ? &(*checks)[static_cast<std::size_t>(s)] : nullptr);
      m.backward(l).run(b, in, act.value(out), grads[static_cast<std::size_t>(out)], want);
    }
  }
  return grads;
}

}  // namespace fpaudit::train
