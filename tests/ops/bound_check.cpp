#include "bound_check.h"

#include <cmath>

#include <doctest/doctest.h>

#include "bounds/model.h"
#include "bounds/transfer.h"
#include "graph/loader.h"
#include "core/reference_arithmetic.h"
#include "shadow/plan.h"

namespace fpaudit::test {

BoundCheck check_bounds(const ModelBuilder& m, const std::vector<Feed>& inputs, const Arithmetic& chain) {
  Graph g = m.parse();
  std::vector<Shape> shapes;
  for (const Feed& f : inputs) shapes.push_back(f.shape);
  infer_shapes(g, shapes);
  const Plan plan(g);
  const auto exact = make_reference_arithmetic("exact");
  const std::vector<Tensor> c_consts = round_constants(plan, chain), r_consts = round_constants(plan, *exact);
  Activations c_vals(plan, c_consts), r_vals(plan, r_consts);
  // Error bounds per slot: constants and inputs start with their rounding error.
  std::vector<Tensor> err(plan.slots().size());
  for (std::size_t s = 0; s < err.size(); ++s) {
    if (!plan.slots()[s].constant) continue;
    err[s] = c_consts[s];
    for (std::size_t i = 0; i < err[s].data.size(); ++i) err[s].data[i] = std::fabs(c_consts[s].data[i] - r_consts[s].data[i]);
  }
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    std::vector<double> rounded = inputs[k].values;
    chain.round_storage(rounded);
    const int s = plan.input_slots()[k];
    err[s] = Tensor(inputs[k].shape);
    for (std::size_t i = 0; i < rounded.size(); ++i) err[s].data[i] = std::fabs(rounded[i] - inputs[k].values[i]);
    c_vals.set_input(k, rounded);
    r_vals.set_input(k, inputs[k].values);
  }
  const auto model = bounds::ArithmeticModel::of(chain);
  BoundCheck result;
  for (std::size_t l = 0; l < plan.layers().size(); ++l) {
    const PlannedLayer& layer = plan.layers()[l];
    c_vals.run_layer(chain, l, c_vals);
    r_vals.run_layer(*exact, l, r_vals);
    std::vector<bounds::Enclosure> in(layer.inputs.size());
    for (std::size_t i = 0; i < layer.inputs.size(); ++i) {
      const int s = layer.inputs[i];
      if (s < 0) continue;
      const Tensor& v = c_vals.value(s);
      in[i] = {&v, &v, &err[s], &err[s]};
    }
    std::vector<Tensor> det, prob;
    for (int s : layer.outputs) {
      det.emplace_back(c_vals.value(s).shape);
      prob.emplace_back(c_vals.value(s).shape);
    }
    std::vector<Tensor*> dp, pp;
    for (std::size_t k = 0; k < det.size(); ++k) {
      dp.push_back(&det[k]);
      pp.push_back(&prob[k]);
    }
    layer.bound({model, 5.0, in, dp, pp, nullptr});
    for (std::size_t k = 0; k < layer.outputs.size(); ++k) {
      const int s = layer.outputs[k];
      const Tensor& y = c_vals.value(s);
      const Tensor& r = r_vals.value(s);
      if (k == 0) {
        result.last_bound = det[k].data;
        result.last_error.assign(y.data.size(), 0);
      }
      for (std::size_t i = 0; i < y.data.size(); ++i) {
        const double e = std::isnan(y.data[i]) && std::isnan(r.data[i]) ? 0 : std::fabs(y.data[i] - r.data[i]);
        if (k == 0) result.last_error[i] = e;
        ++result.checked;
        if (!(e <= det[k].data[i])) ++result.violations;
      }
      err[s] = det[k];
    }
  }
  return result;
}

void check_bounds_every_chain(const ModelBuilder& m, const std::vector<Feed>& inputs) {
  for (const ChainSpec& spec : named_chains()) {
    INFO("chain " << spec.name);
    const BoundCheck b = check_bounds(m, inputs, *make_chain_arithmetic(spec));
    CHECK(b.checked > 0);
    CHECK(b.violations == 0);
  }
}

}  // namespace fpaudit::test
