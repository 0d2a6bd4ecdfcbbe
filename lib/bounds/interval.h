// A closed interval [lo, hi] of reals with outward-rounded binary64 arithmetic: every result
// contains every value the exact operation can take on its operands (theory/bounds-arithmetic.md
// §1). The normalisation rules use it to enclose the rounded constants and intermediate values
// of a chain they cannot recompute bit for bit.
#pragma once

#include <cmath>

#include "bounds/transfer.h"

namespace fpaudit::bounds {

struct Interval {
  double lo = 0, hi = 0;

  static Interval point(double x) { return {x, x}; }
  /// [x - r, x + r], rounded outward.
  static Interval around(double x, double r) { return {down(x - r), up(x + r)}; }
  double magnitude() const { return max_num(std::fabs(lo), std::fabs(hi)); }
  /// The smallest |v| over the interval (0 when it holds 0).
  double mignitude() const { return lo > 0 ? lo : (hi < 0 ? -hi : 0.0); }

  friend Interval operator+(Interval a, Interval b) { return {down(a.lo + b.lo), up(a.hi + b.hi)}; }
  friend Interval operator-(Interval a, Interval b) { return {down(a.lo - b.hi), up(a.hi - b.lo)}; }
  friend Interval operator*(Interval a, Interval b) {
    const double p[4] = {a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi};
    double lo = p[0], hi = p[0];
    for (double v : p) {
      lo = min_num(lo, v);
      hi = max_num(hi, v);
    }
    return {down(lo), up(hi)};
  }
  /// Widened by r on both sides.
  Interval widen(double r) const { return {down(lo - r), up(hi + r)}; }
};

}  // namespace fpaudit::bounds
