// ONNX's backend node tests through the command line, as a user would run them: each case's
// input_N.pb files are written as .npy (one input: `--input x.npy`; several: `--input NAME=x.npy`
// repeated, or one .npz keyed by input names, alternating case by case), and `fpaudit run` is
// given the case's model.onnx with the default --sample-axis, once with --chain ref and once
// with --chain fp32, writing every output to an .npz.
//
// A case passes when both runs succeed and their outputs equal, bit for bit, what the
// in-process harness (onnx_case.h, ops_onnx_conformance_test) computes for the same case in the
// same arithmetic; that harness checks those values against ONNX's expected outputs. A case the
// command line refuses is a leftover, listed with fpaudit's one-line reason; README.md's "ONNX
// conformance" section lists them by reason.
//
// FPAUDIT_CLI_LEGACY=1 runs the command line as it was before --input NAME=FILE, .npz and
// --sample-axis existed (one --input FILE.npy, one --output FILE.npy; a case with several
// inputs or outputs is a leftover), and FPAUDIT_CLI_BIN picks another fpaudit binary: together
// they measure an older build (README's "before" count).
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include "core/reference_arithmetic.h"
#include "graph/loader.h"
#include "onnx_case.h"

using namespace fpaudit;
using namespace fpaudit::test;
namespace fs = std::filesystem;

namespace {

constexpr int kSkipped = 77;

fs::path node_cases() {
  const char* env = std::getenv("FPAUDIT_ONNX_TESTDATA");
  return fs::path(env && *env ? env : "/usr/include/onnx/backend/test/data") / "node";
}

std::string binary() {
  const char* env = std::getenv("FPAUDIT_CLI_BIN");
  return env && *env ? env : FPAUDIT_BIN;
}

/// The model's runtime input names in declaration order (graph inputs that are no initializer).
std::vector<std::string> runtime_inputs(const fs::path& model) {
  onnx::ModelProto proto;
  std::ifstream in(model, std::ios::binary);
  if (!proto.ParseFromIstream(&in)) throw std::runtime_error("cannot parse " + model.string());
  std::vector<std::string> names;
  for (const onnx::ValueInfoProto& v : proto.graph().input()) {
    const bool init = std::any_of(proto.graph().initializer().begin(), proto.graph().initializer().end(),
                                  [&](const onnx::TensorProto& t) { return t.name() == v.name(); });
    if (!init) names.push_back(v.name());
  }
  return names;
}

std::string shell_quoted(const std::string& s) { return "'" + s + "'"; }
std::string shell_quoted(const fs::path& p) { return shell_quoted(p.string()); }

/// Runs a command; returns its exit status and the last line it wrote on stderr.
int run_command(const std::string& command, const fs::path& err_file, std::string& last_line) {
  const int status = std::system((command + " >/dev/null 2>" + shell_quoted(err_file)).c_str());
  std::ifstream err(err_file);
  for (std::string line; std::getline(err, line);)
    if (!line.empty()) last_line = line;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// The reason of a refusal with the case's own names and numbers taken out, to group leftovers.
std::string reason_key(std::string line) {
  if (const auto at = line.find("model.onnx: "); at != std::string::npos) line = line.substr(at + 12);
  if (line.rfind("fpaudit: error: ", 0) == 0) line = line.substr(16);
  std::string key;
  bool in_quote = false;
  for (char c : line) {
    if (c == '\'') {
      in_quote = !in_quote;
      key += in_quote ? "'…" : "'";
      continue;
    }
    if (in_quote) continue;
    if (c >= '0' && c <= '9') {
      if (key.empty() || key.back() != '#') key += '#';
      continue;
    }
    key += c;
  }
  if (const auto at = key.find(".npy"); at != std::string::npos && key.find(": ") != std::string::npos) key = key.substr(key.find(": ") + 2);
  return key;
}

std::vector<std::vector<double>> read_outputs(const fs::path& file, bool npz) {
  std::vector<std::vector<double>> out;
  std::vector<std::pair<std::string, Constant>> arrays;
  if (npz) arrays = read_npz(file);
  else arrays.emplace_back("", read_npy(file));
  for (const auto& [name, c] : arrays) {
    if (is_float(c.dtype)) out.push_back(c.values);
    else out.emplace_back(c.ints.begin(), c.ints.end());
  }
  return out;
}

/// Bitwise equality (NaN meets NaN), or where they first differ.
std::string compare(const std::vector<std::vector<double>>& cli, const std::vector<std::vector<double>>& lib) {
  if (cli.size() != lib.size()) return fmt::format("{} outputs, the harness has {}", cli.size(), lib.size());
  for (std::size_t k = 0; k < cli.size(); ++k) {
    if (cli[k].size() != lib[k].size()) return fmt::format("output {}: {} elements, the harness has {}", k, cli[k].size(), lib[k].size());
    for (std::size_t i = 0; i < cli[k].size(); ++i) {
      const bool same = cli[k][i] == lib[k][i] || (std::isnan(cli[k][i]) && std::isnan(lib[k][i]));
      if (!same) return fmt::format("output {} element {}: {} from the command line, {} in the harness", k, i, cli[k][i], lib[k][i]);
    }
  }
  return "";
}

}  // namespace

TEST_CASE("ONNX backend node tests through `fpaudit run`, bit for bit against the in-process harness") {
  const fs::path node_dir = node_cases();
  if (!fs::is_directory(node_dir)) {
    std::cout << "ONNX test data not found: " << node_dir.string() << " is missing (libonnx-testdata; FPAUDIT_ONNX_TESTDATA)" << std::endl;
    std::exit(kSkipped);
  }
  const bool legacy = std::getenv("FPAUDIT_CLI_LEGACY") != nullptr;
  const fs::path scratch = fs::temp_directory_path() / fmt::format("fpaudit_cli_conformance_{}", ::getpid());
  fs::create_directories(scratch);
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(node_dir))
    if (fs::exists(e.path() / "model.onnx")) dirs.push_back(e.path());
  std::sort(dirs.begin(), dirs.end());

