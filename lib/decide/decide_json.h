// JSON of `fpaudit advise` (advise.json) and `fpaudit tolerances --json`.
#pragma once

#include <nlohmann/json.hpp>

#include "decide/advise.h"
#include "decide/tolerances.h"

namespace fpaudit {

/// advise.json: the target, the set found (or the best tried), the final verifying audit's and
/// the base chain's metrics, the multiply-add share, and every set tried.
nlohmann::json advise_to_json(const AdviseResult& r, const AdviseOptions& o, const std::string& model, const std::string& input);
nlohmann::json tolerances_to_json(const ToleranceResult& r, const std::string& model, const std::string& input);

}  // namespace fpaudit
