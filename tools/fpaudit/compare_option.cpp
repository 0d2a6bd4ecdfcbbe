#include "fpaudit/compare_option.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "graph/loader.h"

namespace fpaudit::cli {

ExternalRun parse_compare_option(const std::string& spec, const std::vector<ExternalRun>& earlier) {
  const std::size_t eq = spec.find('=');
  const std::string who = spec.substr(0, std::min(eq, spec.size()));
  const std::size_t at = who.find('@');
  ExternalRun run;
  run.name = who.substr(0, at);
  run.chain = at == std::string::npos ? "" : who.substr(at + 1);
  run.file = eq == std::string::npos ? "" : spec.substr(eq + 1);
  if (run.name.empty() || run.file.empty() || (at != std::string::npos && run.chain.empty()))
    throw std::invalid_argument(fmt::format("--compare '{}': expected NAME[@CHAIN]=OUTPUTS.npy (e.g. ort-fp16@fp16-acc32=ort.npy)", spec));
  if (std::any_of(earlier.begin(), earlier.end(), [&](const ExternalRun& e) { return e.name == run.name; }))
    throw std::invalid_argument(fmt::format("--compare '{}': the name '{}' is given twice", spec, run.name));
  run.outputs = read_npy(run.file);
  return run;
}

}  // namespace fpaudit::cli
