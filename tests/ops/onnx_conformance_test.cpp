// ONNX's backend node tests (Debian's libonnx-testdata) through fpaudit: every case whose
// operators fpaudit supports is evaluated with the exact reference and the fp32 chain and
// compared with ONNX's expected outputs under the acceptance rule below. A case needing a
// feature fpaudit refuses (a ModelError at load, shape inference or preparation) is listed as
// unsupported with its reason; it is not a failure.
//
// Acceptance rule. The expected outputs are NumPy computations in the data's own type (float32
// mostly), so they carry that type's rounding errors: a few ulps for a function of exact inputs,
// and for a sum or dot product up to γ_n(u)·Σ|terms|, since NumPy sums in float32. Per output
// element, with u the unit roundoff of the expected type, n the longest sum in the model
// (OnnxCase::accumulation_length) and S = the reference evaluated on |inputs| and |weights|
// (Σ|terms| for sums and dot products; about |y| for elementwise functions):
//   reference:  |ref − expected| ≤ 8u·|expected| + γ_n(u)·S + C
//   fp32:       |fp32 − expected| ≤ that + γ_n(2⁻²⁴)·S + 2·2⁻²⁴·|ref|
// where C is the normwise term γ_n(u)·max_j S_j for the operators whose NumPy formula cancels
// internally (normalisations and softmax: (x − mean) and (x − max) lose the relative accuracy
// |x| alone would suggest), and 0 otherwise. NaN must meet NaN, infinities the same infinity,
// and integer outputs (folded shape arithmetic) must be equal.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "graph/loader.h"
#include "core/reference_arithmetic.h"
#include "onnx_case.h"

using namespace fpaudit;
using namespace fpaudit::test;

namespace {

/// The node test cases: $FPAUDIT_ONNX_TESTDATA/node (ctest sets it from the CMake cache
/// variable of the same name), else Debian's libonnx-testdata location.
std::filesystem::path node_cases() {
  const char* env = std::getenv("FPAUDIT_ONNX_TESTDATA");
  return std::filesystem::path(env && *env ? env : "/usr/include/onnx/backend/test/data") / "node";
}

/// ctest's SKIP_RETURN_CODE for this test: the data is missing, so nothing was checked.
constexpr int kSkipped = 77;

double unit_roundoff(DType t) {
  switch (t) {
    case DType::Float16: return std::ldexp(1.0, -11);
    case DType::BFloat16: return std::ldexp(1.0, -8);
    case DType::Float64: return std::ldexp(1.0, -53);
    default: return std::ldexp(1.0, -24);
  }
}

double gamma(long n, double u) { return n * u / (1 - n * u); }

bool cancels_internally(const Graph& g) {
  static const std::set<std::string> ops = {"BatchNormalization", "LayerNormalization", "Softmax", "LogSoftmax",
                                             "SoftmaxCrossEntropyLoss", "InstanceNormalization", "GroupNormalization"};
  for (const Node& n : g.nodes)
    if (ops.count(n.op_type)) return true;
  return g.nodes.size() > 1;  // an expanded function: Sub, Div, Pow after reductions
}

bool same_special(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return true;
}

/// The worst ratio error / tolerance over an output (≤ 1 passes), and where it is.
struct Verdict {
  double ratio = 0;
  std::size_t at = 0;
  double got = 0, want = 0;
};

Verdict compare(const std::vector<double>& got, const Constant& want, const std::vector<double>& tolerance) {
  Verdict v;
  const bool integral = !is_float(want.dtype);
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double w = integral ? static_cast<double>(want.ints[i]) : want.values[i];
    double r = 0;
    if (!same_special(got[i], w)) r = INFINITY;
    else if (std::isfinite(w) && got[i] != w) r = integral ? INFINITY : std::fabs(got[i] - w) / tolerance[i];
    if (r > v.ratio) v = {r, i, got[i], w};
  }
  return v;
}

struct Tally { int passed = 0, failed = 0, unsupported = 0; };

struct Worst { double reference = 0, fp32 = 0; };

/// Runs a prepared case in both arithmetics; returns what is wrong, or "" when it passes.
std::string check(const OnnxCase& c, const Arithmetic& exact, const Arithmetic& fp32, Worst& worst) {
  const auto ref = c.run(exact);
  const auto got = c.run(fp32);
  // `fpaudit run`'s path recycles output buffers without zeroing them: the same bits only if
  // every kernel writes each of its output elements (the pool here starts them as NaNs).
  const auto recycled = c.run_recycled(fp32);
  for (std::size_t k = 0; k < got.size() && k < recycled.size(); ++k)
    if (recycled[k].size() != got[k].size() ||
        (!got[k].empty() && std::memcmp(recycled[k].data(), got[k].data(), got[k].size() * sizeof(double)) != 0))
      return fmt::format("output {}: evaluate_batch with recycled (NaN-filled) buffers differs from evaluate", k);
  const auto absolute = c.run(exact, true);
  const long n = c.accumulation_length();
  if (ref.size() != c.expected().size()) return fmt::format("{} outputs, {} expected", ref.size(), c.expected().size());
  for (std::size_t k = 0; k < ref.size(); ++k) {
    const Constant& want = c.expected()[k];
    if (static_cast<std::int64_t>(ref[k].size()) != want.size())
      return fmt::format("output {} has {} elements, {} expected", k, ref[k].size(), want.size());
    const double u = unit_roundoff(want.dtype);
    double scale = 0;
    for (double s : absolute[k]) scale = std::isfinite(s) ? std::max(scale, std::fabs(s)) : scale;
    const double normwise = cancels_internally(c.graph()) ? gamma(n, u) * scale : 0.0;
    std::vector<double> tol_ref(ref[k].size()), tol_fp32(ref[k].size());
    for (std::size_t i = 0; i < ref[k].size(); ++i) {
      const double w = is_float(want.dtype) ? std::fabs(want.values[i]) : 0.0;
      const double s = std::fabs(absolute[k][i]);
      tol_ref[i] = 8 * u * w + gamma(n, u) * s + normwise + std::ldexp(1.0, -149);
      tol_fp32[i] = tol_ref[i] + gamma(n, std::ldexp(1.0, -24)) * s + 2 * std::ldexp(std::fabs(ref[k][i]), -24);
    }
    const Verdict vr = compare(ref[k], want, tol_ref), vf = compare(got[k], want, tol_fp32);
    worst.reference = std::max(worst.reference, vr.ratio);
    worst.fp32 = std::max(worst.fp32, vf.ratio);
    if (vr.ratio > 1)
      return fmt::format("output {} element {}: reference {} expected {} ({:.3g} × tolerance)", k, vr.at, vr.got, vr.want, vr.ratio);
    if (vf.ratio > 1)
      return fmt::format("output {} element {}: fp32 {} expected {} ({:.3g} × tolerance)", k, vf.at, vf.got, vf.want, vf.ratio);
  }
  return "";
}

}  // namespace

