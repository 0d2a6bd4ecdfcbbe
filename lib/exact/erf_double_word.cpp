// erf by its Taylor series in double-word arithmetic, with a proven error bound (theory/
// reference-arithmetic.md, "erf by a double-word series"):
//     erf(x) = K·x·P(x²),  K = 2/√π,  P(y) = Σ_{n≥0} c_n yⁿ,  c_n = (−1)ⁿ / (n!·(2n+1)).
// P is truncated after N terms and evaluated by Horner's rule on double-word numbers (a pair
// hi + lo, |lo| ≤ ulp(hi)/2), with the algorithms of Joldes, Muller and Popescu (ACM TOMS 44(2),
// 2017) whose relative errors are proven: the sum of two double-words (their Algorithm 6) within
// 3u² + 13u³, the product (Algorithm 12, with FMA) within 4u², u = 2⁻⁵³. The bound below charges
// every operation 8u², and y = x² is exact as a double-word (TwoProd), so
//     |p̂ − P_N(y)| ≤ (γ_{2N}(8u²)(1 + 2⁻¹⁰⁴) + 2⁻¹⁰⁴)·Σ|c_n|yⁿ    (Horner, Higham §5.1, with the
//                                                                coefficients' own rounding)
//     Σ|c_n|yⁿ ≤ e^y,   |P(y) − P_N(y)| ≤ |c_N|y^N                (alternating, decreasing terms:
//                                                                y < N + 1 on every range)
// and the two final products (by x, then by K̂) add at most 2⁻¹⁰¹·|p̂| relative. Nothing here
// relies on libm: the constants come from MPFR, rounded in the safe direction.
#include "exact/erf_double_word.h"

#include <array>
#include <cmath>

#include <mpfr.h>

#include "exact/double_word.h"
#include "exact/fp_environment.h"
#include "exact/mpfr_support.h"

namespace fpaudit::exact::detail {

namespace {

// ---- the constants, from MPFR at 256 bits --------------------------------------------------

constexpr int kMaxTerms = 72;

/// One range of |x|: [lo, hi), the terms kept, and the relative error of P there.
struct Range {
  double lo, hi;
  int terms;
  double p_error;  ///< bound on |p̂ − P(y)| over the range (P ≥ P(9) > 0.29 there)
};

struct Constants {
  std::array<Dw, kMaxTerms> c{};
  Dw k;
  std::array<Range, 5> ranges{{{0x1p-30, 0x1p-8, 8, 0}, {0x1p-8, 0.5, 20, 0}, {0.5, 1, 28, 0}, {1, 2, 48, 0}, {2, 3, 72, 0}}};
};

Constants make_constants() {
  MpfrEnvironment env;  // the caller's MPFR exponent range and flags come back unchanged
  Constants k;
  mpfr_t a, b, f;
  mpfr_inits2(256, a, b, f, static_cast<mpfr_ptr>(nullptr));
  // c_n = (−1)ⁿ / (n!(2n+1)).
  mpfr_set_ui(f, 1, MPFR_RNDN);  // n!
  for (int n = 0; n < kMaxTerms; ++n) {
    if (n > 0) mpfr_mul_ui(f, f, static_cast<unsigned long>(n), MPFR_RNDN);  // within 2^-255 relative
    mpfr_mul_ui(a, f, static_cast<unsigned long>(2 * n + 1), MPFR_RNDN);
    mpfr_ui_div(a, 1, a, MPFR_RNDN);
    if (n % 2) mpfr_neg(a, a, MPFR_RNDN);
    k.c[static_cast<std::size_t>(n)] = to_dw(a, b);
  }
  // K = 2/√π.
  mpfr_const_pi(a, MPFR_RNDN);
  mpfr_rec_sqrt(a, a, MPFR_RNDN);
  mpfr_mul_ui(a, a, 2, MPFR_RNDN);
  k.k = to_dw(a, b);
  // Per range: (γ_{2N}(8u²)(1 + 2⁻¹⁰⁴) + 2⁻¹⁰⁴)·e^Y + Y^N / (N!(2N+1)), Y = hi², all upward.
  // The 256-bit roundings of n! and of the c_n (relative 2⁻²⁵⁵) are far inside the 2⁻¹⁰⁴ charged.
  for (Range& r : k.ranges) {
    const double y = r.hi * r.hi;  // exact: hi is 2⁻⁸ or a small integer or 1/2
    const auto n = static_cast<unsigned long>(r.terms);
    horner_error_factor(a, b, 2L * r.terms);
    multiply_by_exp(a, b, y);                              // … · e^Y
    add_power_over_factorial(a, b, f, y, n, n, 2 * n + 1);  // + Y^N / (N!(2N+1))
    r.p_error = mpfr_get_d(a, MPFR_RNDU);
  }
  mpfr_clears(a, b, f, static_cast<mpfr_ptr>(nullptr));
  return k;
}

const Constants& constants() {
  static const Constants k = make_constants();
  return k;
}

}  // namespace

bool erf_double_word(double x, double& value) {
  const double ax = std::fabs(x);
  if (!(ax >= 0x1p-30 && ax < 3)) return false;
  DefaultFloatingPointEnvironment fp_env;  // the proofs assume binary64 to nearest, no FTZ/DAZ
  const Constants& k = constants();
  const Range* r = &k.ranges[0];
  while (!(ax < r->hi)) ++r;
  const Dw y = two_prod(ax, ax);  // x² exactly (no underflow: x² ≥ 2⁻⁶⁰)
  Dw p = k.c[static_cast<std::size_t>(r->terms - 1)];
  for (int n = r->terms - 2; n >= 0; --n) p = add(mul(p, y), k.c[static_cast<std::size_t>(n)]);
  const Dw v = mul(mul(p, {ax, 0.0}), k.k);
  // E ≥ K·|x|·(|p̂ − P(y)| + 2⁻¹⁰¹·|p̂|): K < 1.13, 2⁻⁹⁷·|p̂.hi| > 2⁻¹⁰¹·|p̂|; the factor
  // 1 + 2⁻⁴⁰ covers this expression's own roundings.
  const double e = 1.13 * ax * (r->p_error + std::fabs(p.hi) * 0x1p-97) * (1 + 0x1p-40);
  // erf(|x|) ∈ [v − E, v + E] rounds to v.hi when that interval stays between two boundaries.
  if (!pins_hi(v, e)) return false;
  const double h = v.hi;
  value = x < 0 ? -h : h;
  return true;
}

}  // namespace fpaudit::exact::detail
