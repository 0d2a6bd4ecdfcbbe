// Rules of the functions rounded from a binary64 value (theory/elementwise.md §2–§4): for
// y_c = round_T(f_64(x_c)) and ȳ = f(x̄),
//     |y_c - ȳ| ≤ T.error(M·(1+r) + a) + r·M + a  +  sup |f(x_c) - f(x̄)|
// where M bounds |f| on [lo, hi], r and a are the assumed relative and absolute errors of f_64
// (ArithmeticModel::function_rel, libm_abs), and the last term is bounded per function from its
// monotonicity, convexity or the largest |f'| on [lo - err, hi + err].
#include <cmath>
#include <limits>

#include "bounds/elementwise.h"

namespace fpaudit::bounds {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
/// Binary64 values of 1/√(2π) and 2/√π rounded up, and of √2.
constexpr double kInvSqrt2PiUp = 0.39894228040143270286;  // > 1/√(2π) = 0.398942280401432677...
constexpr double kTwoOverSqrtPiUp = 1.1283791670955128;   // > 2/√π = 1.1283791670955125738...
constexpr double kSqrt2 = 1.4142135623730951;

/// The point of [lo, hi] nearest 0.
double nearest_zero(double lo, double hi) { return lo > 0 ? lo : (hi < 0 ? hi : 0.0); }

/// Bounds of Φ(t) = erfc(-t/√2)/2: the computed argument carries two roundings, amplified by
/// erfc's condition number t² + 2, plus erfc's own error (the bound code's libm margin).
double phi_up(double t) {
  if (t >= 40) return 1;
  if (t <= -40) return 0x1p-1000;
  const double v = 0.5 * std::erfc(-t * 0.70710678118654752440);
  return v * (1 + (t * t + 2) * 0x1p-52 + 0x1p-48) + 0x1p-1000;
}
double phi_down(double t) {
  if (t <= -40) return 0;
  const double v = 0.5 * std::erfc(-t * 0.70710678118654752440);
  const double d = v * (1 - (t * t + 2) * 0x1p-52 - 0x1p-48) - 0x1p-1000;
  return d > 0 ? d : 0.0;
}
/// Bounds of φ(t) = exp(-t²/2)/√(2π).
double density_up(double t) { return up_libm(std::exp(-down(t * t) * 0.5)) * kInvSqrt2PiUp * (1 + 0x1p-52); }
double density_down(double t) {
  const double d = down_libm(std::exp(-up(t * t) * 0.5)) * 0.39894228040143265 * (1 - 0x1p-52);
  return d > 0 ? d : 0.0;
}

/// An upper bound of |GELU'(t)| = |Φ(t) + t·φ(t)| (t clamped to [-40, 40]: beyond, |GELU'|
/// moves monotonically towards its limits 0 and 1, so the clamp end bounds it).
double gelu_slope_up(double t) {
  if (t > 40) t = 40;
  if (t < -40) t = -40;
  if (t >= 0) return up(phi_up(t) + up(t * density_up(t)));
  const double pos = up(phi_up(t) - down(-t * density_down(t)));
  const double neg = up(up(-t * density_up(t)) - phi_down(t));
  return max_num(pos, neg);
}

/// An upper bound of |f| on [lo, hi].
double magnitude_up(UnaryFn f, double lo, double hi) {
  const double mag = max_num(std::fabs(lo), std::fabs(hi));
  switch (f) {
    case UnaryFn::Exp: return up_libm(std::exp(hi));
    case UnaryFn::Log: {
      if (lo <= 0) return kInf;  // log near 0 is unbounded
      return up_libm(max_num(std::fabs(std::log(lo)), std::fabs(std::log(hi))));
    }
    case UnaryFn::Tanh: return min_num(1.0, up_libm(std::tanh(mag)));
    case UnaryFn::Sigmoid: return min_num(1.0, up_libm(1 / (1 + std::exp(-hi))));
    case UnaryFn::Erf: return min_num(1.0, up_libm(std::erf(mag)));
    case UnaryFn::Gelu: {
      // |xΦ(x)| ≤ x for x ≥ 0 (Φ ≤ 1; tighter: xΦ(x) increasing), and for x < 0, |x| ≤ |lo| and
      // Φ(x) ≤ Φ(min(hi, 0)).
      double m = hi > 0 ? up(hi * phi_up(hi)) : 0.0;
      if (lo < 0) m = max_num(m, up(-lo * phi_up(min_num(hi, 0.0))));
      return m;
    }
    case UnaryFn::Sqrt: return hi > 0 ? up(std::sqrt(hi)) : 0.0;
    case UnaryFn::Reciprocal: {
      const double a = lo > 0 ? lo : (hi < 0 ? -hi : 0.0);
      return a > 0 ? up(1 / a) : kInf;
    }
    case UnaryFn::Rsqrt: return lo > 0 ? up(1 / down(std::sqrt(lo))) : kInf;
  }
  return kInf;
}

/// An upper bound of |f(x_c) - f(x̄)| over x_c ∈ [lo, hi], |x_c - x̄| ≤ e.
double propagation_up(UnaryFn f, double lo, double hi, double e) {
  if (e == 0) return 0;
  const double a = down(lo - e), b = up(hi + e);  // x̄ lies in [a, b]
  const double t = nearest_zero(a, b);
  switch (f) {
    // Convex and increasing: the largest change is at the top, e^hi·(e^e - 1).
    case UnaryFn::Exp: return up(up_libm(std::exp(hi)) * up_libm(std::expm1(e)));
    // Concave and increasing: the largest change is at the bottom, log(lo) - log(lo - e).
    case UnaryFn::Log: return lo > e ? up_libm(-std::log1p(-up(e / down(lo)))) : kInf;
    case UnaryFn::Tanh: {
      const double th = down_libm(std::tanh(std::fabs(t)));  // 1 - tanh² is largest nearest 0
      return min_num(2.0, up(up(1 - down(th * th)) * e));
    }
    case UnaryFn::Sigmoid: {
      // σ' = σ(1-σ), largest nearest 0; with σ(|t|) ≥ s ≥ 1/2, σ(1-σ) ≤ s(1-s).
      double s = down_libm(1 / (1 + std::exp(-std::fabs(t))));
      if (s < 0.5) s = 0.5;
      return min_num(1.0, up(up(s * up(1 - s)) * e));
    }
    case UnaryFn::Erf: return min_num(2.0, up(up(kTwoOverSqrtPiUp * up_libm(std::exp(-down(t * t)))) * e));
    case UnaryFn::Gelu: {
      // |GELU'| on [a, b] peaks at an end or where GELU'' = φ(t)(2 - t²) vanishes, t = ±√2.
      double s = max_num(gelu_slope_up(a), gelu_slope_up(b));
      for (const double c : {-kSqrt2, kSqrt2})
        if (a <= c && c <= b) s = max_num(s, gelu_slope_up(c));
      return up(s * e);
    }
    case UnaryFn::Sqrt: {
      // Hölder: |√x - √y| ≤ √|x - y| for x, y ≥ 0; and 1/(2√(lo - e)) when that is positive.
      const double holder = up(std::sqrt(e));
      if (a > 0) return min_num(holder, up(e / down(2 * down(std::sqrt(a)))));
      return holder;
    }
    case UnaryFn::Reciprocal: {
      // |1/x - 1/y| = |x - y| / (|x||y|), |x| ≥ a0 and |y| ≥ a0 - e.
      const double a0 = lo > 0 ? lo : (hi < 0 ? -hi : 0.0);
      const double far = down(a0 - e);
      return far > 0 ? up(e / down(a0 * far)) : kInf;
    }
    case UnaryFn::Rsqrt: {
      // d/dx x^(-1/2) = -x^(-3/2)/2, largest at the bottom lo - e.
      const double bottom = down(lo - e);
      return bottom > 0 ? up(up(0.5 * e) / down(bottom * down(std::sqrt(bottom)))) : kInf;
    }
  }
  return kInf;
}

}  // namespace

