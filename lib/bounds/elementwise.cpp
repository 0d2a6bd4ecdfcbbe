// Rules of the arithmetic and piecewise-linear elementwise operators (theory/elementwise.md §6–§8).
#include "bounds/elementwise.h"

#include <cmath>
#include <limits>

namespace fpaudit::bounds {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

bool any_nan(Operand x) { return std::isnan(x.lo) || std::isnan(x.hi) || std::isnan(x.err); }

/// The largest |v| over v ∈ {a, b} rounded up: the magnitude bound of a quantity monotone on
/// the enclosure, evaluated at its two ends.
double max_abs_up(double a, double b) { return up(max_num(std::fabs(a), std::fabs(b))); }

/// The smallest |x| over [lo, hi] (0 when the interval holds 0).
double min_abs(Operand x) { return x.lo > 0 ? x.lo : (x.hi < 0 ? -x.hi : 0.0); }

/// The finished bound: the safety factor for the few binary64 operations of a rule, with the
/// underflow allowance of its `products` undirected multiplications and divisions
/// (theory/bounds-arithmetic.md §1(a)), NaN (from 0·Inf) made +Inf.
double finish(double b, long products) { return nan_to_inf(safe_sum(b, 16, products)); }

}  // namespace

double leaky_relu_bound(const ArithmeticModel& m, Operand x, double alpha) {
  if (any_nan(x)) return kInf;
  // Lipschitz max(1, |alpha|); round_S(alpha·x) is one rounding of an exact product (two_prod).
  const double a = std::fabs(alpha);
  const double local = x.lo < 0 ? m.storage.error(up(a * -x.lo)) : 0.0;
  return finish(local + max_num(1.0, a) * x.err, 1);
}

double hard_sigmoid_bound(const ArithmeticModel& m, Operand x, double alpha, double beta) {
  if (any_nan(x)) return kInf;
  // fma(alpha, x, beta) in lib/format rounds alpha·x to binary64 first, then alpha·x + beta to S.
  const double a = std::fabs(alpha), xm = x.magnitude();
  const double product_err = up(a * xm) * 0x1p-53 + 0x1p-1074;
  const double v = up(max_abs_up(alpha * x.lo + beta, alpha * x.hi + beta) + product_err);
  const double local = m.storage.error(v) + product_err;
  // Both results lie in [0, 1].
  return min_num(1.0 * safety(2), finish(local + a * x.err, 1));
}

double hard_swish_bound(const ArithmeticModel& m, Operand x) {
  if (any_nan(x)) return kInf;
  // h(x) = x·g(x), g(x) = clamp(x/6 + 1/2, 0, 1): |h'| ≤ max(1, β, 2 - β) = 3/2 (β = 1/2).
  // The chain's g_c differs from g(x_c) by at most ρ (the inner fma's two roundings, ≤ 1),
  // then x_c·g_c is rounded once: |y_c - h(x_c)| ≤ |x_c|·ρ + u_S·|x_c| + η_S.
  constexpr double kSixth = 1.0 / 6.0;
  const double xm = x.magnitude();
  const double product_err = up(kSixth * xm) * 0x1p-53 + 0x1p-1074;
  const double v = up(max_abs_up(kSixth * x.lo + 0.5, kSixth * x.hi + 0.5) + product_err);
  const double rho = min_num(1.0, up(m.storage.error(v) + product_err));
  const double local = up(xm * rho) + m.storage.error(xm);
  return finish(local + 1.5 * x.err, 1);
}

double clip_bound(const ArithmeticModel& m, Operand x, double lo, double hi) {
  if (any_nan(x)) return kInf;
  // The chain clamps at round_S(lo), round_S(hi), the exact network at lo, hi; clamping is
  // 1-Lipschitz and moving the ends by at most δ moves the result by at most δ.
  const double dlo = std::isfinite(lo) ? m.storage.error(std::fabs(lo)) : 0.0;
  const double dhi = std::isfinite(hi) ? m.storage.error(std::fabs(hi)) : 0.0;
  const double b = finish(max_num(dlo, dhi) + x.err, 0);
  // Both values lie in [lo - dlo, hi + dhi].
  const double width = up(up(hi + dhi) - down(lo - dlo));
  return min_num(b, width);
}

static double add_rule(const ArithmeticModel& m, Operand x, Operand z, bool subtract) {
  if (any_nan(x) || any_nan(z)) return kInf;
  // x ± z ranges over [x.lo ± z.(lo|hi), x.hi ± z.(hi|lo)]: its magnitude is at an end.
  const double mag = subtract ? max_abs_up(x.lo - z.hi, x.hi - z.lo) : max_abs_up(x.lo + z.lo, x.hi + z.hi);
  return finish(m.storage.error(mag) + x.err + z.err, 0);
}

