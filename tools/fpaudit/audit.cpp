// fpaudit audit [MODEL] [--input X.npy] [--labels Y.npy] ...: the shadow-execution audit. With
// no arguments it audits the shipped default model on the shipped test subset.
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "fpaudit/commands.h"
#include "fpaudit/common_options.h"
#include "fpaudit/compare_option.h"
#include "fpaudit/device_option.h"
#include "fpaudit/fail_on.h"
#include "fpaudit/model_inputs.h"
#include "fpaudit/output_set.h"
#include "fpaudit/report_output.h"
#include "fpaudit_version.h"
#include "graph/loader.h"
#include "report/audit_report.h"
#include "report/render.h"
#include "dist/ranks.h"
#include "shadow/audit.h"

namespace fpaudit::cli {

namespace {

struct AuditCommandOptions {
  std::string model;
  std::vector<std::string> inputs;
  std::string sample_axis = "auto";
  std::string labels;
  std::string chains = kDefaultChains;
  std::string reference = "exact";
  long samples = -1;
  int threads = 0;
  double lambda = 7.0;
  bool apriori = false, no_apriori = false;  ///< --apriori (the default) and --no-apriori
  bool margin = false, no_margin = false;    ///< --margin (the default) and --no-margin
  std::string out = "fpaudit-out";
  std::vector<std::string> formats = {"table", "json", "csv"};
  std::string gnuplot;
  std::vector<std::string> fail_on;
  bool progress = false, no_progress = false;  ///< default: when stderr is a terminal
  std::string device = "host";
  bool per_layer = false;
  std::string task, tolerance;  ///< --task, --tolerance (shadow/task.h parses them)
  int class_axis = 0;
  bool class_axis_given = false;
  std::vector<std::string> compare;  ///< --compare NAME[@CHAIN]=OUTPUTS.npy (compare_option.h)
};

/// A one-line progress bar on stderr, drawn at most 5 times a second once a run has taken
/// longer than two seconds.
class ProgressBar {
 public:
  void operator()(long done, long total) {
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    if (t < 2.0 || (done < total && t - last_ < 0.2)) return;
    last_ = t;
    const int width = 30, filled = static_cast<int>(width * done / std::max(total, 1L));
    const double eta = done > 0 ? t * (total - done) / done : 0;
    std::fprintf(stderr, "\r[%s%s] %ld/%ld samples %.1fs, %.0fs left ", std::string(filled, '#').c_str(),
                 std::string(width - filled, '.').c_str(), done, total, t, eta);
    if (done == total) std::fprintf(stderr, "\n");
    drawn_ = true;
  }
  bool drawn() const { return drawn_; }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  double last_ = -1;
  bool drawn_ = false;
};

/// Runs predicted to take longer than this many seconds say so first (`estimate_line`): 60, or
/// FPAUDIT_ESTIMATE_AFTER (seconds; the CLI test sets it to 0).
double estimate_threshold() {
  const char* v = std::getenv("FPAUDIT_ESTIMATE_AFTER");
  if (!v || !*v) return 60;
  char* end = nullptr;
  const double t = std::strtod(v, &end);
  return end && *end == 0 && t >= 0 ? t : 60;
}

std::string estimate_line(const AuditEstimate& e) {
  const double s = e.seconds;
  const std::string when = s < 120 ? fmt::format("{:.0f} s", s) : s < 7200 ? fmt::format("{:.1f} min", s / 60) : fmt::format("{:.1f} h", s / 3600);
  return fmt::format("fpaudit: estimate: about {} for {} samples on {} thread{} ({:.3g} M multiply-adds per sample at {:.3g} M/s per "
                     "thread, measured on the first sample)",
                     when, e.samples, e.threads, e.threads == 1 ? "" : "s", e.multiply_adds / 1e6, e.rate / 1e6);
}

/// The audit on this process's share of the samples (every rank runs it; under MPI only rank 0
/// gets the merged result and writes anything). Returns the exit status.
int audit_on_ranks(const AuditCommandOptions& opt, Ranks& ranks) {
  const std::filesystem::path data = data_dir();
  const std::string model = opt.model.empty() ? (data / "cnn.onnx").string() : opt.model;
  const std::vector<std::string> inputs = opt.inputs.empty() ? std::vector<std::string>{(data / "test_images.npy").string()} : opt.inputs;
  const std::string labels = opt.labels.empty() && opt.model.empty() ? (data / "test_labels.npy").string() : opt.labels;

  AuditOptions options;
  options.chains = parse_chain_list(opt.chains);
  options.reference = opt.reference;
  options.max_samples = opt.samples;
  options.threads = opt.threads;
  options.lambda = opt.lambda;
  options.apriori = !opt.no_apriori;
  options.margin = !opt.no_margin;
  if (!(opt.lambda > 0)) throw std::invalid_argument("--lambda must be positive");
  if (!opt.task.empty()) options.task.task = parse_task(opt.task), options.task.task_given = true;
  if (!opt.tolerance.empty()) options.task.tolerance = parse_tolerance(opt.tolerance);
  options.task.class_axis = opt.class_axis;
  options.task.class_axis_given = opt.class_axis_given;
  std::vector<FailGate> gates;
  for (const std::string& g : opt.fail_on) gates.push_back(parse_fail_gate(g));
  if (labels.empty())
    for (const FailGate& g : gates)
      if (g.name == "accuracy-drop") throw std::invalid_argument("--fail-on accuracy-drop needs --labels");
  options.make_chain = chain_factory_for(opt.device, options.chains);
  ProgressBar bar;
  if (opt.progress || (!opt.no_progress && isatty(2))) options.progress = [&bar](long done, long total) { bar(done, total); };
  options.estimate = [threshold = estimate_threshold(), root = ranks.root()](const AuditEstimate& e) {
    if (root && e.seconds > threshold) std::fprintf(stderr, "%s\n", estimate_line(e).c_str());
  };
  options.exchange = ranks.exchange();
  if (std::getenv("FPAUDIT_TEST_FAIL_RANK") && std::atoi(std::getenv("FPAUDIT_TEST_FAIL_RANK")) == ranks.rank())
    throw std::runtime_error(inputs[0] + ": test hook FPAUDIT_TEST_FAIL_RANK: this rank cannot read the input");

  const ModelInputs in = load_model_inputs(model, inputs, opt.sample_axis);
  const std::string& input = in.text;
  std::unique_ptr<Constant> y;
  if (!labels.empty()) y = std::make_unique<Constant>(read_npy(labels));
  for (const std::string& spec : opt.compare) options.compare.push_back(parse_compare_option(spec, options.compare));
  resolve_chains(options.chains, in.graph, "--chains");
  const Plan plan(in.graph);
  TaskOptions tasks = options.task;  // --task/--class-axis misfits are usage errors, found before any work
  tasks.labels = y != nullptr;
  const std::vector<OutputTask> chosen = choose_tasks(plan, tasks);
  check_gate_tasks(gates, chosen);
  // The output folder is checked, and its staging folder made, before the audit runs. Task
  // verdicts (AuditDocument::task_verdicts) add tasks.csv, --compare runs compare.csv.
  const bool task_verdicts = chosen.size() > 1 || chosen.at(0).kind != TaskKind::Classify;
  const std::vector<std::string> files = report_set_names(opt.formats, task_verdicts, !opt.compare.empty());
  std::unique_ptr<OutputSet> set;
  if (!files.empty() && ranks.root()) set = std::make_unique<OutputSet>(opt.out, files);
  const AuditResult result = in.set ? run_audit(plan, in.samples(options.max_samples), y.get(), options, labels)
                                    : run_audit(plan, in.single, y.get(), options, input, labels);
  if (!ranks.root()) return 0;  // rank 0 has the merged result and writes it

  // Every output is rendered from the JSON, exactly as `fpaudit report` renders a saved run.
  const nlohmann::json json = audit_to_json(result, plan, AuditSource{model, input, labels, FPAUDIT_VERSION});
  const AuditDocument doc = audit_document_from_json(json, model);
  const bool table = std::find(opt.formats.begin(), opt.formats.end(), "table") != opt.formats.end();
  if (table) std::fputs(render_terminal(doc, isatty(1) != 0, opt.per_layer).c_str(), stdout);
  if (set) {
    write_report_files(doc, &json, opt.formats, set->staging(), opt.gnuplot);
    set->commit(run_id_of(json.dump(1) + "\n"));
    fmt::print("{}wrote {}\n", table ? "\n" : "", set->summary());
  }
  const std::vector<std::string> failed = failed_gates(result, gates);
  for (const std::string& f : failed) std::fprintf(stderr, "fpaudit: --fail-on: %s\n", f.c_str());
  return failed.empty() ? 0 : 1;
}

/// audit_on_ranks on every rank, which all end alike (shadow/chunk_exchange.h): a rank that
/// fails before or during the chunks makes every rank throw, the error printed by rank 0 alone
/// and nothing written; afterwards every rank exits with the largest status.
int run_audit_command(const AuditCommandOptions& opt) {
  Ranks& ranks = Ranks::world();
  ChunkExchange* exchange = ranks.exchange();
  int status = 0;
  std::exception_ptr failure;
  try {
    status = audit_on_ranks(opt, ranks);
  } catch (...) {
    if (exchange && !exchange->concluded()) exchange->conclude(std::current_exception(), LONG_MAX);  // throws
    if (exchange && exchange->failed()) throw;  // every rank knows and throws: no more collectives
    failure = std::current_exception();
    status = 2;
  }
  const int all = ranks.largest_exit_code(status);
  if (failure) std::rethrow_exception(failure);
  if (all == 2 && !ranks.root()) throw FailedOnAnotherRank();
  if (all == 2) throw std::runtime_error("another rank failed after the audit");
  return all;
}

}  // namespace

void set_audit_command(CLI::App& app, int& status) {
  auto opt = std::make_shared<AuditCommandOptions>();
  CLI::App* sub = app.add_subcommand("audit", "Run every layer in every chain and the reference; measure and report the error");
  sub->add_option("model", opt->model, "ONNX model (default: the shipped CNN, data/cnn.onnx)");
  add_input_options(sub, opt->inputs, opt->sample_axis,
                    "Input samples (default: data/test_images.npy): FILE.npy [N, ...] for a model with one input; "
                    "NAME=FILE.npy for each input (repeat the option); or one FILE.npz keyed by input names. Integer "
                    "and bool arrays feed integer and bool inputs (token ids, attention masks) exactly");
  sub->add_option("--labels", opt->labels, "Integer labels, .npy [N] (default with the default model: data/test_labels.npy)");
  add_chains_option(sub, opt->chains, "Chains to audit, comma-separated; NAME@SCHEDULE changes a schedule (e.g. fp16@pairwise-8)");
  sub->add_option("--reference", opt->reference, "Reference arithmetic: exact, or mpfr:BITS (64..4096)")->capture_default_str();
  sub->add_option("--samples", opt->samples, "Audit only the first N samples")->check(positive_count());
  sub->add_option("--threads", opt->threads, "Threads (default: all cores); results do not depend on it")->check(positive_count());
  sub->add_option("--lambda", opt->lambda, "Confidence parameter of the probabilistic bounds (Higham-Mary)")->capture_default_str();
  sub->add_flag("--apriori", opt->apriori, "Also compute the a-priori certificates (the default)")
      ->excludes(sub->add_flag("--no-apriori", opt->no_apriori, "Skip the a-priori certificates"));
  sub->add_flag("--margin", opt->margin, "Also compute the margin-directed certificates and per-layer blame (the default)")
      ->excludes(sub->add_flag("--no-margin", opt->no_margin,
                               "Skip the margin-directed certificates (their backward passes cost up to 2x the audit on CNNs)"));
  sub->add_option("--out", opt->out, "Folder for audit.json, layers.csv, samples.csv, audit.md, audit.tex, audit.html")
      ->capture_default_str();
  sub->add_option("--format", opt->formats, "Outputs: table (stdout), json, csv, md, tex, html (comma-separated)")
      ->delimiter(',')
      ->check(CLI::IsMember({"table", "json", "csv", "md", "tex", "html"}))
      ->capture_default_str();
  add_gnuplot_option(sub, opt->gnuplot);
  sub->add_option("--task", opt->task,
                  "What the outputs are: classify, regress, segment or detect (default: chosen per output and stated "
                  "in the report)")
      ->check(CLI::IsMember({"classify", "regress", "segment", "detect"}));
  sub->add_option("--class-axis", opt->class_axis, "Axis holding the classes of a segmentation output (default 1)")
      ->each([opt](const std::string&) { opt->class_axis_given = true; });
  sub->add_option("--tolerance", opt->tolerance, "Tolerance of a regression output, rtol=X,atol=Y (default rtol=0.01,atol=0.001)");
  sub->add_flag("--per-layer", opt->per_layer, "Table: every layer's errors and bounds instead of the verdict and top modules");
  sub->add_option("--fail-on", opt->fail_on,
                  "Exit 1 when a gate fails in any chain, comma-separated: overflow, nan, flip, flip-fp32, lemma, uncertified, "
                  "violation (any occurrence, or NAME>N), flip-rate>X%, accuracy-drop>Ypp (needs --labels); task verdicts: "
                  "tolerance, tolerance-unproved (regression samples outside --tolerance, or not proved within it; or NAME>N), "
                  "pixel-flips>X% (flipped pixels of a segmentation or detection)")
      ->delimiter(',')
      ->check(CLI::Validator(
          [](const std::string& g) -> std::string {
            try {
              parse_fail_gate(g);
            } catch (const std::invalid_argument& e) {
              return e.what();
            }
            return "";
          },
          "GATE[>N]", "fail-on gate"));
  sub->add_option("--compare", opt->compare,
                  "A real runtime's outputs on the same inputs, NAME[@CHAIN]=OUTPUTS.npy ([N, ...] of the first output), "
                  "judged against the reference and CHAIN's a-priori bound (default: the closest chain); repeatable");
  sub->add_flag("--progress", opt->progress, "Progress bar on stderr (default: when stderr is a terminal)")
      ->excludes(sub->add_flag("--no-progress", opt->no_progress, "No progress bar"));
  sub->add_option("--device", opt->device, "Where the fp16 chains' GEMM and Conv run: host, or cuda (their GPU kernels; exit 2 without a GPU)")
      ->check(CLI::IsMember({"host", "cuda"}))
      ->capture_default_str();
  sub->callback([opt, &status] { status = run_audit_command(*opt); });
}

}  // namespace fpaudit::cli