double unary_fn_bound(const ArithmeticModel& m, UnaryFn f, Operand x, Target t) {
  if (std::isnan(x.lo) || std::isnan(x.hi) || std::isnan(x.err)) return kInf;
  const RoundingTarget& target = t == Target::Storage ? m.storage : m.acc;
  const double M = magnitude_up(f, x.lo, x.hi);
  const double r = m.function_rel(f, x.magnitude());
  const double a = (f == UnaryFn::Sqrt || f == UnaryFn::Reciprocal) ? 0.0 : m.libm_abs;
  const double local = target.error(M * (1 + r) + a) + r * M + a;
  // r·M is the one undirected product (propagation_up rounds upward): §1(a)'s allowance.
  return nan_to_inf(safe_sum(local + propagation_up(f, x.lo, x.hi, x.err), 8, 1));
}

double gelu_tanh_bound(const ArithmeticModel& m, Operand x) {
  if (std::isnan(x.lo) || std::isnan(x.hi) || std::isnan(x.err)) return kInf;
  // h(x) = x/2·(1 + tanh(√(2/π)(x + 0.044715x³))): |h(x)| ≤ |x| and |h'| ≤ 1.13
  // (theory/elementwise.md §5). The kernel's binary64 evaluation g satisfies
  // |g(x) - h(x)| ≤ |x|·(2^-51 + 2^-50) + 2^-900 for every arithmetic (it calls std::tanh
  // in binary64 whatever the chain), and the chain rounds g once.
  const double mag = x.magnitude();
  const double g_err = up(mag * (0x1p-51 + 0x1p-50)) + 0x1p-900;
  const double local = m.storage.error(up(mag + g_err)) + g_err;
  return nan_to_inf(safe_sum(local + 1.13 * x.err, 8, 1));  // one product: §1(a)
}

}  // namespace fpaudit::bounds
