// The piecewise-constant functions of the exact run-time operators (Sign, Ceil, Floor, Round)
// and the comparisons, defined once: the kernels compute them (lib/kernels/ops) and the bound
// rules evaluate them at the ends of a widened interval (lib/bounds/rules/runtime_select.cpp) to
// see whether a step lies inside it.
#pragma once

#include <cmath>

namespace fpaudit::step {

inline double sign(double x) { return x > 0 ? 1.0 : x < 0 ? -1.0 : x; }  // keeps ±0 and NaN
inline double ceil_value(double x) { return std::ceil(x); }
inline double floor_value(double x) { return std::floor(x); }
/// Round half to even, as ONNX's Round, independent of the floating-point environment. For
/// |x| < 2^52, x - floor(x) is exact; beyond, x is an integer already.
inline double round_half_even(double x) {
  if (!std::isfinite(x)) return x;
  const double f = std::floor(x);
  const double frac = x - f;
  double r = f;
  if (frac > 0.5 || (frac == 0.5 && std::fmod(f, 2.0) != 0)) r = f + 1;
  return r == 0 ? std::copysign(0.0, x) : r;
}

enum class Cmp { Equal, Greater, GreaterOrEqual, Less, LessOrEqual };

/// a op b for the comparison operators (IEEE: false on a NaN operand).
template <Cmp C>
bool holds(double a, double b) {
  if constexpr (C == Cmp::Equal) return a == b;
  if constexpr (C == Cmp::Greater) return a > b;
  if constexpr (C == Cmp::GreaterOrEqual) return a >= b;
  if constexpr (C == Cmp::Less) return a < b;
  return a <= b;
}

}  // namespace fpaudit::step