static double mul_rule(const ArithmeticModel& m, Operand x, Operand z) {
  if (any_nan(x) || any_nan(z)) return kInf;
  const double xm = x.magnitude(), zm = z.magnitude();
  // x̄z̄ - x_c z_c = x_c(z̄ - z_c) + (x̄ - x_c)z_c + (x̄ - x_c)(z̄ - z_c).
  const double prop = xm * z.err + x.err * zm + x.err * z.err;
  return finish(m.storage.error(up(xm * zm)) + prop, 3);
}

static double div_rule(const ArithmeticModel& m, Operand x, Operand z) {
  if (any_nan(x) || any_nan(z)) return kInf;
  // |x/z - x̄/z̄| = |x(z̄ - z) - (x̄ - x)z| / (|z||z̄|), |z| ≥ zmin and |z̄| ≥ zmin - err_z.
  const double zmin = down(min_abs(z));
  const double far = down(zmin - z.err);
  if (!(far > 0)) return kInf;
  const double xm = x.magnitude();
  const double prop = up(xm * z.err) / down(zmin * far) + x.err / far;
  return finish(m.storage.error(up(xm / zmin)) + prop, 2);
}

static double pow_rule(const ArithmeticModel& m, Operand x, Operand ex) {
  if (any_nan(x) || any_nan(ex)) return kInf;
  if (ex.lo != ex.hi || ex.err != 0) {
    // A varying or inexact exponent: only for positive bases, through d/de x^e = x^e·log x.
    const double b_lo = down(x.lo - x.err), b_hi = up(x.hi + x.err);
    if (!(b_lo > 0)) return kInf;
    const double e_lo = down(ex.lo - ex.err), e_hi = up(ex.hi + ex.err);
    double top = 0;  // the largest x^e over the box: at a corner (x^e is monotone in each)
    for (double b : {b_lo, b_hi})
      for (double e : {e_lo, e_hi}) top = max_num(top, up_libm(std::pow(b, e)));
    const double logmax = up_libm(max_num(std::fabs(std::log(b_lo)), std::fabs(std::log(b_hi))));
    const double slope_x = up(max_num(std::fabs(e_lo), std::fabs(e_hi)) * top / b_lo);  // |e|x^(e-1) ≤ |e|·top/x
    const double prop = slope_x * x.err + up(top * logmax) * ex.err;
    const double local = m.storage.error(up(top * (1 + m.libm_rel))) + up(top * m.libm_rel) + m.libm_abs;
    return finish(local + prop, 2);
  }
  const double e = ex.lo;
  const bool integer = e == std::nearbyint(e);
  // Non-integer powers of negative bases are NaN in both: only x, x̄ ≥ 0 are checked.
  const double lo = integer ? x.lo : max_num(x.lo, 0.0);
  const double hi = x.hi;
  if (hi < lo) return 0;  // no finite case to bound
  const Operand base{lo, hi, x.err};
  const double xmag = base.magnitude(), xmin = min_abs(base);
  // |x_c^e| on [lo, hi].
  double M;
  if (e == 0) M = 1;
  else if (e > 0) M = up_libm(std::pow(xmag, e));
  else M = xmin > 0 ? up_libm(std::pow(down(xmin), e)) : kInf;
  // Arithmetic::pow: e = 2 is x·x, e = 1 exact, e = 1/2 sqrt and e = -1 a division (correctly
  // rounded); every other exponent rounds the binary64 pow.
  const bool correctly_rounded = e == 2 || e == 1 || e == 0.5 || e == -1 || e == 0;
  const double r = correctly_rounded ? 0.0 : m.libm_rel;
  const double a = correctly_rounded ? 0.0 : m.libm_abs;
  const double local = e == 1 || e == 0 ? 0.0 : m.storage.error(up(M * (1 + r) + a)) + r * M + a;
  // Propagation: x̄ ∈ [lo - err, hi + err] (≥ 0 when e is not an integer).
  double prop = 0;
  if (x.err > 0 && e != 0) {
    const double b_lo = integer ? down(lo - x.err) : max_num(0.0, down(lo - x.err));
    const double b_hi = up(hi + x.err);
    const double bmax = max_num(std::fabs(b_lo), std::fabs(b_hi));
    const double bmin = b_lo > 0 ? b_lo : (b_hi < 0 ? -b_hi : 0.0);
    const double ae = std::fabs(e);
    if (e >= 1) {
      prop = up(ae * up_libm(std::pow(bmax, e - 1))) * x.err;  // |e|·|t|^(e-1), largest at the top
    } else if (e > 0) {
      // Hölder: |s^e - t^e| ≤ |s - t|^e for s, t ≥ 0; or the slope at the bottom.
      prop = up_libm(std::pow(x.err, e));
      if (bmin > 0) prop = min_num(prop, up(ae * up_libm(std::pow(bmin, e - 1))) * x.err);
    } else {
      prop = bmin > 0 ? up(ae * up_libm(std::pow(bmin, e - 1))) * x.err : kInf;
    }
  }
  // r·M in local, one product in prop.
  return finish(local + prop, 2);
}

