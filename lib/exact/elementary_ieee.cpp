// The functions IEEE 754 hardware already rounds correctly (sqrt, division, and the powers
// reducible to them): the value costs one instruction; the certificate of exactness is an
// FMA residual, which is itself exact and nonzero whenever the result is inexact, as long
// as the residual's grid stays above 2^-1074 (checked; MPFR decides the rare tiny cases).
#include <cmath>
#include <limits>

#include "exact/elementary.h"
#include "exact/fp_environment.h"
#include "exact/mpfr_support.h"

namespace fpaudit::exact {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

/// The residual a·b - c is a multiple of 2^(ilogb(a) - 52 + ilogb(b) - 52); when that grid is
/// at least 2^-1074, a nonzero residual cannot round to zero, so fma(a, b, -c) == 0 decides
/// a·b == c. a, b finite and nonzero.
bool residual_decides(double a, double b) { return std::ilogb(a) + std::ilogb(b) >= -970; }

}  // namespace

Certified sqrt_rn(double x) {
  detail::DefaultFloatingPointEnvironment fp_env;
  const double q = std::sqrt(x);
  if (!std::isfinite(q) || q == 0) return {q, 0.0};  // NaN (x < 0), +Inf, ±0: exact
  if (residual_decides(q, q)) return correctly_rounded(q, std::fma(q, q, -x) == 0);
  detail::MpfrEnvironment env;
  mpfr_ptr r = detail::scratch().result;
  return detail::binary64_from_rz64(r, mpfr_sqrt(r, detail::exact_arg(x), MPFR_RNDZ));
}

Certified div_rn(double a, double b) {
  detail::DefaultFloatingPointEnvironment fp_env;
  const double q = a / b;
  if (std::isnan(q)) return {q, 0.0};
  // Exact by IEEE's definition: a/0 = ±Inf, Inf/finite = ±Inf, finite/Inf = ±0, 0/b = ±0.
  if (b == 0 || std::isinf(a) || std::isinf(b) || a == 0) return {q, 0.0};
  if (std::isinf(q)) return {q, kInf};                       // overflow of a finite quotient
  if (q == 0) return {q, std::numeric_limits<double>::denorm_min()};  // underflow to zero
  if (residual_decides(q, b)) return correctly_rounded(q, std::fma(q, b, -a) == 0);
  detail::MpfrEnvironment env;
  detail::MpfrScratch& s = detail::scratch();
  mpfr_set_prec(s.t[1], 53);
  mpfr_set_d(s.t[1], b, MPFR_RNDN);
  return detail::binary64_from_rz64(s.result, mpfr_div(s.result, detail::exact_arg(a), s.t[1], MPFR_RNDZ));
}

PowConstant::PowConstant(double c) : c_(c), kind_(Kind::General) {
  if (c == 0) kind_ = Kind::One;
  else if (c == 1) kind_ = Kind::Identity;
  else if (c == 2) kind_ = Kind::Square;
  else if (c == -1) kind_ = Kind::Reciprocal;
  else if (c == 0.5) kind_ = Kind::Sqrt;
  else if (c == -0.5) kind_ = Kind::Rsqrt;
}

Certified PowConstant::operator()(double x) const {
  detail::DefaultFloatingPointEnvironment fp_env;
  switch (kind_) {
    case Kind::One: return {1.0, 0.0};  // pow(x, ±0) = 1 for every x, NaN included
    case Kind::Identity: return {x, 0.0};
    case Kind::Square: {
      const double q = x * x;
      if (std::isnan(q) || q == 0 || std::isinf(x)) return {q, 0.0};
      if (std::isinf(q)) return {q, kInf};
      if (residual_decides(x, x)) return correctly_rounded(q, std::fma(x, x, -q) == 0);
      return pow_rn(x, 2.0);
    }
    case Kind::Reciprocal: return div_rn(1.0, x);
    case Kind::Sqrt:
      // pow differs from sqrt at -0 (pow gives +0) and -Inf (pow gives +Inf).
      if (x == 0) return {0.0, 0.0};
      if (x == -kInf) return {kInf, 0.0};
      return sqrt_rn(x);
    case Kind::Rsqrt:
      if (x == 0) return {kInf, 0.0};     // pow(±0, -0.5) = +Inf
      if (x == -kInf) return {0.0, 0.0};  // pow(-Inf, -0.5) = +0
      return rsqrt_rn(x);
    case Kind::General: break;
  }
  return pow_rn(x, c_);
}

}  // namespace fpaudit::exact
