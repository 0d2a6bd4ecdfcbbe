// libFuzzer target: any bytes given to the .npy reader. What it accepts must survive a write and
// a second read unchanged (NaN payloads aside); everything else must be a ModelError.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>

#include "graph/loader.h"

namespace {

bool same(const fpaudit::Constant& a, const fpaudit::Constant& b) {
  if (a.dtype != b.dtype || a.shape != b.shape || a.ints != b.ints || a.values.size() != b.values.size()) return false;
  for (std::size_t i = 0; i < a.values.size(); ++i) {
    const double x = a.values[i], y = b.values[i];
    if (std::isnan(x) ? !std::isnan(y) : (x != y || std::signbit(x) != std::signbit(y))) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace fpaudit;
  Constant first;
  try {
    first = parse_npy(std::as_bytes(std::span(data, size)), "fuzz.npy");
  } catch (const ModelError&) {
    return 0;  // refused: fine
  }
  const std::vector<std::byte> written = encode_npy(first);
  const Constant second = parse_npy(written, "rewritten.npy");  // must not throw
  if (!same(first, second)) __builtin_trap();
  return 0;
}
