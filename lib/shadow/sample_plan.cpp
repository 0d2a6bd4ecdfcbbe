#include "shadow/sample_plan.h"

#include "graph/loader.h"

namespace fpaudit {

PlanSamples plan_samples(const SampleSet& set, long max_samples) {
  PlanSamples s;
  s.available = set.count();
  s.count = max_samples >= 0 && max_samples < set.count() ? max_samples : set.count();
  set.check_finite(s.count);
  s.at = [&set](long i) {
    std::vector<std::vector<double>> x;
    for (std::size_t k = 0; k < set.inputs(); ++k) x.push_back(set.values(k, i));
    return x;
  };
  return s;
}

SamplePlans::SamplePlans(const Graph& loaded, const SampleSet& samples) : loaded_(&loaded), samples_(&samples) {
  // Integer inputs are runtime values of one plan, as the audit has them; a model that needs
  // their values for its shapes (Range, a Reshape by data) is planned per sample instead.
  try {
    first_ = std::make_unique<Bound>(bind(-1));
  } catch (const ModelError&) {
    for (std::size_t k = 0; k < samples.inputs(); ++k) per_sample_ = per_sample_ || !is_float(samples.dtype(k));
    if (!per_sample_) throw;
    first_ = std::make_unique<Bound>(bind(0));
  }
}

SamplePlans::Bound SamplePlans::bind(long i) const {
  Bound b;
  b.graph = std::make_unique<Graph>(*loaded_);
  std::vector<Shape> shapes;
  for (std::size_t k = 0; k < samples_->inputs(); ++k) {
    if (i < 0 || is_float(samples_->dtype(k))) shapes.push_back(samples_->sample_shapes()[k]);
    else bind_input(*b.graph, samples_->name(k), samples_->sample(k, i));
  }
  infer_shapes(*b.graph, shapes);
  b.plan = std::make_unique<Plan>(*b.graph);
  return b;
}

std::vector<Constant> SamplePlans::outputs(const Bound& b, const std::vector<Tensor>& values) const {
  std::vector<Constant> out;
  for (std::size_t k = 0; k < b.graph->outputs.size(); ++k) {
    const ValueInfo& info = b.graph->outputs[k];
    Constant c;
    c.dtype = info.dtype;
    c.shape = info.shape;
    const Constant* folded = b.graph->constant(info.name);
    if (folded && !is_float(folded->dtype)) {  // folded integer arithmetic: exact as it is
      c.ints = folded->ints;
    } else if (is_float(info.dtype)) {
      c.values = values[k].data;
    } else {  // bool, and ArgMax's int64 indices: exact small integers held as binary64
      c.ints.assign(values[k].data.begin(), values[k].data.end());
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<Constant> SamplePlans::evaluate(const Arithmetic& a, const std::vector<Tensor>& constants, long i) const {
  std::vector<std::vector<double>> in;
  if (!per_sample_) {  // one plan, every input a runtime value
    for (std::size_t k = 0; k < samples_->inputs(); ++k) in.push_back(samples_->values(k, i));
    return outputs(*first_, fpaudit::evaluate(*first_->plan, a, constants, in));
  }
  const Bound b = bind(i);
  for (std::size_t k = 0; k < samples_->inputs(); ++k)
    if (is_float(samples_->dtype(k))) in.push_back(samples_->values(k, i));
  return outputs(b, fpaudit::evaluate(*b.plan, a, in));
}

}  // namespace fpaudit
