#include "fpaudit/common_options.h"

#include <fmt/format.h>

#include "core/mixed_arithmetic.h"
#include "graph/loader.h"

#include <cmath>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

namespace fpaudit::cli {

std::filesystem::path data_dir() {
  if (const char* env = std::getenv("FPAUDIT_DATA"); env && *env) return env;
  return FPAUDIT_DATA_DIR;
}

Graph load_model_for_samples(const std::string& model, const Constant& data, const std::string& data_path) {
  return infer_for_samples(load_onnx(model), model, data, data_path);
}

Graph infer_for_samples(Graph graph, const std::string& model, const Constant& data, const std::string& data_path) {
  if (graph.inputs.size() != 1)
    throw ModelError(fmt::format("{}: fpaudit needs a model with one input, this one has {}", model, graph.inputs.size()));
  const ValueInfo& in = graph.inputs[0];
  if (!data.shape.empty() && data.shape[0] == 0)
    throw ModelError(fmt::format("{}: holds no samples (an array {})", data_path, shape_string(data.shape)));
  Shape sample(data.shape.begin() + (data.shape.empty() ? 0 : 1), data.shape.end());
  bool fits = !data.shape.empty() && is_float(data.dtype);
  if (fits && in.has_shape) {
    fits = in.shape.size() == sample.size() + 1;
    for (std::size_t d = 1; fits && d < in.shape.size(); ++d) fits = in.shape[d] < 0 || in.shape[d] == sample[d - 1];
  }
  if (!fits)
    throw ModelError(fmt::format("{}: an array {} of {} does not hold samples [N, ...] for the model's input '{}' {}", data_path,
                                 shape_string(data.shape), dtype_name(data.dtype), in.name,
                                 in.has_shape ? shape_string(in.shape) : "(shape not declared)"));
  sample.insert(sample.begin(), 1);
  infer_shapes(graph, std::vector<Shape>{sample});
  return graph;
}

void add_input_options(CLI::App* sub, std::vector<std::string>& inputs, std::string& sample_axis, const std::string& help) {
  sub->add_option("--input", inputs, help)->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  sub->add_option("--sample-axis", sample_axis, kSampleAxisHelp)->capture_default_str();
}

std::vector<InputArray> read_inputs(const std::vector<std::string>& specs) {
  std::vector<InputArray> out;
  for (const std::string& spec : specs) {
    const std::size_t eq = spec.find('=');
    const bool named = eq != std::string::npos && eq > 0 && !std::filesystem::exists(spec);
    std::vector<InputArray> got = read_input_file(named ? spec.substr(0, eq) : "", named ? spec.substr(eq + 1) : spec);
    for (InputArray& a : got) out.push_back(std::move(a));
  }
  return out;
}

CLI::Validator positive_count() {
  return CLI::Validator(
      [](const std::string& text) -> std::string {
        std::size_t used = 0;
        long long v = 0;
        try {
          v = std::stoll(text, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == 0 || used != text.size() || v <= 0) return "expected a whole number above zero, not '" + text + "'";
        return "";
      },
      "N>0", "positive count");
}

void create_output_folder(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error(dir + ": cannot create the output folder: " + ec.message());
}

std::string describe_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

void add_chains_option(CLI::App* sub, std::string& chains, const std::string& help) {
  sub->add_option("--chains", chains, help)->capture_default_str();
}

void resolve_chains(std::vector<ChainSpec>& chains, const Graph& graph, const std::string& option) {
  for (ChainSpec& c : chains) {
    try {
      resolve_kept(c, graph);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(option + " '" + c.name + "': " + e.what());
    }
  }
}

}  // namespace fpaudit::cli
