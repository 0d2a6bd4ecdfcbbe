#include "bounds/model.h"

#include <cmath>
#include <limits>

#include "kernels/reference_arithmetic.h"

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

}  // namespace

ArithmeticModel ArithmeticModel::of(const Arithmetic& a) {
  ArithmeticModel m;
  m.schedule = a.schedule();
  if (a.is_reference()) {
    m.reference = true;
    m.sum_rounded_to_storage = true;
    if (const auto* mp = dynamic_cast<const MpfrArithmetic*>(&a)) {
      // Every operation at BITS ≥ 64 bits, then rounded to binary64; sums step by step at BITS.
      const double fine = std::ldexp(1.0, -mp->bits());
      m.storage = m.acc = binary64_target(2 * fine);
      m.u_sum = fine;
      m.libm_rel = fine;
      m.composite_u = fine;
    } else {
      // ExactArithmetic: every operation (sums, dot products, elementary functions) correctly
      // rounded to binary64 once; sigmoid and GELU are computed at 256 bits first.
      m.storage = m.acc = binary64_target(0);
      m.exact_sums = true;
      m.composite_u = 0x1p-256;
    }
    return m;
  }
  m.storage = target_of(a.storage());
  m.acc = target_of(a.accumulator());
  m.u_sum = m.acc.u;
  m.eta_sum = m.acc.eta;
  m.storage_differs = !(a.storage() == a.accumulator());
  m.libm_rel = 0x1p-51;
  m.libm_abs = 0x1p-900;
  m.composite_u = 0x1p-53;
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

double rounding_growth(long k, double u) {
  if (k <= 0 || u == 0) return 0;
  // (1+u)^k by binary powering: 1+u is exact, and the rounding errors of the squarings and
  // products enter with total multiplicity at most 2k + 64, so the true power is at most the
  // computed one times 1 + γ_{2k+64}(2^-53) (theory/bounds-arithmetic.md §2).
  double result = 1, base = 1 + u;
  for (long e = k; e > 0; e >>= 1) {
    if (e & 1) result *= base;
    if (e > 1) base *= base;
  }
  const double up = result * (1 + 2 * gamma(2 * k + 66, 0x1p-53));
  const double powering = (up - 1) * (1 + 0x1p-52);
  // γ_k = ku/(1-ku), with ku and 1-ku exact, rounded up: the classical bound, when finite.
  const double ku = static_cast<double>(k) * u;
  const double classical = ku < 1 ? ku / (1 - ku) * (1 + 0x1p-52) : kInf;
  return min_num(powering, classical);
}

double gamma_probabilistic(long k, double u, double lambda) {
  const double x = lambda * std::sqrt(static_cast<double>(k)) * u + static_cast<double>(k) * u * u / (1 - u);
  // expm1 and the few operations above are accurate to a few ulps; the margin covers them
  // (theory/bounds-arithmetic.md §3).
  return std::expm1(x) * (1 + (1 + x) * 0x1p-47);
}

double probabilistic_failure(long terms, double u, double lambda) {
  const double p = 2.0 * static_cast<double>(terms) * std::exp(-lambda * lambda * (1 - u) * (1 - u) / 2) * (1 + 0x1p-47);
  return p < 1 ? p : 1.0;
}

}  // namespace fpaudit::bounds
