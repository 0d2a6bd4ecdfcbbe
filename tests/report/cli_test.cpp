// The report commands as a user runs them: fpaudit report and fpaudit table on the fixtures
// (output equal to the renderers' golden files), bad input (one line, exit 2), and a fresh
// fpaudit audit whose md/tex/html/csv equal what fpaudit report renders from its JSON.
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>

#include <doctest/doctest.h>

#include "golden.h"

using fpaudit::test::data_file;
using fpaudit::test::read_file;
namespace fs = std::filesystem;

namespace {

struct Run {
  int status = -1;
  std::string out, err;
};

/// A fresh, empty folder for one test case's files.
fs::path scratch(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("fpaudit-report-cli-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

/// Runs `fpaudit ARGS` with gnuplot pointed at nothing (so HTML is the same on every machine)
/// and stdout, stderr captured.
Run run_fpaudit(const std::string& args) {
  const fs::path dir = fs::temp_directory_path() / "fpaudit-report-cli-run";
  fs::create_directories(dir);
  const std::string cmd = "FPAUDIT_GNUPLOT=/nonexistent/gnuplot " + std::string(FPAUDIT_BIN) + " " + args + " >" +
                          (dir / "out").string() + " 2>" + (dir / "err").string();
  const int rc = std::system(cmd.c_str());
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, read_file(dir / "out"), read_file(dir / "err")};
}

/// A golden file's text; a missing or empty golden fails here, not as an empty match.
std::string golden(const std::string& name) {
  const std::string text = read_file(std::string(FPAUDIT_REPORT_GOLDEN) + "/" + name);
  REQUIRE_MESSAGE(!text.empty(), "golden file ", name, " is missing or empty");
  return text;
}

}  // namespace

TEST_CASE("fpaudit report renders a saved run as the renderers do") {
  const std::string run = data_file("mlp_60.json");
  Run r = run_fpaudit("report " + run + " --format md");
  CHECK(r.status == 0);
  CHECK(r.err.empty());
  CHECK(r.out == golden("mlp_60.md"));
  CHECK(run_fpaudit("report " + run).out == golden("mlp_60.verdict.txt"));  // default: the table, verdict first
  CHECK(run_fpaudit("report " + run + " --per-layer").out == golden("mlp_60.table.txt"));  // every layer
  CHECK(run_fpaudit("report " + run + " --format csv").out == golden("mlp_60.layers.csv"));

  const fs::path dir = scratch("report");
  r = run_fpaudit("report " + data_file("edge_6.json") + " --format csv,md,tex,html --out " + dir.string());
  CHECK(r.status == 0);
  CHECK(r.out == "wrote " + dir.string() + "/: layers.csv, samples.csv, audit.md, audit.tex, audit.html\n");
  CHECK(r.err.empty());
  CHECK(read_file(dir / "layers.csv") == golden("edge_6.layers.csv"));
  CHECK(read_file(dir / "samples.csv") == golden("edge_6.samples.csv"));
  CHECK(read_file(dir / "audit.md") == golden("edge_6.md"));
  CHECK(read_file(dir / "audit.tex") == golden("edge_6.tex"));
  CHECK(read_file(dir / "audit.html") == golden("edge_6.html"));
  fs::remove_all(dir);
}

TEST_CASE("fpaudit table merges audits into one comparison table") {
  const std::string runs = data_file("mlp_60.json") + " " + data_file("edge_6.json");
  Run r = run_fpaudit("table " + runs);
  CHECK(r.status == 0);
  CHECK(r.out == golden("comparison.md"));
  CHECK(run_fpaudit("table " + runs + " --format tex").out == golden("comparison.tex"));
  const fs::path dir = scratch("table");
  r = run_fpaudit("table " + runs + " --format csv --out " + (dir / "results.csv").string());
  CHECK(r.status == 0);
  CHECK(r.out == "wrote " + (dir / "results.csv").string() + "\n");
  CHECK(read_file(dir / "results.csv") == golden("comparison.csv"));
  fs::remove_all(dir);
}

TEST_CASE("bad input: one line naming the file and the problem, exit 2") {
  const fs::path dir = scratch("bad");
  const std::string missing = (dir / "missing.json").string();
  const std::string text = (dir / "notes.json").string();
  const std::string other = (dir / "other.json").string();
  const std::string future = (dir / "future.json").string();
  fpaudit::write_file_atomic(text, "not json at all\n");
  fpaudit::write_file_atomic(other, "{\"schema\": \"someone.else\", \"schema_version\": 1}\n");
  fpaudit::write_file_atomic(future, "{\"schema\": \"fpaudit.audit\", \"schema_version\": 2}\n");
  const std::pair<std::string, std::string> cases[] = {
      {missing, missing + ": cannot open (No such file or directory)"},
      {text, text + ": not an fpaudit audit JSON (not valid JSON)"},
      {other, other + ": not an fpaudit audit JSON (schema \"someone.else\", expected \"fpaudit.audit\")"},
      {future, future + ": schema version 2 is not supported (this fpaudit reads version 1)"},
  };
  for (const auto& [file, problem] : cases) {
    for (const std::string& command : {"report " + file + " --format md", "table " + data_file("mlp_60.json") + " " + file}) {
      CAPTURE(command);
      const Run r = run_fpaudit(command);
      CHECK(r.status == 2);
      CHECK(r.out.empty());
      CHECK(r.err == "fpaudit: error: " + problem + "\n");
    }
  }
  const Run r = run_fpaudit("report " + data_file("mlp_60.json") + " --format md,tex");
  CHECK(r.status == 2);
  CHECK(r.err == "fpaudit: error: several formats need --out DIR (one format without --out goes to stdout)\n");
  fs::remove_all(dir);
}

TEST_CASE("fpaudit audit --format writes what fpaudit report renders from its JSON") {
  const fs::path dir = scratch("audit");
  const std::string data = FPAUDIT_DATA_DIR;
  const Run a = run_fpaudit("audit " + data + "/mlp.onnx --input " + data + "/test_images.npy --labels " + data +
                        "/test_labels.npy --samples 8 --no-progress --format table,json,csv,md,tex,html --out " + dir.string());
  REQUIRE(a.status == 0);
  const std::string run = (dir / "audit.json").string();
  const Run table = run_fpaudit("report " + run);
  CHECK(a.out == table.out + "\nwrote " + dir.string() + "/: audit.json, layers.csv, samples.csv, audit.md, audit.tex, audit.html\n");
  for (const char* f : {"md", "tex", "html"}) {
    CAPTURE(f);
    CHECK(run_fpaudit("report " + run + " --format " + f).out == read_file(dir / (std::string("audit.") + f)));
  }
  const fs::path again = dir / "again";
  CHECK(run_fpaudit("report " + run + " --format csv --out " + again.string()).status == 0);
  CHECK(read_file(again / "layers.csv") == read_file(dir / "layers.csv"));
  CHECK(read_file(again / "samples.csv") == read_file(dir / "samples.csv"));
  fs::remove_all(dir);
}
