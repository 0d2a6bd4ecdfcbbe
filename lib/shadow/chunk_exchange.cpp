#include "shadow/chunk_exchange.h"

#include <cstdlib>
#include <string>

namespace fpaudit {

long failing_chunk_from_environment() {
  const char* text = std::getenv("FPAUDIT_TEST_FAIL_CHUNK");
  if (!text || !*text) return -1;
  std::size_t used = 0;
  long c = -1;
  try {
    c = std::stol(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != std::string(text).size() || c < 0)
    throw std::invalid_argument(std::string("FPAUDIT_TEST_FAIL_CHUNK: expected a chunk number, got '") + text + "'");
  return c;
}

}  // namespace fpaudit
