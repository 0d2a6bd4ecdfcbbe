// ONNX's own backend test cases (Debian's libonnx-testdata): every model loads or is refused
// with a ModelError, and for every case whose operators fpaudit supports, the shapes
// infer_shapes gives the graph outputs equal the shapes of the expected outputs (and folded
// outputs equal the expected values).
#include <array>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include "graph/loader.h"

using namespace fpaudit;
namespace fs = std::filesystem;

namespace {

fs::path testdata_root() {
  const char* env = std::getenv("FPAUDIT_ONNX_TESTDATA");
  return env ? fs::path(env) : fs::path("/usr/include/onnx/backend/test/data");
}

std::vector<fs::path> sorted_dirs(const fs::path& folder) {
  std::vector<fs::path> out;
  if (fs::is_directory(folder))
    for (const auto& e : fs::directory_iterator(folder))
      if (e.is_directory()) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

/// The operators a model file uses, and whether fpaudit supports them all.
std::set<std::string> operators_of(const fs::path& model, bool& all_supported) {
  onnx::ModelProto proto;
  std::ifstream in(model, std::ios::binary);
  proto.ParseFromIstream(&in);
  std::set<std::string> ops;
  all_supported = true;
  const auto supported = supported_operators();
  for (const auto& n : proto.graph().node()) {
    ops.insert(n.op_type());
    if (!n.domain().empty() || !std::binary_search(supported.begin(), supported.end(), n.op_type())) all_supported = false;
  }
  return ops;
}

enum class Outcome { Passed, Refused, Mismatch };

/// How a case's inputs are given: floating-point inputs as runtime values (integer ones are
/// bound as constants, as a user's model would hold them), or every input bound as a constant,
/// which folds whatever can be folded and so checks the folded values against ONNX's.
enum class Mode { FloatsAtRunTime, AllConstant };

struct Tally {
  int passed = 0, refused = 0, mismatched = 0;
  void add(Outcome o) { (o == Outcome::Passed ? passed : o == Outcome::Refused ? refused : mismatched)++; }
};

bool same_values(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
  return true;
}

/// Runs one test case folder; `why` explains a refusal or mismatch.
Outcome run_case(const fs::path& dir, Mode mode, std::string& why) {
  Graph g;
  const fs::path data = dir / "test_data_set_0";
  std::vector<Constant> inputs;
  try {
    g = load_onnx(dir / "model.onnx");
    for (int i = 0; fs::exists(data / fmt::format("input_{}.pb", i)); ++i)
      inputs.push_back(read_onnx_tensor(data / fmt::format("input_{}.pb", i)));
  } catch (const ModelError& e) {
    why = e.what();
    return Outcome::Refused;
  }
  // input_i.pb belongs to the i-th runtime input.
  const std::vector<ValueInfo> declared = g.inputs;
  if (declared.size() != inputs.size()) {
    why = fmt::format("{} inputs declared, {} given", declared.size(), inputs.size());
    return Outcome::Mismatch;
  }
  std::vector<Shape> shapes;
  try {
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      if (mode == Mode::FloatsAtRunTime && is_float(inputs[i].dtype)) shapes.push_back(inputs[i].shape);
      else bind_input(g, declared[i].name, inputs[i]);
    }
    infer_shapes(g, shapes);
  } catch (const ModelError& e) {
    why = e.what();
    return Outcome::Refused;
  }
  for (std::size_t j = 0; j < g.outputs.size(); ++j) {
    Constant expected;
    try {
      expected = read_onnx_tensor(data / fmt::format("output_{}.pb", j));
    } catch (const ModelError& e) {
      why = e.what();
      return Outcome::Refused;
    }
    const ValueInfo& out = g.outputs[j];
    if (out.shape != expected.shape || out.dtype != expected.dtype) {
      why = fmt::format("output '{}': inferred {} {}, expected {} {}", out.name, dtype_name(out.dtype),
                        shape_string(out.shape), dtype_name(expected.dtype), shape_string(expected.shape));
      return Outcome::Mismatch;
    }
    const Constant* folded = g.constant(out.name);
    if (folded && (folded->ints != expected.ints || !same_values(folded->values, expected.values))) {
      why = fmt::format("output '{}': folded values differ from the expected ones", out.name);
      return Outcome::Mismatch;
    }
  }
  return Outcome::Passed;
}

}  // namespace

