// fpaudit run MODEL --input X.npy --chain CHAIN --output Y.npy: evaluates a model in one chain
// (or the reference) and writes its outputs, to compare with any other runtime.
#include <omp.h>

#include <chrono>
#include <exception>
#include <memory>

#include <fmt/format.h>

#include "fpaudit/commands.h"
#include "fpaudit/common_options.h"
#include "fpaudit/output_set.h"
#include "graph/loader.h"
#include "core/reference_arithmetic.h"
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
  int threads = 1;
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
  check_output_file(opt.output);
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
  for (long i = 0; i < n * per_sample; ++i)
    if (!std::isfinite(x.values[i]))
      throw ModelError(fmt::format("{}: sample {} holds {}", opt.input, i / per_sample, describe_value(x.values[i])));
  // Samples are independent: each thread evaluates whole samples into their own rows of y.
  const long per_output = static_cast<long>(element_count(out_shape));
  y.values.resize(static_cast<std::size_t>(n * per_output));
  const auto start = std::chrono::steady_clock::now();
  std::exception_ptr failure;
#pragma omp parallel for schedule(dynamic, 8) num_threads(opt.threads)
  for (long i = 0; i < n; ++i) {
    try {
      const std::vector<Tensor> out = evaluate(plan, *a, constants, {sample_values(x, i, per_sample)});
      std::copy(out[0].data.begin(), out[0].data.end(), y.values.begin() + i * per_output);
    } catch (...) {
#pragma omp critical(fpaudit_run_failure)
      if (!failure) failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (long i = 0; i < n && i < static_cast<long>(labels.ints.size()); ++i) {
    const auto z = y.values.begin() + i * per_output;
    correct += std::max_element(z, z + per_output) - z == labels.ints[i];
  }
  write_npy(opt.output, y);
  fmt::print("{}: {} samples through {} chain {} -> {} {} in {:.6f} s ({} thread{})\n", opt.model, n,
             graph.nodes.size() ? "the" : "an empty", a->name(), opt.output, shape_string(y.shape), seconds, opt.threads,
             opt.threads == 1 ? "" : "s");
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
  sub->add_option("--samples", opt->samples, "Evaluate only the first N samples")->check(positive_count());
  sub->add_option("--threads", opt->threads, "Threads (samples are independent; the outputs do not depend on it)")
      ->check(positive_count())
      ->capture_default_str();
  sub->callback([opt, &status] { status = run_run(*opt); });
}

}  // namespace fpaudit::cli
