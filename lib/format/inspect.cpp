#include "format/inspect.h"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "format/round.h"

namespace fpaudit {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();

int exponent_of(double a) {  // a > 0 finite: a = 1.f × 2^e
  int e;
  (void)std::frexp(a, &e);
  return e - 1;
}
}  // namespace

ValueClass classify(const Format& f, double x) {
  if (std::isnan(x)) return ValueClass::NaN;
  if (std::isinf(x)) return ValueClass::Infinity;
  if (x == 0) return ValueClass::Zero;
  return std::fabs(x) < min_normal(f) ? ValueClass::Subnormal : ValueClass::Normal;
}

double ulp(const Format& f, double x) {
  const double a = std::fabs(x);
  if (a == 0) return min_positive(f);
  const int e = exponent_of(a);
  if (!f.subnormals && e < f.emin) return min_normal(f);
  return quantum_at_exponent(f, e);
}

UlpTable::UlpTable(const Format& f) : format_(f) {
  // Every normal binary64 exponent: 1.0 × 2^(field - 1023) stands for its whole binade.
  for (unsigned field = 1; field < 0x7FFu; ++field) {
    const double u = ulp(f, std::ldexp(1.0, static_cast<int>(field) - 1023));
    int e;
    if (std::frexp(u, &e) != 0.5 || e < -1021 || e > 1023) throw std::logic_error("UlpTable: ulp is not a power of two in 2^±1022");
    table_[field] = u;
    inverse_[field] = 1.0 / u;  // exact
  }
}

double next_up(const Format& f, double x) {
  if (std::isnan(x) || x == kInf) return x;
  if (x == -kInf) return -max_finite(f);
  if (x >= max_finite(f)) return has_infinity(f) ? kInf : std::numeric_limits<double>::quiet_NaN();
  const double r = round_to(f, x, Round::Up);
  if (r != x) return r;  // x was not representable: its upper neighbour
  // x is representable: step by the spacing above it (at a power of two, the spacing of the
  // binade that starts there, which is the larger one for positive x).
  if (x == 0) return min_positive(f);
  if (x > 0) return x + ulp(f, x);
  // x < 0: moving toward zero; at -2^e the next value is in the smaller binade.
  const double a = -x;
  const int e = exponent_of(a);
  const bool power_of_two = std::ldexp(1.0, e) == a;
  const double step = (power_of_two && e > f.emin) ? quantum_at_exponent(f, e - 1)
                      : (power_of_two && !f.subnormals && e == f.emin) ? a
                                                                       : ulp(f, a);
  const double r2 = x + step;
  return r2 == 0 ? -0.0 : r2;
}

double next_down(const Format& f, double x) { return -next_up(f, -x); }

double ulp_distance(const Format& f, double a, double b) {
  // Map each real to a "value index" on f's grid: index(x) = (number of values in (0, x]) with
  // fractional interpolation between neighbours, odd-symmetric around zero.
  auto index = [&](double x) -> double {
    const double m = std::fabs(x);
    if (m == 0) return 0;
    double idx;
    if (!f.subnormals && m < min_normal(f)) {
      idx = m / min_normal(f);  // the one step from 0 to 2^emin
    } else if (m < min_normal(f)) {
      idx = m / min_positive(f);
    } else {
      const int e = exponent_of(m);
      const double per_binade = std::ldexp(1.0, f.precision - 1);  // values in one binade
      const double below = f.subnormals ? per_binade : 1.0;        // values in (0, 2^emin]
      idx = below + (e - f.emin) * per_binade + (m / quantum_at_exponent(f, e) - per_binade);
    }
    return std::signbit(x) ? -idx : idx;
  };
  return index(b) - index(a);
}

StoreEffect store_effect(const Format& f, double x) {
  if (std::isnan(x)) return StoreEffect::NaN;
  const Rounded r = round_exact(f, x, 0, Round::NearestEven);
  if (r.flags & kOverflow) return StoreEffect::Overflow;
  if (std::isinf(x)) return has_infinity(f) ? StoreEffect::Exact : StoreEffect::Overflow;
  if (r.flags & kFlushed) return StoreEffect::UnderflowToZero;
  if (r.flags & kSubnormal) return StoreEffect::Subnormal;
  return (r.flags & kInexact) ? StoreEffect::Rounded : StoreEffect::Exact;
}

}  // namespace fpaudit
