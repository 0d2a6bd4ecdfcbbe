#include "shadow/test_hooks.h"

#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>

namespace fpaudit {

BoundShrink parse_bound_shrink(const std::string& text) {
  const std::size_t colon = text.find(':');
  BoundShrink s;
  bool ok = colon != std::string::npos && colon > 0 && colon + 1 < text.size();
  if (ok) {
    try {
      std::size_t used_layer = 0, used_factor = 0;
      s.layer = std::stol(text.substr(0, colon), &used_layer);
      s.factor = std::stod(text.substr(colon + 1), &used_factor);
      ok = used_layer == colon && used_factor == text.size() - colon - 1 && s.layer >= 0 && s.factor >= 0 && s.factor < 1;
    } catch (const std::exception&) {
      ok = false;
    }
  }
  if (!ok) throw std::invalid_argument(fmt::format("{}: expected LAYER:FACTOR with 0 <= FACTOR < 1, not '{}'", kBoundShrinkVariable, text));
  return s;
}

BoundShrink bound_shrink_from_environment() {
  const char* v = std::getenv(kBoundShrinkVariable);
  return v && *v ? parse_bound_shrink(v) : BoundShrink{};
}

}  // namespace fpaudit
