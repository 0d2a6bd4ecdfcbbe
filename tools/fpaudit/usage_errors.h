// Usage errors as one line, like every other error: "fpaudit: error: ...". A misspelt
// subcommand or option is found before CLI11 parses (so the message can name the closest
// known spelling); CLI11's own ParseErrors are reworded into one line.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

namespace fpaudit::cli {

/// Edit distance counting an adjacent transposition as one step ("sampels" → "samples": 1).
int edit_distance(std::string_view a, std::string_view b);

/// The closest of `known` to `word`, when close enough to be a plausible typo.
std::optional<std::string> closest_spelling(std::string_view word, const std::vector<std::string>& known);

/// The first unknown subcommand or option in argv, as a message ("unknown subcommand 'audt';
/// did you mean 'audit'?"), or nothing when every word is known to `app` (values and
/// positionals are left to CLI11).
std::optional<std::string> unknown_word(const CLI::App& app, int argc, const char* const* argv);

/// A CLI11 parse error as the text after "fpaudit: error: " (one line).
std::string parse_error_message(const CLI::App& app, const CLI::ParseError& e);

}  // namespace fpaudit::cli