TEST_CASE("every model of the ONNX test data loads or is refused with a ModelError") {
  const fs::path root = testdata_root();
  if (!fs::is_directory(root / "node")) {
    std::cout << "ONNX test data not found under " << root << "\n";
    return;
  }
  int loaded = 0, refused = 0, total = 0;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.path().filename() != "model.onnx") continue;
    ++total;
    try {
      (void)load_onnx(e.path());
      ++loaded;
    } catch (const ModelError& err) {
      ++refused;
      CHECK(std::string(err.what()).starts_with(e.path().string() + ": "));
    }
  }
  std::cout << fmt::format("ONNX test data: {} models, {} loaded, {} refused with a ModelError\n", total, loaded, refused);
  // Debian 12's libonnx-testdata 1.12.0: the refusals are other operators, opsets before 7,
  // training-only domains and non-tensor types, each with its one-line message.
  CHECK(total == 1072);
  CHECK(loaded == 702);
}

TEST_CASE("inferred output shapes (and folded values) of the supported ONNX backend test cases equal the expected ones") {
  const fs::path root = testdata_root();
  if (!fs::is_directory(root / "node")) {
    std::cout << "ONNX test data not found under " << root << "\n";
    return;
  }
  // Per operator and per folder: [mode] tallies.
  std::map<std::string, std::array<Tally, 2>> per_op, per_folder;
  for (const char* folder : {"node", "pytorch-converted", "pytorch-operator", "simple"}) {
    for (const fs::path& dir : sorted_dirs(root / folder)) {
      if (!fs::exists(dir / "model.onnx") || !fs::exists(dir / "test_data_set_0")) continue;
      bool supported = false;
      const std::set<std::string> ops = operators_of(dir / "model.onnx", supported);
      if (!supported) continue;
      for (Mode mode : {Mode::FloatsAtRunTime, Mode::AllConstant}) {
        std::string why;
        const Outcome outcome = run_case(dir, mode, why);
        const auto m = static_cast<std::size_t>(mode);
        per_folder[folder][m].add(outcome);
        for (const std::string& op : ops) per_op[op][m].add(outcome);
        const std::string label = fmt::format("{}/{} ({})", folder, dir.filename().string(),
                                              mode == Mode::AllConstant ? "all inputs constant" : "floats at run time");
        if (outcome == Outcome::Mismatch) FAIL_CHECK(label << ": " << why);
        if (outcome == Outcome::Refused && std::getenv("FPAUDIT_VERBOSE")) std::cout << "refused " << label << ": " << why << "\n";
      }
    }
  }
  std::cout << fmt::format("{:<20} {:>23} | {:>23}\n", "", "floats at run time", "all inputs constant");
  std::cout << fmt::format("{:<20} {:>7} {:>7} {:>7} | {:>7} {:>7} {:>7}\n", "operator", "passed", "refused", "wrong",
                           "passed", "refused", "wrong");
  auto row = [](const std::string& name, const std::array<Tally, 2>& t) {
    std::cout << fmt::format("{:<20} {:>7} {:>7} {:>7} | {:>7} {:>7} {:>7}\n", name, t[0].passed, t[0].refused,
                             t[0].mismatched, t[1].passed, t[1].refused, t[1].mismatched);
  };
  for (const auto& [op, t] : per_op) row(op, t);
  std::array<Tally, 2> all;
  for (const auto& [folder, t] : per_folder) {
    row(folder, t);
    for (std::size_t m = 0; m < 2; ++m) {
      all[m].passed += t[m].passed;
      all[m].refused += t[m].refused;
      all[m].mismatched += t[m].mismatched;
    }
  }
  row("all", all);
  // Debian 12's libonnx-testdata 1.12.0. Refused: opsets before 7, training mode, UINT16/STRING
  // data, integer results computed from run-time data, fold-only operators on run-time data.
  CHECK(all[0].passed == 663);
  CHECK(all[1].passed == 663);
  CHECK(all[0].mismatched == 0);
  CHECK(all[1].mismatched == 0);
}
