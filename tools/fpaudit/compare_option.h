// --compare NAME[@CHAIN]=OUTPUTS.npy of `fpaudit audit`: a real runtime's outputs to judge
// (shadow/external_outputs.h).
#pragma once

#include <string>
#include <vector>

#include "shadow/external_outputs.h"

namespace fpaudit::cli {

/// Parses one --compare and reads its file. A malformed spec or a NAME already in `earlier`
/// throws std::invalid_argument; an unreadable file ModelError (both one line, exit 2).
ExternalRun parse_compare_option(const std::string& spec, const std::vector<ExternalRun>& earlier);

}  // namespace fpaudit::cli
