// fpaudit train-step MODEL [--input X.npy --labels Y.npy] [--loss ...] [--optimizer ...] [--lr ...]
// [--loss-scale S|dynamic] [--batchnorm train|eval] [--master-weights] [--steps N] [--chains ...]: one forward and backward
// pass and one optimizer step per step on one batch, in every chain and the exact reference, and
// what 16-bit arithmetic does to the gradients, the loss scale and the updates (lib/train).
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "common/atomic_file.h"
#include "fpaudit/commands.h"
#include "fpaudit/common_options.h"
#include "fpaudit/output_set.h"
#include "fpaudit_version.h"
#include "graph/loader.h"
#include "graph/samples.h"
#include "train/train_report.h"
#include "train/train_step.h"

namespace fpaudit::cli {

namespace {

struct TrainStepCommandOptions {
  std::string model, input, labels;
  std::string chains = "fp32,fp16,fp16-acc32,bf16";
  std::string loss = "cross-entropy";
  std::string optimizer = "sgd";
  double lr = 0.01;
  std::string loss_scale = "1";
  std::string batchnorm = "model";
  bool master_weights = false;
  int steps = 1;
  long samples = 128;
  int threads = 0;
  bool per_tensor = false;
  std::string json, markdown, csv, latex, html;
};

int run_train_step_command(const TrainStepCommandOptions& opt) {
  const std::filesystem::path data = data_dir();
  const std::string input = opt.input.empty() ? (data / "test_images.npy").string() : opt.input;
  if (!opt.input.empty() && opt.labels.empty()) throw std::invalid_argument("--labels is required with --input");
  const std::string labels_path = opt.labels.empty() ? (data / "test_labels.npy").string() : opt.labels;
  train::TrainOptions o;
  o.chains = parse_chain_list(opt.chains);
  // The backward pass and the optimizer step run in one arithmetic per chain.
  for (const ChainSpec& c : o.chains)
    if (c.kept) throw std::invalid_argument("--chains '" + c.name + "': train-step takes plain chains, not mixed ones");
  if (opt.loss == "cross-entropy") o.loss = train::LossKind::CrossEntropy;
  else if (opt.loss == "mse") o.loss = train::LossKind::MeanSquared;
  else throw std::invalid_argument(fmt::format("--loss must be cross-entropy or mse, not '{}'", opt.loss));
  if (opt.optimizer == "sgd") o.optimizer.kind = train::OptimizerKind::Sgd;
  else if (opt.optimizer == "momentum") o.optimizer.kind = train::OptimizerKind::Momentum;
  else if (opt.optimizer == "adam") o.optimizer.kind = train::OptimizerKind::Adam;
  else throw std::invalid_argument(fmt::format("--optimizer must be sgd, momentum or adam, not '{}'", opt.optimizer));
  if (!(opt.lr > 0) || !std::isfinite(opt.lr)) throw std::invalid_argument("--lr must be a positive number");
  o.optimizer.lr = opt.lr;
  if (opt.loss_scale == "dynamic") {
    o.dynamic_scale = true;
  } else {
    std::size_t used = 0;
    double s = 0;
    try {
      s = std::stod(opt.loss_scale, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != opt.loss_scale.size() || !(s > 0) || !std::isfinite(s))
      throw std::invalid_argument(fmt::format("--loss-scale must be a positive number or 'dynamic', not '{}'", opt.loss_scale));
    o.loss_scale = s;
  }
  if (opt.batchnorm == "train") o.batchnorm = train::BatchNormMode::Train;
  else if (opt.batchnorm == "eval") o.batchnorm = train::BatchNormMode::Eval;
  else if (opt.batchnorm != "model") throw std::invalid_argument(fmt::format("--batchnorm must be train, eval or model, not '{}'", opt.batchnorm));
  o.master_weights = opt.master_weights;
  o.steps = opt.steps;
  o.threads = opt.threads;
  for (const std::string* f : {&opt.json, &opt.markdown, &opt.csv, &opt.latex, &opt.html})
    if (!f->empty()) check_output_file(*f);

  const Constant x = first_samples(read_npy(input), opt.samples);
  const Constant y = first_samples(read_npy(labels_path), opt.samples);
  if (y.ints.empty() || y.shape.empty()) throw ModelError(fmt::format("{}: labels must be integers [N] (or [N, ...] per position)", labels_path));
  if (y.shape[0] != x.shape[0])
    throw ModelError(fmt::format("{}: {} labels for {} samples of {}", labels_path, y.shape[0], x.shape[0], input));
  load_model_for_samples(opt.model, x, input);  // the checks audit makes (one input, samples of its shape)
  Graph graph = load_onnx(opt.model);
  infer_shapes(graph, std::vector<Shape>{x.shape});  // the whole batch at once
  const Plan plan(graph);
  const train::TrainResult r = train::run_train_step(plan, x, y, o);
  const train::TrainReportSource source{opt.model, input, FPAUDIT_VERSION};
  std::fputs(train::train_terminal(r, source, opt.per_tensor).c_str(), stdout);
  auto write = [](const std::string& path, const std::string& text) {
    if (path.empty()) return;
    write_file_atomic(path, text);
    fmt::print("wrote {}\n", path);
  };
  write(opt.json, train::train_to_json(r, source).dump(1) + "\n");
  write(opt.markdown, train::train_markdown(r, source));
  write(opt.csv, train::train_csv(r));
  write(opt.latex, train::train_latex(r, source));
  write(opt.html, train::train_html(r, source));
  return 0;
}

}  // namespace

void set_train_step_command(CLI::App& app, int& status) {
  auto opt = std::make_shared<TrainStepCommandOptions>();
  CLI::App* sub = app.add_subcommand("train-step", "One training step (or --steps N) in every chain against the exact reference: gradient errors, loss scaling, lost updates");
  sub->add_option("model", opt->model, "ONNX model")->required();
  sub->add_option("--input", opt->input, "Input samples, .npy [N, ...] (default: the shipped data/test_images.npy)");
  sub->add_option("--labels", opt->labels, "Integer labels, .npy [N], or [N, ...] a label per output position (segmentation) (default without --input: data/test_labels.npy)");
  sub->add_option("--samples", opt->samples, "The batch: the first N samples")->check(positive_count())->capture_default_str();
  add_chains_option(sub, opt->chains, "Chains to train in, comma-separated; NAME@SCHEDULE changes a schedule");
  sub->add_option("--loss", opt->loss, "cross-entropy or mse (against the one-hot labels)")->capture_default_str();
  sub->add_option("--optimizer", opt->optimizer, "sgd, momentum (0.9) or adam (0.9, 0.999, 1e-8)")->capture_default_str();
  sub->add_option("--lr", opt->lr, "Learning rate")->capture_default_str();
  sub->add_option("--loss-scale", opt->loss_scale, "Loss scale S, or 'dynamic' (start at 2^16, halve on overflow)")->capture_default_str();
  sub->add_option("--batchnorm", opt->batchnorm, "BatchNormalization as in training (batch statistics, differentiated) or in eval (running statistics as constants); model: its training_mode attribute")->capture_default_str();
  sub->add_flag("--master-weights", opt->master_weights, "Keep fp32 master weights and optimizer state over the steps (default: all in the storage format)");
  sub->add_option("--steps", opt->steps, "Steps on the same batch (weight drift and loss against the reference)")->check(positive_count())->capture_default_str();
  sub->add_option("--threads", opt->threads, "Threads (default: all cores); results do not depend on it")->check(positive_count());
  sub->add_flag("--per-tensor", opt->per_tensor, "Print every gradient tensor's row on the terminal");
  sub->add_option("--json", opt->json, "Also write the report as JSON to this file");
  sub->add_option("--markdown", opt->markdown, "Also write the report as Markdown to this file");
  sub->add_option("--csv", opt->csv, "Also write the gradient tables as CSV to this file");
  sub->add_option("--latex", opt->latex, "Also write the tables as LaTeX (booktabs) to this file");
  sub->add_option("--html", opt->html, "Also write one HTML file with gradient-magnitude histograms to this file");
  sub->callback([opt, &status] { status = run_train_step_command(*opt); });
}

}  // namespace fpaudit::cli
