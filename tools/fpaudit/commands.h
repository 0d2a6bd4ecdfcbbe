// One file per subcommand: each registers itself on the app with a set_<name>_command function
// that binds its options to a struct and calls the library.
#pragma once

#include <CLI/CLI.hpp>

namespace fpaudit::cli {

void set_formats_command(CLI::App& app);
void set_inspect_command(CLI::App& app);

}  // namespace fpaudit::cli
