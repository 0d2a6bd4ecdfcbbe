// The model and its samples as `fpaudit audit` and `fpaudit bounds` read them: one [N, ...] array
// for a model with one floating-point input (the checks and messages of load_model_for_samples),
// or, for several inputs, integer inputs, NAME=FILE, an .npz or an explicit --sample-axis, every
// input's array matched by name (graph/samples.h), the model's shapes taken from the data.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "graph/samples.h"
#include "shadow/sample_plan.h"

namespace fpaudit::cli {

struct ModelInputs {
  Graph graph;                     ///< shapes inferred for one sample
  Constant single;                 ///< the lone array, when `set` is null
  std::unique_ptr<SampleSet> set;  ///< every input's array otherwise
  std::string text;                ///< the input as the reports name it: the file(s) given
  /// The first `max_samples` samples (all when negative) of the set, checked finite.
  PlanSamples samples(long max_samples) const { return plan_samples(*set, max_samples); }
};

/// Loads MODEL with the data of `specs` (--input arguments; read_inputs) and `sample_axis`.
/// ModelError (one line naming the file and the input) for data that does not fit the model.
ModelInputs load_model_inputs(const std::string& model, const std::vector<std::string>& specs, const std::string& sample_axis);

}  // namespace fpaudit::cli
