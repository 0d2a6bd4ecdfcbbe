#include "format/arithmetic.h"

#include <limits>

namespace fpaudit {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// A NaN born of non-NaN operands (Inf - Inf, 0 × Inf, 0/0, √-x) is an invalid operation.
Rounded invalid() { return {kNaN, kInvalid, 0}; }
bool any_nan(double a, double b) { return std::isnan(a) || std::isnan(b); }
}  // namespace

Rounded add(const Format& f, double a, double b, Round mode, std::uint64_t random_bits) {
  const TwoTerm s = two_sum(a, b);
  if (!std::isfinite(s.hi)) {  // an infinite operand (sums of finite values cannot overflow binary64)
    if (std::isnan(s.hi) && !any_nan(a, b)) return invalid();
    return round_exact(f, s.hi, 0, mode);
  }
  if (s.hi == 0 && s.lo == 0) {
    // Exact zero sum: IEEE gives +0, except -0 for (-0) + (-0) and for rounding down.
    const bool neg = (std::signbit(a) && std::signbit(b) && a == 0 && b == 0) ||
                     (mode == Round::Down && !(a == 0 && b == 0 && !std::signbit(a) && !std::signbit(b)));
    return {neg ? -0.0 : 0.0, 0, 0};
  }
  return round_exact(f, s.hi, s.lo, mode, random_bits);
}

Rounded sub(const Format& f, double a, double b, Round mode, std::uint64_t random_bits) {
  return add(f, a, -b, mode, random_bits);
}

Rounded mul(const Format& f, double a, double b, Round mode, std::uint64_t random_bits) {
  const TwoTerm p = two_prod(a, b);
  if (!std::isfinite(p.hi)) {
    if (std::isnan(p.hi) && !any_nan(a, b)) return invalid();
    return round_exact(f, p.hi, 0, mode);
  }
  return round_exact(f, p.hi, std::isfinite(p.lo) ? p.lo : 0, mode, random_bits);
}

Rounded div(const Format& f, double a, double b, Round mode, std::uint64_t random_bits) {
  const double q = a / b;
  if (!std::isfinite(q) || q == 0) {
    if (std::isnan(q) && !any_nan(a, b)) return invalid();
    Rounded r = round_exact(f, q, 0, mode);
    if (std::isinf(q) && std::isfinite(a) && b == 0) r.flags &= static_cast<std::uint8_t>(~kOverflow);
    return r;
  }
  // a = q·b + r exactly; the exact quotient is q + r/b, on the side of q that r/b's sign says.
  const double rem = std::fma(-q, b, a);
  return round_exact(f, q, rem == 0 ? 0.0 : rem / b, mode, random_bits);
}

Rounded sqrt(const Format& f, double a, Round mode, std::uint64_t random_bits) {
  if (std::isnan(a)) return {kNaN, 0, 0};
  if (a < 0) return invalid();
  if (a == 0 || std::isinf(a)) return round_exact(f, a, 0, mode);
  const double s = std::sqrt(a);
  const double rem = std::fma(-s, s, a);  // a - s², exact; the true root is above s iff rem > 0
  return round_exact(f, s, rem == 0 ? 0.0 : std::copysign(std::ldexp(std::fabs(s), -60), rem), mode, random_bits);
}

Rounded fma(const Format& f, double a, double b, double c, Round mode, std::uint64_t random_bits) {
  const double p = a * b;  // exact for operands with p ≤ 26 (see arithmetic.h)
  if (!std::isfinite(p) || !std::isfinite(c)) {
    const double s = p + c;
    if (std::isnan(s) && !any_nan(a, b) && !std::isnan(c)) return invalid();
    return round_exact(f, s, 0, mode);
  }
  if (p == 0 && c == 0) return add(f, p, c, mode);  // signed-zero rules of addition
  const TwoTerm s = two_sum(p, c);
  if (s.hi == 0 && s.lo == 0) return add(f, p, c, mode);
  return round_exact(f, s.hi, s.lo, mode, random_bits);
}

}  // namespace fpaudit
