// fpaudit with --reference mpfr:256 on the shipped MLP, against the exact reference. The mpfr
// reference states its own error (lib/exact/mpfr_mode.h: every result carries a certified bound;
// `fpaudit bounds --json` reports the largest, per layer, as reference_bound). So on every
// output element |z_mpfr - z_exact| <= R_mpfr + R_exact, and what the audit derives from the
// outputs (the margin Γ, each chain's drift δ, the top-1 class) agrees within that bound.
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "graph/loader.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string kData = FPAUDIT_DATA_DIR;
const std::string kModel = kData + "/mlp.onnx";
const std::string kSamples = " --input " + kData + "/test_images.npy --samples 6";

/// Runs `fpaudit ARGS` with stdout and stderr discarded; returns the exit status.
int run_fpaudit(const std::string& args) {
  const int rc = std::system((std::string(FPAUDIT_BIN) + " " + args + " >/dev/null 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

json read_json(const fs::path& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  return json::parse(in);
}

/// The reference's own stated bound on the output layer's error (largest over elements and samples).
double output_bound(const fs::path& dir, const std::string& reference) {
  const fs::path file = dir / ("bounds-" + reference.substr(0, 4) + ".json");
  REQUIRE(run_fpaudit("bounds " + kModel + kSamples + " --chains fp32 --threads 1 --reference " + reference + " --json " + file.string()) == 0);
  const json b = read_json(file);
  REQUIRE(b["layers"].is_array());
  REQUIRE(b["layers"].back()["reference_bound"].is_number());
  return b["layers"].back()["reference_bound"].get<double>();
}

}  // namespace

TEST_CASE("an audit with --reference mpfr:256 agrees with the exact reference within the mpfr reference's stated bound") {
  const fs::path dir = fs::temp_directory_path() / "fpaudit-cli-mpfr-reference";
  fs::remove_all(dir);
  fs::create_directories(dir);

  const double r_mpfr = output_bound(dir, "mpfr:256"), r_exact = output_bound(dir, "exact");
  MESSAGE("stated output bounds: mpfr:256 " << r_mpfr << ", exact " << r_exact);
  // Both references keep activations in binary64 between layers, so the stated bound is a
  // propagated 2^-53-level term (about 5e-13 on these logits of size ~10), not 2^-256. It must be
  // positive (an mpfr result is never claimed exact here) and far below fp32's unit roundoff
  // 2^-24, or the comparisons below could not tell a wrong reference from a right one.
  CHECK(r_mpfr > 0);
  CHECK(r_mpfr < std::ldexp(1.0, -30));
  const double r = r_mpfr + r_exact;

  // The outputs themselves (fpaudit run writes the reference's logits as binary64).
  REQUIRE(run_fpaudit("run " + kModel + kSamples + " --chain mpfr:256 --output " + (dir / "mpfr.npy").string()) == 0);
  REQUIRE(run_fpaudit("run " + kModel + kSamples + " --chain ref --output " + (dir / "exact.npy").string()) == 0);
  const fpaudit::Constant zm = fpaudit::read_npy(dir / "mpfr.npy"), ze = fpaudit::read_npy(dir / "exact.npy");
  REQUIRE(zm.shape == ze.shape);
  REQUIRE(zm.values.size() == 6 * 10);
  double largest = 0;
  for (std::size_t i = 0; i < zm.values.size(); ++i) {
    CAPTURE(i);
    CHECK(std::fabs(zm.values[i] - ze.values[i]) <= r);
    largest = std::max(largest, std::fabs(zm.values[i] - ze.values[i]));
  }
  MESSAGE("largest |z_mpfr - z_exact| over the logits: " << largest);

  // The audits: same chains, same samples; only the reference differs.
  const std::string audit = "audit " + kModel + kSamples + " --labels " + kData + "/test_labels.npy --chains fp32,fp16 --threads 2 " +
                            "--no-progress --format json --out ";
  REQUIRE(run_fpaudit(audit + (dir / "mpfr").string() + " --reference mpfr:256") == 0);
  REQUIRE(run_fpaudit(audit + (dir / "exact").string()) == 0);
  const json am = read_json(dir / "mpfr" / "audit.json"), ae = read_json(dir / "exact" / "audit.json");
  CHECK(am["reference"] == "mpfr:256");
  CHECK(ae["reference"] == "exact");
  REQUIRE(am["samples"].size() == 6);
  REQUIRE(ae["samples"].size() == 6);
  const double ulp = std::ldexp(1.0, -52);  // the binary64 subtraction that forms Γ and δ
  for (std::size_t s = 0; s < 6; ++s) {
    CAPTURE(s);
    const json& m = am["samples"][s];
    const json& e = ae["samples"][s];
    const double gm = m["margin_reference"].get<double>(), ge = e["margin_reference"].get<double>();
    REQUIRE(ge > 2 * r);  // so both references name the same top class
    CHECK(m["reference_top1"] == e["reference_top1"]);
    CHECK(std::fabs(gm - ge) <= 2 * r + ulp * std::fabs(ge));
    for (const char* chain : {"fp32", "fp16"}) {
      CAPTURE(chain);
      CHECK(m["chains"][chain]["top1"] == e["chains"][chain]["top1"]);
      const double dm = m["chains"][chain]["delta_reference"].get<double>(), de = e["chains"][chain]["delta_reference"].get<double>();
      CHECK(std::fabs(dm - de) <= r + ulp * std::fabs(de));
    }
  }
  fs::remove_all(dir);
}
