#include "core/rounding_model.h"

#include <cmath>
#include <limits>

#include "core/arithmetic.h"

namespace fpaudit::bounds {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

/// Half the spacing of the subnormals (or, without them, the smallest normal): the most an
/// underflowing rounding to nearest can add in absolute terms.
double eta_of(const Format& f) { return f.subnormals ? 0.5 * min_positive(f) : min_normal(f); }

RoundingTarget target_of(const Format& f) {
  return {unit_roundoff(f), eta_of(f), max_finite(f), f.overflow == OverflowPolicy::Saturate};
}

/// binary64 as the references round into it; `extra` covers a preceding rounding at higher
/// precision (MPFR at BITS bits, then to binary64: double rounding).
RoundingTarget binary64_target(double extra) {
  return {0x1p-53 + extra, 0x1p-1074, std::numeric_limits<double>::max(), false};
}

/// What both references share: binary64 values, sums ending in binary64, sequential order.
ArithmeticModel reference_base() {
  ArithmeticModel m;
  m.schedule = DotSchedule::sequential();
  m.reference = true;
  m.sum_rounded_to_storage = true;
  return m;
}

}  // namespace

ArithmeticModel ArithmeticModel::of(const Arithmetic& a) { return a.rounding_model(); }

ArithmeticModel ArithmeticModel::chain(const Format& storage, const Format& accumulator, DotSchedule schedule) {
  ArithmeticModel m;
  m.schedule = schedule;
  m.storage = target_of(storage);
  m.acc = target_of(accumulator);
  m.u_sum = m.acc.u;
  m.eta_sum = m.acc.eta;
  m.storage_differs = !(storage == accumulator);
  m.libm_rel = 0x1p-51;
  m.libm_abs = 0x1p-900;
  m.composite_u = 0x1p-53;
  return m;
}

ArithmeticModel ArithmeticModel::exact_reference() {
  ArithmeticModel m = reference_base();
  m.storage = m.acc = binary64_target(0);
  m.exact_sums = true;
  m.composite_u = 0x1p-256;
  return m;
}

ArithmeticModel ArithmeticModel::mpfr_reference(int bits) {
  ArithmeticModel m = reference_base();
  const double fine = std::ldexp(1.0, -bits);
  m.storage = m.acc = binary64_target(2 * fine);
  m.u_sum = fine;
  m.libm_rel = fine;
  m.composite_u = fine;
  return m;
}

double ArithmeticModel::function_rel(UnaryFn f, double x_magnitude) const {
  switch (f) {
    case UnaryFn::Sqrt:
    case UnaryFn::Reciprocal: return reference ? libm_rel : 0.0;  // correctly rounded in the chains
    case UnaryFn::Exp:
    case UnaryFn::Log:
    case UnaryFn::Tanh:
    case UnaryFn::Erf: return libm_rel;
    // 1/(1+e^-x) or e^x/(1+e^x): exp, one addition, one division (theory/elementwise.md §3).
    case UnaryFn::Sigmoid: return 2 * libm_rel + 3 * composite_u;
    // x/2·erfc(-x/√2): the argument's two roundings are amplified by erfc's condition number
    // |z·erfc'(z)/erfc(z)| ≤ 2z² + 2 = x² + 2, then one product. Beyond |x| = 40, erfc(-x/√2)
    // is below 2^-1074 (or within 2^-1074 of 2) and the absolute term libm_abs takes over.
    case UnaryFn::Gelu: {
      const double x = x_magnitude < 40 ? x_magnitude : 40;
      return libm_rel + (x * x + 3) * 2 * composite_u;
    }
    case UnaryFn::Rsqrt: return libm_rel + 3 * composite_u;  // 1/sqrt(x): two roundings
  }
  return kInf;
}

}  // namespace fpaudit::bounds
