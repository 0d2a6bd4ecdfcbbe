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

SamplePlans::SamplePlans(const Graph& loaded, const SampleSet& samples)
    : loaded_(&loaded), samples_(&samples), parameter_(samples.inputs(), false) {
  // Integer inputs are runtime values of one plan, as the audit has them; a model that needs
  // their values for its shapes (Range, a Reshape by data) is planned per sample instead. A float
  // input in a parameter's place (Resize's scales, Clip's bounds, a loss's class weights: what a
  // deployed model holds as an initializer) is bound per sample as a constant too, one at a time
  // as planning names them (ConstantRequired), never a data input the engine can run.
  // Binding the integer inputs per sample, once: false when they already are (nothing left to try).
  auto integers_per_sample = [&] {
    if (per_sample_) return false;
    for (std::size_t k = 0; k < samples.inputs(); ++k) per_sample_ = per_sample_ || !is_float(samples.dtype(k));
    return per_sample_;
  };
  for (;;) {
    try {
      first_ = std::make_unique<Bound>(bind(per_sample_ ? 0 : -1));
      return;
    } catch (const ConstantRequired& e) {
      const std::size_t k = input_index(e.value());
      if (k < samples.inputs() && is_float(samples.dtype(k)) && !parameter_[k]) {
        parameter_[k] = true;
        per_sample_ = true;
      } else if (!integers_per_sample()) {
        throw;
      }
    } catch (const ModelError&) {
      if (!integers_per_sample()) throw;
    }
  }
}

std::size_t SamplePlans::input_index(const std::string& name) const {
  for (std::size_t k = 0; k < samples_->inputs(); ++k)
    if (samples_->name(k) == name) return k;
  return samples_->inputs();
}

bool SamplePlans::bound_per_sample(std::size_t k) const { return !is_float(samples_->dtype(k)) || parameter_[k]; }

SamplePlans::Bound SamplePlans::bind(long i) const {
  Bound b;
  b.graph = std::make_unique<Graph>(*loaded_);
  std::vector<Shape> shapes;
  for (std::size_t k = 0; k < samples_->inputs(); ++k) {
    if (i < 0 || !bound_per_sample(k)) shapes.push_back(samples_->sample_shapes()[k]);
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

std::vector<Constant> SamplePlans::evaluate(const Arithmetic& a, ConstantCache& constants, long i) const {
  std::vector<std::vector<double>> in;
  if (!per_sample_) {  // one plan, every input a runtime value
    for (std::size_t k = 0; k < samples_->inputs(); ++k) in.push_back(samples_->values(k, i));
    return outputs(*first_, fpaudit::evaluate(*first_->plan, a, constants, in));
  }
  const Bound b = bind(i);
  for (std::size_t k = 0; k < samples_->inputs(); ++k)
    if (!bound_per_sample(k)) in.push_back(samples_->values(k, i));
  return outputs(b, fpaudit::evaluate(*b.plan, a, in));
}

std::vector<std::vector<Constant>> SamplePlans::evaluate(const Arithmetic& a, ConstantCache& constants, long first,
                                                         long last) const {
  std::vector<std::vector<Constant>> out;
  if (per_sample_) {
    for (long i = first; i < last; ++i) out.push_back(evaluate(a, constants, i));
    return out;
  }
  std::vector<std::vector<std::vector<double>>> in(static_cast<std::size_t>(last - first));
  for (long i = first; i < last; ++i)
    for (std::size_t k = 0; k < samples_->inputs(); ++k) in[static_cast<std::size_t>(i - first)].push_back(samples_->values(k, i));
  for (const std::vector<Tensor>& values : evaluate_batch(*first_->plan, a, constants, in)) out.push_back(outputs(*first_, values));
  return out;
}

}  // namespace fpaudit
