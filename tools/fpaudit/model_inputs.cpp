#include "fpaudit/model_inputs.h"

#include <filesystem>

#include "fpaudit/common_options.h"
#include "graph/loader.h"

namespace fpaudit::cli {

namespace {
/// The one-array form: a model with one floating-point input given one unnamed .npy and the
/// default sample axis (the audits' original form, whose messages tests and users know).
bool single_array(const Graph& graph, const std::vector<std::string>& specs, const std::string& sample_axis) {
  if (graph.inputs.size() != 1 || !is_float(graph.inputs[0].dtype) || specs.size() != 1 || sample_axis != "auto") return false;
  const std::string& spec = specs[0];
  const bool named = spec.find('=') != std::string::npos && !std::filesystem::exists(spec);
  return !named && std::filesystem::path(spec).extension() != ".npz";
}
}  // namespace

ModelInputs load_model_inputs(const std::string& model, const std::vector<std::string>& specs, const std::string& sample_axis) {
  ModelInputs in;
  for (const std::string& s : specs) in.text += (in.text.empty() ? "" : ", ") + s;
  const SampleAxis axis = parse_sample_axis(sample_axis);
  Graph loaded = load_onnx(model);
  if (single_array(loaded, specs, sample_axis)) {
    in.single = read_npy(specs[0]);
    in.graph = infer_for_samples(std::move(loaded), model, in.single, specs[0]);
    return in;
  }
  in.set = std::make_unique<SampleSet>(loaded, read_inputs(specs), axis);
  infer_shapes(loaded, in.set->sample_shapes());
  in.graph = std::move(loaded);
  return in;
}

}  // namespace fpaudit::cli
