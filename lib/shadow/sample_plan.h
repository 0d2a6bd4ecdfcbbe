// A model ready to evaluate on the samples a user gave (graph/samples.h), for `fpaudit run`. When
// every runtime input is floating point the shapes are inferred and the model planned once.
// Integer and bool inputs (token ids, attention masks) are bound as constants of each sample
// instead, and the graph is inferred and planned again per sample: the integer arithmetic on
// them (Gather of embeddings, mask arithmetic, shape arithmetic) folds exactly, as
// graph/README.md describes, and what stays a node runs in the chain's arithmetic. This also runs
// models whose shapes depend on those values (a Range, a Reshape by data), and it is how the
// ONNX test harness binds them, which the command-line conformance test compares bit for bit.
// `fpaudit audit` and `bounds` instead plan integer inputs once as runtime exact data
// (ValueInfo::exact_data; PlanSamples below): their statistics are per layer of one plan.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "core/arithmetic.h"
#include "graph/samples.h"
#include "shadow/plan.h"

namespace fpaudit {

/// The samples an audit or a bounds run reads (shadow/audit.h, shadow/bounds_run.h): how many,
/// and sample i as one exact array per graph input, in the graph's input order (integer inputs
/// hold their integers, which the chains keep unrounded).
struct PlanSamples {
  long count = 0;
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

  /// Whether some input is bound per sample (the plan is rebuilt for each sample).
  bool per_sample() const { return per_sample_; }
  /// The graph of sample 0 (output shapes and types; the same for every sample when the inputs'
  /// sample shapes are).
  const Graph& graph() const { return *first_->graph; }
  const Plan& plan() const { return *first_->plan; }

  /// The graph outputs of sample i in arithmetic a (thread-safe: every call has its own
  /// working set). Float outputs fill `values`, integer and bool outputs `ints`, exactly.
  /// `constants` is round_constants(plan(), a), used when the plan is shared.
  std::vector<Constant> evaluate(const Arithmetic& a, const std::vector<Tensor>& constants, long i) const;

 private:
  struct Bound {
    std::unique_ptr<Graph> graph;
    std::unique_ptr<Plan> plan;
  };
  Bound bind(long i) const;
  std::vector<Constant> outputs(const Bound& b, const std::vector<Tensor>& values) const;

  const Graph* loaded_;
  const SampleSet* samples_;
  bool per_sample_ = false;
  std::unique_ptr<Bound> first_;
};

}  // namespace fpaudit