TEST_CASE("ONNX backend node tests: exact reference and fp32 chain against the expected outputs") {
  const std::filesystem::path node_dir = node_cases();
  if (!std::filesystem::is_directory(node_dir)) {
    // Not a pass: nothing was compared. Exit with ctest's skip code at once (doctest has no skip).
    std::cout << "ONNX test data not found: " << node_dir.string() << " is missing (libonnx-testdata; FPAUDIT_ONNX_TESTDATA)"
              << std::endl;
    std::exit(kSkipped);
  }
  std::vector<std::filesystem::path> dirs;
  for (const auto& e : std::filesystem::directory_iterator(node_dir))
    if (std::filesystem::exists(e.path() / "model.onnx")) dirs.push_back(e.path());
  std::sort(dirs.begin(), dirs.end());

  const auto supported = supported_operators();
  const auto exact = make_reference_arithmetic("exact");
  std::map<std::string, Tally> table;
  std::vector<std::string> failures, unsupported;
  int other_operators = 0;
  Tally cases, y_only_cases;  // first runs of every case; reruns of LayerNormalization for Y alone
  Worst worst;

  for (const auto& dir : dirs) {
    const std::string name = dir.filename().string();
    const std::vector<std::string> ops = model_operators(dir / "model.onnx");
    const bool all_supported = std::all_of(ops.begin(), ops.end(), [&](const std::string& op) {
      return std::find(supported.begin(), supported.end(), op) != supported.end();
    });
    if (!all_supported) {
      ++other_operators;
      continue;
    }
    // Each case counts once under every operator its model uses; a LayerNormalization case
    // refused for its statistics outputs is run again for Y alone, under its own row.
    for (const bool y_only : {false, true}) {
      const bool has_layer_norm = std::find(ops.begin(), ops.end(), "LayerNormalization") != ops.end();
      if (y_only && (!has_layer_norm || unsupported.empty() || !unsupported.back().starts_with(name + ":"))) break;
      auto count = [&](int Tally::*field) {
        Tally& runs = y_only ? y_only_cases : cases;
        ++(runs.*field);
        for (const std::string& op : ops) ++(table[y_only && op == "LayerNormalization" ? op + " (Y only)" : op].*field);
      };
      try {
        // A fresh chain per case: chains keep converted constant operands keyed by address, and
        // the next case's weights may be allocated where this one's were.
        const auto fp32 = make_chain_arithmetic(parse_chain("fp32"));
        const std::string problem = check(OnnxCase(dir, y_only), *exact, *fp32, worst);
        if (problem.empty()) {
          count(&Tally::passed);
        } else {
          count(&Tally::failed);
          failures.push_back(name + ": " + problem);
        }
      } catch (const ModelError& e) {
        count(&Tally::unsupported);
        unsupported.push_back(name + ": " + e.what());
      } catch (const std::exception& e) {
        count(&Tally::failed);
        failures.push_back(name + ": " + e.what());
      }
    }
  }

  std::cout << fmt::format("ONNX backend node tests: {} cases, {} use operators fpaudit does not support; of the {} "
                           "others {} passed, {} failed, {} are unsupported ({} of those passed for Y alone)\n",
                           dirs.size(), other_operators, dirs.size() - other_operators, cases.passed, cases.failed,
                           cases.unsupported, y_only_cases.passed);
  // A Markdown table, as README.md's "ONNX conformance" section shows it.
  std::cout << "| operator | passed | failed | unsupported |\n|---|--:|--:|--:|\n";
  for (const auto& [op, t] : table) std::cout << fmt::format("| {} | {} | {} | {} |\n", op, t.passed, t.failed, t.unsupported);
  std::cout << fmt::format("worst error / tolerance: reference {:.3g}, fp32 {:.3g}\n", worst.reference, worst.fp32);
  std::cout << "unsupported:\n";
  for (const auto& u : unsupported) std::cout << "  " << u << "\n";
  for (const auto& f : failures) std::cout << "FAILED " << f << "\n";
  CHECK(failures.empty());
  // Debian 12's libonnx-testdata 1.12.0, as README.md's table states it: a case that starts or
  // stops passing (a new operator, a new refusal) must update the README with it.
  CHECK(dirs.size() == 932);
  CHECK(cases.passed == 666);
  CHECK(cases.unsupported == 89);
}
