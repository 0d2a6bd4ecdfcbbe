// One file per subcommand: each registers itself on the app with a set_<name>_command function
// that binds its options to a struct and calls the library. A subcommand reports its exit
// status through `status` (0 success, 1 a --fail-on condition held, 2 bad input).
#pragma once

#include <CLI/CLI.hpp>

namespace fpaudit::cli {

void set_formats_command(CLI::App& app, int& status);
void set_run_command(CLI::App& app, int& status);
void set_audit_command(CLI::App& app, int& status);
void set_inspect_command(CLI::App& app, int& status);
void set_report_command(CLI::App& app, int& status);
void set_table_command(CLI::App& app, int& status);
void set_kernels_command(CLI::App& app, int& status);
void set_bounds_command(CLI::App& app, int& status);
void set_train_step_command(CLI::App& app, int& status);
void set_convert_command(CLI::App& app, int& status);
void set_advise_command(CLI::App& app, int& status);
void set_tolerances_command(CLI::App& app, int& status);

}  // namespace fpaudit::cli
