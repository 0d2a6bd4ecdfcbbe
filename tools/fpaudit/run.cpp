// fpaudit run MODEL --input X.npy --chain CHAIN --output Y.npy: evaluates a model in one chain
// (or the reference) and writes its outputs, to compare with any other runtime.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <memory>

#include <fmt/format.h>

#include "fpaudit/commands.h"
#include "fpaudit/common_options.h"
#include "fpaudit/output_set.h"
#include "graph/loader.h"
#include "core/reference_arithmetic.h"
#include "shadow/sample_plan.h"

namespace fpaudit::cli {

namespace {

struct RunOptions {
  std::string model;
  std::vector<std::string> inputs;
  std::string sample_axis = "auto";
  std::string chain = "fp32";
  std::string output;
  std::string labels;
  long samples = -1;
  int threads = 1;
  long batch = 0;  ///< 0: default_batch
};

/// The default --batch: 16 samples; 8 where 16 samples' largest activation (in binary64, as the
/// chains hold it) would pass 1 MiB; fewer where a batch's would pass 32 MB.
/// - 8: the elementwise layers between two GEMMs then run on values that stay in a core's L2
///   (2 MB per core on the development Xeon). The shipped CNN (100 KB per image after its first Conv) ran
///   2,000 images in 0.173 s at 8 against 0.183 s at 16 (best of 7, the same binary; 4 gave
///   0.166, but halving again narrows the GEMMs of every larger model). Before the GEMM buffers
///   were cache-aligned, 8 also gained from whole 16-lane column vectors: 0.175 s at 8, 0.186 at
///   7, 0.187 at 10, 0.205 at 16. The MLP (6 KB per image) is faster at 16 (0.035 s at 16
///   against 0.051 at 8).
/// - 32 MB: past that the kernel's zeroing of the fresh pages costs more than a wider GEMM
///   gains: ResNet-50 at 224×224 (6.4 MB per image, so 5) ran 16 images in 3.5 s at batch 4 or 8
///   and 4.3–4.9 s at 16, a quarter of that in clear_page.
long default_batch(const Plan& plan) {
  constexpr long kBatch = 16, kCacheBatch = 8;
  constexpr double kCacheBytes = 1024.0 * 1024, kBudgetBytes = 32.0 * 1024 * 1024;
  long largest = 1;
  for (const Slot& s : plan.slots())
    if (!s.constant) largest = std::max(largest, static_cast<long>(element_count(s.shape)));
  const double bytes = 8.0 * static_cast<double>(largest);
  const long batch = kBatch * bytes > kCacheBytes ? kCacheBatch : kBatch;
  return std::clamp(static_cast<long>(kBudgetBytes / bytes), 1L, batch);
}

/// The arithmetic of --chain; a mixed chain's selectors are checked against the model.
std::unique_ptr<Arithmetic> arithmetic_for(const std::string& chain, const Graph& graph) {
  if (chain == "ref" || chain == "exact" || chain.rfind("mpfr:", 0) == 0)
    return make_reference_arithmetic(chain == "ref" ? "exact" : chain);
  std::vector<ChainSpec> spec = {parse_chain(chain)};
  resolve_chains(spec, graph, "--chain");
  return make_chain_arithmetic(spec[0]);
}

bool is_npz(const std::string& path) { return std::filesystem::path(path).extension() == ".npz"; }

/// The array written for graph output k: every sample's output stacked along a new first axis
/// when the inputs were split into samples (a leading 1 of the output, the batch of one, is
/// dropped: [N, classes], not [N, 1, classes]), else the one output as it is. Float outputs are
/// written as float64 from the reference and float32 from a chain; integer and bool as they are.
Constant output_array(const std::vector<std::vector<Constant>>& per_sample, std::size_t k, bool split, bool reference) {
  const Constant& first = per_sample.at(0).at(k);
  Constant y;
  y.dtype = is_float(first.dtype) ? (reference ? DType::Float64 : DType::Float32) : first.dtype;
  y.shape = first.shape;
  if (split) {
    if (!y.shape.empty() && y.shape[0] == 1) y.shape.erase(y.shape.begin());
    y.shape.insert(y.shape.begin(), static_cast<std::int64_t>(per_sample.size()));
  }
  for (const auto& sample : per_sample) {
    const Constant& c = sample.at(k);
    if (c.shape != first.shape)
      throw ModelError(fmt::format("output '{}' has shape {} in one sample and {} in another; write it per sample",
                                   k, shape_string(first.shape), shape_string(c.shape)));
    if (is_float(first.dtype)) y.values.insert(y.values.end(), c.values.begin(), c.values.end());
    else y.ints.insert(y.ints.end(), c.ints.begin(), c.ints.end());
  }
  return y;
}

int run_run(const RunOptions& opt) {
  if (!(opt.chain == "ref" || opt.chain == "exact" || opt.chain.rfind("mpfr:", 0) == 0)) (void)parse_chain(opt.chain);
  const SampleAxis axis = parse_sample_axis(opt.sample_axis);
  const Graph loaded = load_onnx(opt.model);
  const SampleSet samples(loaded, read_inputs(opt.inputs), axis);
  const SamplePlans plans(loaded, samples);
  const Graph& graph = plans.graph();
  const std::unique_ptr<Arithmetic> a = arithmetic_for(opt.chain, graph);
  if (!is_npz(opt.output) && graph.outputs.size() != 1) {
    std::string names;
    for (const ValueInfo& o : graph.outputs) names += (names.empty() ? "'" : ", '") + o.name + "'";
    throw ModelError(fmt::format("{}: the model has {} outputs ({}); write them all with --output FILE.npz", opt.model,
                                 graph.outputs.size(), names));
  }
  check_output_file(opt.output);
  const long n = opt.samples >= 0 && opt.samples < samples.count() ? opt.samples : samples.count();
  samples.check_finite(n);
  Constant labels;
  if (!opt.labels.empty()) labels = read_npy(opt.labels);
  const auto constants = ConstantStore::rounded(plans.plan(), *a);
  // Samples are independent: each thread evaluates whole batches of samples (each layer's GEMM
  // over the batch) into their own rows; no bit depends on the batch or the thread.
  std::vector<std::vector<Constant>> outputs(static_cast<std::size_t>(n));
  const auto start = std::chrono::steady_clock::now();
  std::exception_ptr failure;
  // No thread idles for want of a batch: fewer samples than batch × threads are shared out in
  // smaller batches (the outputs do not depend on the batch size).
  const long per_thread = (n + opt.threads - 1) / std::max(1, opt.threads);
  const long batch = std::max(1L, std::min(opt.batch > 0 ? opt.batch : default_batch(plans.plan()), per_thread));
  const long batches = (n + batch - 1) / batch;
#pragma omp parallel num_threads(opt.threads)
  {
    ConstantCache cache(constants);  // this thread's binary64 constants, a layer at a time
#pragma omp for schedule(dynamic, 1)
    for (long j = 0; j < batches; ++j) {
      try {
        const long first = j * batch, last = std::min(n, first + batch);
        std::vector<std::vector<Constant>> y = plans.evaluate(*a, cache, first, last);
        for (long i = first; i < last; ++i) outputs[static_cast<std::size_t>(i)] = std::move(y[static_cast<std::size_t>(i - first)]);
      } catch (...) {
#pragma omp critical(fpaudit_run_failure)
        if (!failure) failure = std::current_exception();
      }
    }
  }
  if (failure) std::rethrow_exception(failure);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<std::pair<std::string, Constant>> arrays;
  for (std::size_t k = 0; k < graph.outputs.size(); ++k)
    arrays.emplace_back(graph.outputs[k].name, output_array(outputs, k, samples.split(), a->is_reference()));
  long correct = 0;
  const Constant& y = arrays[0].second;
  const long per_output = n > 0 ? static_cast<long>(element_count(y.shape) / n) : 0;
  for (long i = 0; i < n && i < static_cast<long>(labels.ints.size()) && is_float(y.dtype); ++i) {
    const auto z = y.values.begin() + i * per_output;
    correct += std::max_element(z, z + per_output) - z == labels.ints[i];
  }
  if (is_npz(opt.output)) write_npz(opt.output, arrays);
  else write_npy(opt.output, y);
  fmt::print("{}: {} sample{} through {} chain {} -> {} {} in {:.6f} s ({} thread{})\n", opt.model, n, n == 1 ? "" : "s",
             graph.nodes.size() ? "the" : "an empty", a->name(), opt.output, shape_string(y.shape), seconds, opt.threads,
             opt.threads == 1 ? "" : "s");
  if (!labels.ints.empty()) fmt::print("accuracy {:.2f}% ({} of {})\n", 100.0 * correct / n, correct, n);
  return 0;
}

}  // namespace

void set_run_command(CLI::App& app, int& status) {
  auto opt = std::make_shared<RunOptions>();
  CLI::App* sub = app.add_subcommand("run", "Evaluate a model in one chain and write its outputs as .npy (or all of them as .npz)");
  sub->add_option("model", opt->model, "ONNX model")->required();
  add_input_options(sub, opt->inputs, opt->sample_axis,
                    "Input data (every runtime input needs one): FILE.npy for a model with one input; NAME=FILE.npy for each input (repeat the option); or "
                    "one FILE.npz keyed by input names. float16/32/64, int32/int64/uint8/int8 and bool arrays");
  sub->add_option("--chain", opt->chain, "fp32, fp16, fp16-acc32, bf16, bf16-acc32, fp8-e4m3-acc32, a mixed chain such as fp16+fp32:Softmax,/head/Gemm, ref, mpfr:BITS")->capture_default_str();
  sub->add_option("--output", opt->output, "Where to write the outputs: .npy (a model with one output) or .npz (every output, keyed by name)")->required();
  sub->add_option("--labels", opt->labels, "Optional integer labels [N]: prints the accuracy");
  sub->add_option("--samples", opt->samples, "Evaluate only the first N samples")->check(positive_count());
  sub->add_option("--threads", opt->threads, "Threads (samples are independent; the outputs do not depend on it)")
      ->check(positive_count())
      ->capture_default_str();
  sub->add_option("--batch", opt->batch,
                  "Samples evaluated together, layer by layer (each output is summed in the same order: the outputs do not "
                  "depend on it). Default: 16; 8 where 16 samples' largest activation would pass 1 MiB, fewer where a batch's would pass 32 MB (binary64)")
      ->check(positive_count());
  sub->callback([opt, &status] { status = run_run(*opt); });
}

}  // namespace fpaudit::cli
