// Golden files of the report tests: compare a rendering with tests/report/golden/NAME, or
// rewrite the file when FPAUDIT_UPDATE_GOLDEN is set (then review the diff before committing).
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <doctest/doctest.h>

#include "common/atomic_file.h"

namespace fpaudit::test {

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// The first line where two texts differ, as "line N: expected '...' got '...'".
inline std::string first_difference(const std::string& expected, const std::string& actual) {
  std::istringstream a(expected), b(actual);
  std::string la, lb;
  for (int line = 1;; ++line) {
    const bool ga = static_cast<bool>(std::getline(a, la)), gb = static_cast<bool>(std::getline(b, lb));
    if (!ga && !gb) return "same lines, different line endings";
    if (!ga || !gb || la != lb)
      return "line " + std::to_string(line) + ": expected '" + (ga ? la : "<end>") + "' got '" + (gb ? lb : "<end>") + "'";
  }
}

inline void check_golden(const std::string& name, const std::string& actual) {
  const std::string path = std::string(FPAUDIT_REPORT_GOLDEN) + "/" + name;
  if (std::getenv("FPAUDIT_UPDATE_GOLDEN")) write_file_atomic(path, actual);
  const std::string expected = read_file(path);
  INFO("golden file ", path, " (FPAUDIT_UPDATE_GOLDEN=1 rewrites it)");
  REQUIRE_MESSAGE(!expected.empty(), "missing or empty golden file");
  CHECK_MESSAGE(expected == actual, first_difference(expected, actual));
}

inline std::string data_file(const std::string& name) { return std::string(FPAUDIT_REPORT_DATA) + "/" + name; }

}  // namespace fpaudit::test
