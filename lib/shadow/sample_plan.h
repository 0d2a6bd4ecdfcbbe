// A model ready to evaluate on the samples a user gave (graph/samples.h). Every runtime input,
// integer and bool ones included (token ids, attention masks: exact data, never rounded), is a
// value of one plan inferred and planned once, as the audit evaluates it. A model that needs the
// values of its integer inputs for its shapes (a Range or a Reshape by data) is instead bound
// per sample: its integer inputs become constants of that sample and the graph is inferred and
// planned again, the integer arithmetic folding exactly (graph/README.md).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/arithmetic.h"
#include "graph/samples.h"
#include "shadow/constant_store.h"

namespace fpaudit {

/// The samples an audit or a bounds run reads (shadow/audit.h, shadow/bounds_run.h): how many,
/// and sample i as one exact array per graph input, in the graph's input order (integer inputs
/// hold their integers, which the chains keep unrounded).
struct PlanSamples {
  long count = 0;      ///< samples audited
  long available = 0;  ///< samples in the data (>= count): the rows a --compare file may hold
  std::function<std::vector<std::vector<double>>(long)> at;
};
/// The first `max_samples` samples of a SampleSet (all when negative), checked finite; the set
/// must outlive the result.
PlanSamples plan_samples(const SampleSet& set, long max_samples);

class SamplePlans {
 public:
  /// `loaded` is the model as load_onnx gives it (shapes not yet inferred); both arguments must
  /// outlive this object. Plans sample 0 at once, so a model the engine cannot evaluate is
  /// refused here (ModelError).
  SamplePlans(const Graph& loaded, const SampleSet& samples);

  /// Whether the integer inputs (and float inputs in a parameter's place) are bound per sample
  /// (the plan is rebuilt for each sample).
  bool per_sample() const { return per_sample_; }
  /// The graph of sample 0 (output shapes and types; the same for every sample when the inputs'
  /// sample shapes are).
  const Graph& graph() const { return *first_->graph; }
  const Plan& plan() const { return *first_->plan; }

  /// The graph outputs of sample i in arithmetic a (thread-safe: every call has its own
  /// working set). Float outputs fill `values`, integer and bool outputs `ints`, exactly.
  /// `constants`: the calling thread's cache of ConstantStore::rounded(plan(), a)
  /// (shadow/constant_store.h), used when the plan is shared.
  std::vector<Constant> evaluate(const Arithmetic& a, ConstantCache& constants, long i) const;
  /// The same for samples [first, last), evaluated together (evaluate_batch, shadow/plan.h) when
  /// the plan is shared, one by one when it is bound per sample: the same bits either way.
  std::vector<std::vector<Constant>> evaluate(const Arithmetic& a, ConstantCache& constants, long first, long last) const;

 private:
  struct Bound {
    std::unique_ptr<Graph> graph;
    std::unique_ptr<Plan> plan;
  };
  Bound bind(long i) const;
  std::size_t input_index(const std::string& name) const;  ///< inputs() when no input has the name
  /// Whether input k is bound as a constant in each sample's plan (integer, or a float parameter).
  bool bound_per_sample(std::size_t k) const;
  std::vector<Constant> outputs(const Bound& b, const std::vector<Tensor>& values) const;

  const Graph* loaded_;
  const SampleSet* samples_;
  std::vector<bool> parameter_;  ///< float inputs in a parameter's place, bound per sample
  bool per_sample_ = false;
  std::unique_ptr<Bound> first_;
};

}  // namespace fpaudit