  const auto supported = supported_operators();
  const auto exact = make_reference_arithmetic("exact");
  int considered = 0, passed = 0, index = 0;
  std::vector<std::string> failures;
  std::map<std::string, std::vector<std::string>> leftovers;  // reason -> cases
  for (const fs::path& dir : dirs) {
    const std::string name = dir.filename().string();
    const std::vector<std::string> ops = model_operators(dir / "model.onnx");
    if (!std::all_of(ops.begin(), ops.end(), [&](const std::string& op) { return std::find(supported.begin(), supported.end(), op) != supported.end(); }))
      continue;
    ++considered;
    const fs::path work = scratch / name;
    fs::create_directories(work);
    const std::vector<std::string> names = runtime_inputs(dir / "model.onnx");
    auto leftover = [&](const std::string& why, const std::string& line) { leftovers[why].push_back(name + ": " + line); };
    std::vector<Constant> inputs;
    try {  // an input .npy cannot hold (bfloat16 as uint16, strings) is a leftover too
      for (std::size_t i = 0;; ++i) {
        const fs::path pb = dir / "test_data_set_0" / fmt::format("input_{}.pb", i);
        if (!fs::exists(pb)) break;
        inputs.push_back(read_onnx_tensor(pb));
        encode_npy(inputs.back());
      }
    } catch (const ModelError& e) {
      leftover("an input's element type or kind fpaudit does not read (uint16, int16, string, sequence, optional)", e.what());
      continue;
    }
    std::size_t outputs = 0;
    while (fs::exists(dir / "test_data_set_0" / fmt::format("output_{}.pb", outputs))) ++outputs;
    if (inputs.size() != names.size()) {
      leftover("input files and runtime inputs differ in number", fmt::format("{} files, {} inputs", inputs.size(), names.size()));
      continue;
    }
    std::string args;
    if (legacy) {
      if (inputs.size() != 1 || outputs != 1) {
        leftover("several inputs or outputs (one --input FILE.npy, one --output FILE.npy)", fmt::format("{} inputs, {} outputs", inputs.size(), outputs));
        continue;
      }
      write_npy(work / "x.npy", inputs[0]);
      args = " --input " + shell_quoted(work / "x.npy");
    } else if (inputs.size() == 1) {
      write_npy(work / "x.npy", inputs[0]);
      args = " --input " + shell_quoted(work / "x.npy");
    } else if (index++ % 2 == 0) {
      std::vector<std::pair<std::string, Constant>> arrays;
      for (std::size_t i = 0; i < inputs.size(); ++i) arrays.emplace_back(names[i], inputs[i]);
      write_npz(work / "inputs.npz", arrays);
      args = " --input " + shell_quoted(work / "inputs.npz");
    } else {
      for (std::size_t i = 0; i < inputs.size(); ++i) {
        const fs::path file = work / fmt::format("input_{}.npy", i);
        write_npy(file, inputs[i]);
        args += " --input " + shell_quoted(names[i] + "=" + file.string());
      }
    }
    std::string verdict;
    std::vector<std::vector<std::vector<double>>> cli_outputs;
    for (const char* chain : {"ref", "fp32"}) {
      const fs::path out = work / (std::string(chain) + (legacy ? ".npy" : ".npz"));
      std::string line;
      const int rc = run_command(fmt::format("{} run {}{} --chain {} --output {}", shell_quoted(binary()), shell_quoted(dir / "model.onnx"), args,
                                             chain, shell_quoted(out)),
                                 work / "stderr.txt", line);
      if (rc != 0) {
        verdict = line.empty() ? fmt::format("exit status {}", rc) : line;
        break;
      }
      cli_outputs.push_back(read_outputs(out, !legacy));
    }
    if (!verdict.empty()) {
      leftover(reason_key(verdict), verdict);
      continue;
    }
    try {
      const OnnxCase c(dir);
      const auto fp32 = make_chain_arithmetic(parse_chain("fp32"));
      std::string problem = compare(cli_outputs[0], c.run(*exact));
      if (problem.empty()) problem = compare(cli_outputs[1], c.run(*fp32));
      if (problem.empty()) ++passed;
      else failures.push_back(name + ": " + problem);
    } catch (const std::exception& e) {
      leftover("the command line runs it, the harness refuses it (no verdict)", e.what());
    }
  }
  fs::remove_all(scratch);
  int left = 0;
  for (const auto& [reason, cases] : leftovers) left += static_cast<int>(cases.size());
  std::cout << fmt::format("fpaudit run on ONNX backend node tests{}: {} cases with supported operators, {} pass, {} fail, {} left over\n",
                           legacy ? " (legacy command line)" : "", considered, passed, failures.size(), left);
  std::cout << "| reason | cases |\n|---|--:|\n";
  for (const auto& [reason, cases] : leftovers) std::cout << fmt::format("| {} | {} |\n", reason, cases.size());
  for (const auto& [reason, cases] : leftovers)
    for (const std::string& c : cases) std::cout << "  left over: " << c << "\n";
  for (const std::string& f : failures) std::cout << "FAILED " << f << "\n";
  CHECK(failures.empty());
  if (!legacy) CHECK(passed == FPAUDIT_CLI_CONFORMANCE_PASSED);
}
