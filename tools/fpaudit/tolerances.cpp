// fpaudit tolerances MODEL --input X --chain C [--samples N] [--json FILE]: per-output rtol/atol
// for a test comparing the chain's outputs with the exact network's or fp32's
// (lib/decide/tolerances.h states the rule; it is printed with the figures).
#include <cmath>
#include <memory>

#include <fmt/format.h>

#include "common/atomic_file.h"
#include "decide/decide_json.h"
#include "decide/tolerances.h"
#include "fpaudit/commands.h"
#include "fpaudit/common_options.h"
#include "fpaudit/output_set.h"
#include "graph/loader.h"

namespace fpaudit::cli {

namespace {

struct TolerancesCommandOptions {
  std::string model, input;
  std::string chain = "fp16";
  std::string json;
  long samples = -1;
  int threads = 0;
};

/// A tolerance as the forms print it: shortest round-trip text, "inf" for an unbounded one.
std::string tol(double v) { return std::isfinite(v) ? fmt::format("{:.3g}", v) : "inf"; }

int run_tolerances(const TolerancesCommandOptions& opt) {
  ToleranceOptions o;
  std::vector<ChainSpec> chains = {parse_chain(opt.chain)};
  o.max_samples = opt.samples;
  o.threads = opt.threads;
  if (!opt.json.empty()) check_output_file(opt.json);
  const Constant x = read_npy(opt.input);
  const Graph graph = load_model_for_samples(opt.model, x, opt.input);
  resolve_chains(chains, graph, "--chain");
  o.chain = chains[0];
  const Plan plan(graph);
  const ToleranceResult r = derive_tolerances(plan, x, o, opt.input);
  fmt::print("fpaudit tolerances of {} in {} on {} samples of {} ({:.1f} s)\n", opt.model, r.chain.name, r.samples, opt.input, r.seconds);
  fmt::print("rule: {}\n", tolerance_rule());
  for (const OutputTolerance& t : r.outputs) {
    fmt::print("\noutput {} {}\n", t.name, shape_string(t.shape));
    fmt::print("  {:<8} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12}\n", "against", "observed abs", "max rel", "median rel", "proved atol",
               "chosen atol", "chosen rtol");
    for (const auto& [name, f] : {std::pair{"exact", t.exact}, std::pair{"fp32", t.fp32}})
      fmt::print("  {:<8} {:>12.3g} {:>12.3g} {:>12.3g} {:>12.3g} {:>12} {:>12}\n", name, f.observed_abs, f.observed_rel, f.typical_rel,
                 f.proved_abs, tol(f.atol), tol(f.rtol));
  }
  fmt::print("\nPolygraphy (polygraphy run MODEL --trt --fp16 --onnxrt: a 16-bit runtime against fp32):\n ");
  for (const OutputTolerance& t : r.outputs) fmt::print(" --atol {}:{} --rtol {}:{}", t.name, tol(t.fp32.atol), t.name, tol(t.fp32.rtol));
  fmt::print("\nNumPy, against the exact network (fpaudit run --chain ref) and against fp32 (--chain fp32):\n");
  for (const OutputTolerance& t : r.outputs) {
    fmt::print("  np.testing.assert_allclose(actual, expected, rtol={}, atol={})  # {} vs exact\n", tol(t.exact.rtol), tol(t.exact.atol), t.name);
    fmt::print("  np.testing.assert_allclose(actual, expected, rtol={}, atol={})  # {} vs fp32\n", tol(t.fp32.rtol), tol(t.fp32.atol), t.name);
  }
  if (!opt.json.empty()) {
    write_file_atomic(opt.json, tolerances_to_json(r, opt.model, opt.input).dump(1) + "\n");
    fmt::print("\nwrote {}\n", opt.json);
  }
  return 0;
}

}  // namespace

void set_tolerances_command(CLI::App& app, int& status) {
  auto opt = std::make_shared<TolerancesCommandOptions>();
  CLI::App* sub = app.add_subcommand("tolerances", "Per-output rtol/atol for a test comparing a chain with the exact network or fp32");
  sub->add_option("model", opt->model, "ONNX model")->required();
  sub->add_option("--input", opt->input, "Input samples, .npy [N, ...]")->required();
  sub->add_option("--chain", opt->chain, "The chain under test: fp16, bf16, fp16-acc32, a mixed chain ...")->capture_default_str();
  sub->add_option("--samples", opt->samples, "Only the first N samples")->check(positive_count());
  sub->add_option("--threads", opt->threads, "Threads (default: all cores); results do not depend on it")->check(positive_count());
  sub->add_option("--json", opt->json, "Also write the figures as JSON here");
  sub->callback([opt, &status] { status = run_tolerances(*opt); });
}

}  // namespace fpaudit::cli