static double prelu_rule(const ArithmeticModel& m, Operand x, Operand slope) {
  if (any_nan(x) || any_nan(slope)) return kInf;
  // Same side: err_x, or |s_c x_c - s̄ x̄| ≤ |s_c|err_x + err_s|x_c| + err_s·err_x. Opposite
  // sides (x_c ≥ 0 > x̄ or the reverse): both |x_c|, |x̄| ≤ err_x, so at most max(1, |s̄|)·err_x.
  const double s = slope.magnitude();
  const double neg = x.lo < 0 ? -x.lo : 0.0;
  const double prop = max_num(1.0, up(s + slope.err)) * x.err + slope.err * neg;
  const double local = neg > 0 ? m.storage.error(up(s * neg)) : 0.0;
  return finish(local + prop, 2);
}

// The one-element entry points (bounds/elementwise.h). The bodies above are internal (static) so
// that rule_row below can inline them: an exported function may be interposed, and GCC does not
// inline it under -fPIC.
double add_bound(const ArithmeticModel& m, Operand x, Operand z, bool subtract) { return add_rule(m, x, z, subtract); }
double mul_bound(const ArithmeticModel& m, Operand x, Operand z) { return mul_rule(m, x, z); }
double div_bound(const ArithmeticModel& m, Operand x, Operand z) { return div_rule(m, x, z); }
double pow_bound(const ArithmeticModel& m, Operand x, Operand e) { return pow_rule(m, x, e); }
double prelu_bound(const ArithmeticModel& m, Operand x, Operand slope) { return prelu_rule(m, x, slope); }

namespace {

/// The loop of binary_bound_row for one rule. `flatten` inlines the rule (and what it calls) into
/// the loop; the cases by step let a broadcast operand be loaded once and dense rows run
/// without a multiply per index. Every element is the rule's value at the same operands.
/// (Rule is a lambda, one type per rule, so that its call is direct.)
template <class Rule>
__attribute__((flatten)) void rule_row(Rule rule, const ArithmeticModel& m, OperandRow x, OperandRow z, std::int64_t n,
                                       double* __restrict out) {
  if (x.step == 1 && z.step == 1) {
    for (std::int64_t j = 0; j < n; ++j) out[j] = rule(m, {x.lo[j], x.hi[j], x.err[j]}, {z.lo[j], z.hi[j], z.err[j]});
  } else if (x.step == 1 && z.step == 0) {
    const Operand zc{z.lo[0], z.hi[0], z.err[0]};
    for (std::int64_t j = 0; j < n; ++j) out[j] = rule(m, {x.lo[j], x.hi[j], x.err[j]}, zc);
  } else if (x.step == 0 && z.step == 1) {
    const Operand xc{x.lo[0], x.hi[0], x.err[0]};
    for (std::int64_t j = 0; j < n; ++j) out[j] = rule(m, xc, {z.lo[j], z.hi[j], z.err[j]});
  } else {
    for (std::int64_t j = 0; j < n; ++j) {
      const std::int64_t a = j * x.step, b = j * z.step;
      out[j] = rule(m, {x.lo[a], x.hi[a], x.err[a]}, {z.lo[b], z.hi[b], z.err[b]});
    }
  }
}

}  // namespace

void binary_bound_row(BinaryRuleOp op, const ArithmeticModel& m, OperandRow x, OperandRow z, std::int64_t n, double* out) {
  switch (op) {
    case BinaryRuleOp::Add:
      return rule_row([](const ArithmeticModel& mm, Operand a, Operand b) { return add_rule(mm, a, b, false); }, m, x, z, n, out);
    case BinaryRuleOp::Sub:
      return rule_row([](const ArithmeticModel& mm, Operand a, Operand b) { return add_rule(mm, a, b, true); }, m, x, z, n, out);
    case BinaryRuleOp::Mul:
      return rule_row([](const ArithmeticModel& mm, Operand a, Operand b) { return mul_rule(mm, a, b); }, m, x, z, n, out);
    case BinaryRuleOp::Div:
      return rule_row([](const ArithmeticModel& mm, Operand a, Operand b) { return div_rule(mm, a, b); }, m, x, z, n, out);
    case BinaryRuleOp::Pow:
      return rule_row([](const ArithmeticModel& mm, Operand a, Operand b) { return pow_rule(mm, a, b); }, m, x, z, n, out);
    case BinaryRuleOp::PRelu:
      return rule_row([](const ArithmeticModel& mm, Operand a, Operand b) { return prelu_rule(mm, a, b); }, m, x, z, n, out);
  }
}

}  // namespace fpaudit::bounds
