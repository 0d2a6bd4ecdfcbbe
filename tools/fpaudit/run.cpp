// fpaudit run MODEL --input X.npy --chain CHAIN --output Y.npy: evaluates a model in one chain
// (or the reference) and writes its outputs, to compare with any other runtime.
#include <memory>

#include <fmt/format.h>

#include "fpaudit/commands.h"
#include "fpaudit/common_options.h"
#include "graph/loader.h"
#include "kernels/reference_arithmetic.h"
#include "shadow/audit.h"
#include "shadow/plan.h"

namespace fpaudit::cli {

namespace {

struct RunOptions {
  std::string model;
  std::string input;
  std::string chain = "fp32";
  std::string output;
  std::string labels;
  long samples = -1;
};

std::unique_ptr<Arithmetic> arithmetic_for(const std::string& chain) {
  if (chain == "ref" || chain == "exact" || chain.rfind("mpfr:", 0) == 0)
    return make_reference_arithmetic(chain == "ref" ? "exact" : chain);
  return make_chain_arithmetic(parse_chain(chain));
}

int run_run(const RunOptions& opt) {
  const std::unique_ptr<Arithmetic> a = arithmetic_for(opt.chain);
  const Constant x = read_npy(opt.input);
  const Graph graph = load_model_for_samples(opt.model, x, opt.input);
  Shape sample_shape = x.shape;
  sample_shape[0] = 1;
  const Plan plan(graph);
  const long n = opt.samples >= 0 && opt.samples < x.shape[0] ? opt.samples : x.shape[0];
  const long per_sample = static_cast<long>(element_count(sample_shape));
  const Shape out_shape = plan.slots()[plan.output_slots().at(0)].shape;
  Constant y;
  y.dtype = a->is_reference() ? DType::Float64 : DType::Float32;
  y.shape = out_shape;
  y.shape.insert(y.shape.begin(), n);
  if (!out_shape.empty() && out_shape[0] == 1) y.shape.erase(y.shape.begin() + 1);  // [N, classes], not [N, 1, classes]
  long correct = 0;
  Constant labels;
  if (!opt.labels.empty()) labels = read_npy(opt.labels);
  const std::vector<Tensor> constants = round_constants(plan, *a);
  for (long i = 0; i < n; ++i) {
    const std::vector<double> xi = sample_values(x, i, per_sample);
    for (double v : xi)
      if (!std::isfinite(v)) throw ModelError(fmt::format("{}: sample {} holds {}", opt.input, i, describe_value(v)));
    const std::vector<Tensor> out = evaluate(plan, *a, constants, {xi});
    y.values.insert(y.values.end(), out[0].data.begin(), out[0].data.end());
    if (!labels.ints.empty() && i < static_cast<long>(labels.ints.size())) {
      const auto& z = out[0].data;
      const long top = std::max_element(z.begin(), z.end()) - z.begin();
      correct += top == labels.ints[i];
    }
  }
  write_npy(opt.output, y);
  fmt::print("{}: {} samples through {} chain {} -> {} {}\n", opt.model, n, graph.nodes.size() ? "the" : "an empty", a->name(),
             opt.output, shape_string(y.shape));
  if (!labels.ints.empty()) fmt::print("accuracy {:.2f}% ({} of {})\n", 100.0 * correct / n, correct, n);
  return 0;
}

}  // namespace

void set_run_command(CLI::App& app, int& status) {
  auto opt = std::make_shared<RunOptions>();
  CLI::App* sub = app.add_subcommand("run", "Evaluate a model in one chain and write its outputs as .npy");
  sub->add_option("model", opt->model, "ONNX model")->required();
  sub->add_option("--input", opt->input, "Input samples, an .npy array [N, ...]")->required();
  sub->add_option("--chain", opt->chain, "fp32, fp16, fp16-acc32, bf16, bf16-acc32, fp8-e4m3-acc32, ref, mpfr:BITS")->capture_default_str();
  sub->add_option("--output", opt->output, "Where to write the outputs (.npy)")->required();
  sub->add_option("--labels", opt->labels, "Optional integer labels [N]: prints the accuracy");
  sub->add_option("--samples", opt->samples, "Evaluate only the first N samples");
  sub->callback([opt, &status] { status = run_run(*opt); });
}

}  // namespace fpaudit::cli
