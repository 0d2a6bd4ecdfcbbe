#include "fpaudit/usage_errors.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace fpaudit::cli {

int edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment: insertions, deletions, substitutions and adjacent swaps.
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::vector<int>> d(n + 1, std::vector<int>(m + 1));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = static_cast<int>(i);
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = static_cast<int>(j);
  for (std::size_t i = 1; i <= n; ++i)
    for (std::size_t j = 1; j <= m; ++j) {
      const int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[n][m];
}

std::optional<std::string> closest_spelling(std::string_view word, const std::vector<std::string>& known) {
  // A typo changes a few letters; more than a third of the word is another word.
  const int allowed = std::max(1, static_cast<int>(word.size()) / 3);
  std::optional<std::string> best;
  int best_distance = allowed + 1;
  for (const std::string& k : known) {
    const int d = edit_distance(word, k);
    if (d < best_distance) best = k, best_distance = d;
  }
  return best;
}

namespace {

std::vector<std::string> subcommand_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) names.push_back(sub->get_name());
  return names;
}

/// Long option names of `app` with their dashes ("--samples"), help included.
std::vector<std::string> long_options(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::Option* opt : app.get_options())
    for (const std::string& l : opt->get_lnames()) names.push_back("--" + l);
  return names;
}

std::string suggestion(const std::optional<std::string>& s) { return s ? fmt::format("; did you mean '{}'?", *s) : ""; }

}  // namespace

std::optional<std::string> unknown_word(const CLI::App& app, int argc, const char* const* argv) {
  const CLI::App* current = nullptr;  // the subcommand, once named
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") break;
    if (!current) {
      if (arg.empty() || arg[0] == '-') continue;  // top-level --help, --version: CLI11's
      const std::vector<std::string> names = subcommand_names(app);
      if (std::find(names.begin(), names.end(), arg) == names.end())
        return fmt::format("unknown subcommand '{}'{} (subcommands: {})", arg, suggestion(closest_spelling(arg, names)),
                           fmt::join(names, ", "));
      current = app.get_subcommands([&arg](const CLI::App* s) { return s->get_name() == arg; }).front();
      continue;
    }
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) continue;  // values, positionals, -h
    const std::string name = arg.substr(0, arg.find('='));
    const std::vector<std::string> names = long_options(*current);
    if (std::find(names.begin(), names.end(), name) == names.end())
      return fmt::format("unknown option '{}' for 'fpaudit {}'{}", name, current->get_name(),
                         suggestion(closest_spelling(name, names)));
  }
  return std::nullopt;
}

std::string parse_error_message(const CLI::App& app, const CLI::ParseError& e) {
  if (app.get_subcommands().empty() && dynamic_cast<const CLI::RequiredError*>(&e))
    return fmt::format("a subcommand is required: {} (fpaudit --help says what each does)", fmt::join(subcommand_names(app), ", "));
  // CLI11 ends some messages with a newline and spreads a few over lines: keep one line.
  std::string text = e.what();
  std::replace(text.begin(), text.end(), '\n', ' ');
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  if (text.empty()) text = e.get_name();
  return text;
}

}  // namespace fpaudit::cli
