// Turning a BoundsResult (`fpaudit bounds`, the a-priori report) into what people read: the
// terminal table and JSON (schema "fpaudit.bounds", version 1, docs/bounds-json.md).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "shadow/bounds_run.h"

namespace fpaudit {

struct BoundsSource {
  std::string model_path;
  std::string input_path;
  std::string fpaudit_version;
};

constexpr int kBoundsJsonVersion = 1;

nlohmann::json bounds_to_json(const BoundsResult& r, const Plan& plan, const BoundsSource& source);
std::string bounds_table(const BoundsResult& r, const Plan& plan);

}  // namespace fpaudit
