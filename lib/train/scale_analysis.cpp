#include "train/scale_analysis.h"

#include <cmath>

#include "format/round.h"

namespace fpaudit::train {

namespace {
/// The smallest e with 2^e·g ≥ limit (strictly above when `strict`), for g, limit > 0; exact,
/// since scaling by a power of two is exact in binary64 for the magnitudes gradients have.
int lowest_exponent(double g, double limit, bool strict) {
  int e = std::ilogb(limit) - std::ilogb(g) - 2;
  auto ok = [&](int k) { return strict ? std::ldexp(g, k) > limit : std::ldexp(g, k) >= limit; };
  while (ok(e)) --e;
  while (!ok(e)) ++e;
  return e;
}
/// The largest e with 2^e·g rounding to a finite value of the format.
int highest_exponent(double g, const Format& f) {
  int e = std::ilogb(max_finite(f)) - std::ilogb(g) + 2;
  while (!std::isfinite(round_to(f, std::ldexp(g, e)))) --e;
  while (std::isfinite(round_to(f, std::ldexp(g, e + 1)))) ++e;
  return e;
}
int middle(const ScaleRange& r) { return static_cast<int>(std::floor((r.low + r.high) / 2.0)); }
}  // namespace

LossScaleAnalysis analyse_loss_scales(const std::vector<const std::vector<double>*>& exact, const Format& storage) {
  LossScaleAnalysis a;
  double lo = INFINITY, hi = 0;
  for (const std::vector<double>* g : exact)
    for (double v : *g)
      if (v != 0) lo = std::fmin(lo, std::fabs(v)), hi = std::fmax(hi, std::fabs(v));
  if (hi == 0) return a;  // no gradient at all: every scale is as good
  a.exact_min = lo, a.exact_max = hi;
  a.no_overflow_max = highest_exponent(hi, storage);
  a.all_normal = {lowest_exponent(lo, min_normal(storage), false), a.no_overflow_max};
  // Round to nearest even sends exactly half the smallest subnormal to 0.
  a.no_flush = {lowest_exponent(lo, min_positive(storage) / 2, true), a.no_overflow_max};
  a.recommended = !a.all_normal.empty() ? middle(a.all_normal) : !a.no_flush.empty() ? middle(a.no_flush) : a.no_overflow_max;
  return a;
}

}  // namespace fpaudit::train
