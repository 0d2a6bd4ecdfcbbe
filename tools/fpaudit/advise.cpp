// fpaudit advise MODEL --input X [--labels Y] --chain C --target T [--out DIR]: which layers to
// keep in binary32 (lib/decide/advise.h). Exit 0: target reached; 1: not reachable (the best set
// tried is printed); 2: bad input.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "common/atomic_file.h"
#include "convert/half_convert.h"
#include "core/mixed_arithmetic.h"
#include "decide/advise.h"
#include "decide/decide_json.h"
#include "fpaudit/commands.h"
#include "fpaudit/common_options.h"
#include "fpaudit/output_set.h"
#include "fpaudit/report_output.h"
#include "fpaudit_version.h"
#include "graph/loader.h"
#include "report/audit_report.h"

namespace fpaudit::cli {

namespace {

/// The ONNX element type of a chain's storage format, where ONNX has one for the 16-bit model
/// fpaudit convert writes (binary16, bfloat16); none for the 8-bit formats.
std::optional<DType> deploy_type(const Format& storage) {
  if (storage == binary16()) return DType::Float16;
  if (storage == bfloat16()) return DType::BFloat16;
  return std::nullopt;
}

struct AdviseCommandOptions {
  std::string model, input, labels;
  std::string chain = "fp16";
  std::string kept = "fp32";
  std::string target;
  std::string out;
  long samples = -1;
  int threads = 0;
};

/// "certified 100.0%, flips 0, accuracy drop +0.00pp, rel-error 1.2e-3, bound violations 0".
std::string metrics_line(const AdviseMetrics& m) {
  std::string s;
  if (m.certified >= 0) s += fmt::format("certified a priori {:.1f}%, ", m.certified_percent());
  s += fmt::format("flips {}", m.flips);
  if (m.has_labels) s += fmt::format(", accuracy drop {:+.2f}pp", m.accuracy_drop_pp);
  return s + fmt::format(", rel-error {:.3g}, bound violations {}", m.rel_error, m.violations);
}

std::string nodes_text(std::size_t n) { return fmt::format("{} node{}", n, n == 1 ? "" : "s"); }

int run_advise(const AdviseCommandOptions& opt) {
  AdviseOptions o;
  o.base = parse_chain(opt.chain);
  o.kept = parse_chain(opt.kept);
  if (o.base.kept || o.kept.kept) throw std::invalid_argument("--chain and --kept take a plain chain, not a mixed one");
  o.target = parse_advise_target(opt.target);
  o.max_samples = opt.samples;
  o.threads = opt.threads;
  if (o.target.kind == AdviseTarget::Kind::AccuracyDrop && opt.labels.empty())
    throw std::invalid_argument("--target " + opt.target + " needs --labels");
  const Constant x = read_npy(opt.input);
  std::unique_ptr<Constant> y;
  if (!opt.labels.empty()) y = std::make_unique<Constant>(read_npy(opt.labels));
  const Graph graph = load_model_for_samples(opt.model, x, opt.input);
  const Plan plan(graph);
  const std::vector<std::string> formats = {"json", "csv"};
  std::vector<std::string> files = {"advise.json", "keep.txt"};
  // The deployable model (fpaudit convert's) when the shipped chain stores in a format ONNX has.
  const std::optional<DType> deploy = deploy_type(o.base.storage);
  if (deploy) files.insert(files.end(), {"model.onnx", "blocklists.txt"});
  for (const std::string& f : report_set_names(formats)) files.push_back(f);
  std::unique_ptr<OutputSet> set;
  if (!opt.out.empty()) set = std::make_unique<OutputSet>(opt.out, files);  // checked before the audits

  long n = 0;
  o.progress = [&n](const AdviseStep& s) {
    fmt::print("  audit {:2} {:6} kept {:>9}: {}{} ({:.1f} s)\n", ++n, s.phase, nodes_text(s.kept.size()), metrics_line(s.metrics),
               s.meets ? "  meets the target" : "", s.seconds);
    std::fflush(stdout);
  };
  fmt::print("fpaudit advise {}: {} with layers kept in {}, target {}\n", opt.model, o.base.name, o.kept.name, o.target.text);
  const AdviseResult r = advise(plan, x, y.get(), o, opt.input, opt.labels);
  const double share = 100 * r.mac_share();
  fmt::print("\n");
  if (r.reached && r.kept.empty()) {
    fmt::print("{} meets {} as it is: nothing needs keeping\n", o.base.name, o.target.text);
  } else if (r.reached) {
    fmt::print("keep in {} ({}, {:.1f}% of the multiply-adds):\n", o.kept.name, nodes_text(r.kept.size()), share);
    for (const std::string& k : r.kept) fmt::print("  {}\n", k);
  } else {
    fmt::print("not reachable; best found: {} kept ({:.1f}% of the multiply-adds), {} against the target {}\n", nodes_text(r.kept.size()),
               share, target_figure(r.final, o.target), o.target.text);
    for (const std::string& k : r.kept) fmt::print("  {}\n", k);
  }
  fmt::print("chain: {}\n", r.chain.name);
  fmt::print("verified by its audit ({} samples): {}\n", r.final.samples, metrics_line(r.final));
  fmt::print("base chain {}: {}\n", o.base.name, metrics_line(r.base));
  fmt::print("audits run: {} ({:.1f} s)\n", r.history.size(), r.seconds);

  if (set) {
    const nlohmann::json advice = advise_to_json(r, o, opt.model, opt.input);
    write_file_atomic(set->staging() / "advise.json", advice.dump(1) + "\n");
    const std::string header = fmt::format("fpaudit advise {} --chain {} --target {}: {} ({})\nkept in {}; one node name per line",
                                           opt.model, o.base.name, o.target.text, r.reached ? "reached" : "not reachable, best found",
                                           metrics_line(r.final), o.kept.name);
    write_file_atomic(set->staging() / "keep.txt", keep_file_text(r.kept, header));
    if (deploy) {
      ConvertOptions c;
      c.keep = r.kept;
      c.target = *deploy;
      const ConvertResult model = convert_to_half(opt.model, c);
      write_file_atomic(set->staging() / "model.onnx", model.model_bytes);
      write_file_atomic(set->staging() / "blocklists.txt", block_lists_text(model.kept));
      fmt::print("{}", convert_summary(model, (std::filesystem::path(opt.out) / "model.onnx").string(), *deploy));
    }
    const nlohmann::json audit = audit_to_json(r.audit, plan, AuditSource{opt.model, opt.input, opt.labels, FPAUDIT_VERSION});
    write_report_files(audit_document_from_json(audit, opt.model), &audit, formats, set->staging(), "");
    set->commit(run_id_of(advice.dump(1)));
    fmt::print("wrote {}\n", set->summary());
  }
  return r.reached ? 0 : 1;
}

}  // namespace

void set_advise_command(CLI::App& app, int& status) {
  auto opt = std::make_shared<AdviseCommandOptions>();
  CLI::App* sub = app.add_subcommand("advise", "Find layers to keep in fp32 so that a 16-bit chain meets a target, verified by audits");
  sub->add_option("model", opt->model, "ONNX model")->required();
  sub->add_option("--input", opt->input, "Input samples, .npy [N, ...]")->required();
  sub->add_option("--labels", opt->labels, "Integer labels, .npy [N] (needed by accuracy-drop)");
  sub->add_option("--chain", opt->chain, "The chain to ship: fp16, bf16, fp16-acc32, ...")->capture_default_str();
  sub->add_option("--kept", opt->kept, "The chain kept layers run in")->capture_default_str();
  sub->add_option("--target", opt->target, "flips=N, certified=P% (a-priori certificates), accuracy-drop=Xpp or rel-error=T")->required();
  sub->add_option("--out", opt->out, "Write advise.json, keep.txt, the deployable model.onnx (binary16 or bfloat16 except the kept nodes, as fpaudit convert writes it) with blocklists.txt, and the final chain's audit (audit.json, layers.csv, samples.csv) here");
  sub->add_option("--samples", opt->samples, "Only the first N samples")->check(positive_count());
  sub->add_option("--threads", opt->threads, "Threads (default: all cores); results do not depend on it")->check(positive_count());
  sub->callback([opt, &status] { status = run_advise(*opt); });
}

}  // namespace fpaudit::cli
