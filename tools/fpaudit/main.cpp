// fpaudit: what running a network in 16-bit floating point does to it.
#include <cstdio>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>

#include "common/cpu_features.h"
#include "fpaudit/commands.h"
#include "fpaudit/usage_errors.h"
#include "fpaudit_version.h"
#include "shadow/chunk_exchange.h"

int main(int argc, char** argv) {
  CLI::App app{"fpaudit: measures and bounds what 16-bit floating point does to a network"};
  app.set_version_flag("--version", "fpaudit " FPAUDIT_VERSION);
  app.require_subcommand(1);
  int status = 0;
  fpaudit::cli::set_formats_command(app, status);
  fpaudit::cli::set_run_command(app, status);
  fpaudit::cli::set_audit_command(app, status);
  fpaudit::cli::set_inspect_command(app, status);
  fpaudit::cli::set_report_command(app, status);
  fpaudit::cli::set_table_command(app, status);
  fpaudit::cli::set_kernels_command(app, status);
  fpaudit::cli::set_bounds_command(app, status);
  fpaudit::cli::set_train_step_command(app, status);
  fpaudit::cli::set_convert_command(app, status);
  fpaudit::cli::set_advise_command(app, status);
  fpaudit::cli::set_tolerances_command(app, status);
  // Every argument is checked before any work: a misspelt word first (with the closest known
  // spelling), then CLI11's parse and validators; the subcommand's callback runs only after.
  if (const auto unknown = fpaudit::cli::unknown_word(app, argc, argv)) {
    std::fprintf(stderr, "fpaudit: error: %s\n", unknown->c_str());
    return 2;
  }
  // A misspelt FPAUDIT_ISA would silently run the slowest kernels: refuse it before any work.
  if (const std::string isa_error = fpaudit::cpu::environment_error(); !isa_error.empty()) {
    std::fprintf(stderr, "fpaudit: error: %s\n", isa_error.c_str());
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version: printed on stdout, exit 0
  } catch (const CLI::ParseError& e) {
    // Usage errors exit 2 with one line, like every other bad input (CLI11 would print two).
    std::fprintf(stderr, "fpaudit: error: %s\n", fpaudit::cli::parse_error_message(app, e).c_str());
    return 2;
  } catch (const fpaudit::FailedOnAnotherRank&) {
    return 2;  // an MPI run failed: rank 0 prints the error, once
  } catch (const std::exception& e) {
    // Bad input of any kind (a ModelError names the file, node and problem): one line, exit 2.
    std::fprintf(stderr, "fpaudit: error: %s\n", e.what());
    return 2;
  }
  return status;
}
