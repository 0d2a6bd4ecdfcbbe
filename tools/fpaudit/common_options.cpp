#include "fpaudit/common_options.h"

#include <cstdlib>
#include <sstream>
#include <stdexcept>

namespace fpaudit::cli {

std::filesystem::path data_dir() {
  if (const char* env = std::getenv("FPAUDIT_DATA"); env && *env) return env;
  return FPAUDIT_DATA_DIR;
}

void add_chains_option(CLI::App* sub, std::string& chains, const std::string& help) {
  sub->add_option("--chains", chains, help)->capture_default_str();
}

std::vector<ChainSpec> parse_chain_list(const std::string& text) {
  std::vector<ChainSpec> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    ChainSpec spec = parse_chain(item);
    for (const ChainSpec& have : out)
      if (have.name == spec.name) throw std::invalid_argument("chain '" + spec.name + "' listed twice");
    out.push_back(std::move(spec));
  }
  if (out.empty()) throw std::invalid_argument("no chains given");
  return out;
}

}  // namespace fpaudit::cli
