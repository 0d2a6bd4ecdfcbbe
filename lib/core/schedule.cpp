#include "core/schedule.h"

#include <charconv>

namespace fpaudit {

std::string schedule_name(const DotSchedule& s) {
  switch (s.order) {
    case SumOrder::Sequential: return "sequential";
    case SumOrder::TwoLane: return "two-lane";
    case SumOrder::Blocked: return "blocked-" + std::to_string(s.block);
    case SumOrder::Pairwise: return "pairwise-" + std::to_string(s.block);
    case SumOrder::TensorCore: {
      // Appended piece by piece: g++ 12 raises a false -Wrestrict on chained operator+.
      std::string name = "tensor-core-";
      name.append(std::to_string(s.block));
      if (s.extra_bits != 0) name.append(1, '+').append(std::to_string(s.extra_bits));
      return name;
    }
  }
  return "?";
}

namespace {
/// "B" or "B+G" after "tensor-core-": blocks of B terms (1..1024), G extra alignment bits (0..8).
bool parse_tensor_core(std::string_view rest, DotSchedule& out) {
  const std::size_t plus = rest.find('+');
  const std::string_view block = rest.substr(0, plus);
  int b = 0, g = 0;
  auto [end, ec] = std::from_chars(block.data(), block.data() + block.size(), b);
  if (ec != std::errc{} || end != block.data() + block.size() || b < 1 || b > 1024) return false;
  if (plus != std::string_view::npos) {
    const std::string_view extra = rest.substr(plus + 1);
    auto [end2, ec2] = std::from_chars(extra.data(), extra.data() + extra.size(), g);
    if (ec2 != std::errc{} || end2 != extra.data() + extra.size() || extra.empty() || g < 0 || g > 8) return false;
  }
  out = DotSchedule::tensor_core(b, g);
  return true;
}
}  // namespace

bool parse_schedule(std::string_view text, DotSchedule& out) {
  auto number_after = [&](std::string_view prefix, int& value) {
    if (text.substr(0, prefix.size()) != prefix) return false;
    const std::string_view digits = text.substr(prefix.size());
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    return ec == std::errc{} && end == digits.data() + digits.size() && value >= 1 && value <= (1 << 20);
  };
  int v = 0;
  if (text == "sequential") out = DotSchedule::sequential();
  else if (text == "two-lane") out = DotSchedule::two_lane();
  else if (number_after("blocked-", v)) out = DotSchedule::blocked(v);
  else if (number_after("pairwise-", v)) out = DotSchedule::pairwise(v);
  else if (text == "tensor-core") out = DotSchedule::tensor_core(kDefaultTensorCoreBlock);
  else if (text.substr(0, 12) == "tensor-core-") return parse_tensor_core(text.substr(12), out);
  else return false;
  return true;
}

}  // namespace fpaudit
