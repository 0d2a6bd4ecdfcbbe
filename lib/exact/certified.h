// A reference value together with a certified bound on its own error.
//
// Every number the reference chain produces is the exact real result rounded once to binary64
// (or carried exactly). The bound says how far that stored value can be from the real result,
// so a report can state how many bits the reference is better than anything it measures.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace fpaudit::exact {

/// A binary64 reference value and a bound on |value - exact|.
///   0              the value is the exact result (also for NaN/Inf produced from NaN/Inf
///                  operands: the IEEE result is then the reference itself);
///   ≤ half an ulp  the value is the exact result correctly rounded to nearest;
///   +Inf           the exact result is finite but its rounding overflowed to ±Inf.
struct Certified {
  double value = 0;
  double abs_error_bound = 0;

  bool exact() const { return abs_error_bound == 0; }
};

/// Half the distance from y to the farther of its two binary64 neighbours, i.e. the largest
/// error round-to-nearest can make when it returns y; rounded up to a binary64 number.
/// For |y| < 2^-1021 the true half spacing is 2^-1075, which binary64 cannot hold: the bound
/// returned there is 2^-1074. Infinite y (an overflow) gives +Inf.
inline double half_ulp_bound(double y) {
  const double a = std::fabs(y);
  if (!(a <= std::numeric_limits<double>::max())) return std::numeric_limits<double>::infinity();
  const auto biased = static_cast<int>(std::bit_cast<std::uint64_t>(a) >> 52);
  if (biased <= 1) return std::numeric_limits<double>::denorm_min();  // ulp is 2^-1074
  return std::ldexp(1.0, biased - 1076);  // ulp(y) = 2^(biased - 1075); exact for biased ≥ 2
}

/// The bound of a correctly rounded finite exact value: zero when the rounding was exact,
/// +Inf when it overflowed to ±Inf.
inline Certified correctly_rounded(double value, bool exact) {
  if (std::isinf(value)) return {value, std::numeric_limits<double>::infinity()};  // overflowed
  return {value, exact ? 0.0 : half_ulp_bound(value)};
}

}  // namespace fpaudit::exact
