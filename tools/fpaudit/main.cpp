// fpaudit: what running a network in 16-bit floating point does to it.
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "fpaudit/commands.h"
#include "fpaudit_version.h"

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
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Usage errors exit 2, like every other bad input; --help and --version exit 0.
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  } catch (const std::exception& e) {
    // Bad input of any kind (a ModelError names the file, node and problem): one line, exit 2.
    std::fprintf(stderr, "fpaudit: error: %s\n", e.what());
    return 2;
  }
  return status;
}
