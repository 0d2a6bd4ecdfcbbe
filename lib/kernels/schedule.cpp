#include "kernels/schedule.h"

#include <charconv>

namespace fpaudit {

std::string schedule_name(const DotSchedule& s) {
  switch (s.order) {
    case SumOrder::Sequential: return "sequential";
    case SumOrder::TwoLane: return "two-lane";
    case SumOrder::Blocked: return "blocked-" + std::to_string(s.block);
    case SumOrder::Pairwise: return "pairwise-" + std::to_string(s.block);
  }
  return "?";
}

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
  else return false;
  return true;
}

}  // namespace fpaudit
