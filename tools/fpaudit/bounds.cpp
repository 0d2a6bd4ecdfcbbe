// fpaudit bounds MODEL [--input X.npy] [--chains ...] [--lambda L]: the a-priori report. Runs
// only the reference and the bound rules (no low-precision chain): per layer and chain the
// deterministic and probabilistic bounds on the propagated error, and per chain the fraction of
// samples whose class is certified equal to the exact network's (and to fp32's).
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "common/atomic_file.h"
#include "fpaudit/commands.h"
#include "fpaudit/common_options.h"
#include "fpaudit/model_inputs.h"
#include "fpaudit/output_set.h"
#include "fpaudit_version.h"
#include "graph/loader.h"
#include "report/bounds_report.h"
#include "shadow/bounds_run.h"

namespace fpaudit::cli {

namespace {

struct BoundsCommandOptions {
  std::string model;
  std::vector<std::string> inputs;
  std::string sample_axis = "auto";
  std::string labels;
  std::string chains = kDefaultChains;
  std::string reference = "exact";
  double lambda = 7.0;
  long samples = -1;
  int threads = 0;
  std::string json;  ///< also write the JSON report here
};

int run_bounds_command(const BoundsCommandOptions& opt) {
  const std::filesystem::path data = data_dir();
  // Without --input, the shipped test images (the shipped models' input).
  const std::vector<std::string> inputs = opt.inputs.empty() ? std::vector<std::string>{(data / "test_images.npy").string()} : opt.inputs;
  const std::string labels = opt.labels.empty() && opt.inputs.empty() ? (data / "test_labels.npy").string() : opt.labels;
  BoundsOptions options;
  options.chains = parse_chain_list(opt.chains);
  options.reference = opt.reference;
  options.lambda = opt.lambda;
  options.max_samples = opt.samples;
  options.threads = opt.threads;
  if (!(opt.lambda > 0)) throw std::invalid_argument("--lambda must be positive");
  if (!opt.json.empty()) check_output_file(opt.json);  // before the run, not after its report

  // The same model and data checks as audit.
  const ModelInputs in = load_model_inputs(opt.model, inputs, opt.sample_axis);
  const std::string& input = in.text;
  std::unique_ptr<Constant> y;
  if (!labels.empty()) y = std::make_unique<Constant>(read_npy(labels));
  resolve_chains(options.chains, in.graph, "--chains");
  const Plan plan(in.graph);
  const BoundsResult r = in.set ? run_bounds(plan, in.samples(options.max_samples), y.get(), options)
                                : run_bounds(plan, in.single, y.get(), options, input);
  fmt::print("fpaudit bounds of {} on {} samples of {} (reference {}, lambda {}, {} threads, {:.1f} s)\n\n", opt.model, r.samples,
             input, r.reference, r.lambda, r.threads, r.seconds);
  std::fputs(bounds_table(r, plan).c_str(), stdout);
  if (!opt.json.empty()) {
    write_file_atomic(opt.json, bounds_to_json(r, plan, {opt.model, input, FPAUDIT_VERSION}).dump(1) + "\n");
    fmt::print("\nwrote {}\n", opt.json);
  }
  return 0;
}

}  // namespace

void set_bounds_command(CLI::App& app, int& status) {
  auto opt = std::make_shared<BoundsCommandOptions>();
  CLI::App* sub = app.add_subcommand("bounds", "A-priori error bounds and certified classes, without running any 16-bit chain");
  sub->add_option("model", opt->model, "ONNX model")->required();
  add_input_options(sub, opt->inputs, opt->sample_axis,
                    "Input samples (default: the shipped data/test_images.npy): FILE.npy [N, ...] for a model with one "
                    "input; NAME=FILE.npy for each input (repeat the option); or one FILE.npz keyed by input names");
  sub->add_option("--labels", opt->labels, "Integer labels, .npy [N] (default without --input: data/test_labels.npy)");
  add_chains_option(sub, opt->chains, "Chains to bound, comma-separated; NAME@SCHEDULE changes a schedule");
  sub->add_option("--reference", opt->reference, "Reference arithmetic: exact, or mpfr:BITS (64..4096)")->capture_default_str();
  sub->add_option("--lambda", opt->lambda, "Confidence parameter of the probabilistic bounds (Higham-Mary)")->capture_default_str();
  sub->add_option("--samples", opt->samples, "Only the first N samples")->check(positive_count());
  sub->add_option("--threads", opt->threads, "Threads (default: all cores); results do not depend on it")->check(positive_count());
  sub->add_option("--json", opt->json, "Also write the report as JSON (docs/bounds-json.md) to this file");
  sub->callback([opt, &status] { status = run_bounds_command(*opt); });
}

}  // namespace fpaudit::cli
