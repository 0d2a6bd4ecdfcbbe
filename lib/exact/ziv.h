// Ziv's strategy with rigorous enclosures, for functions MPFR does not evaluate in one call
// (sigmoid, GELU): approximate at a working precision with a proven error bound, enclose the
// exact value, and accept when both ends of the enclosure round to the same number; otherwise
// double the precision.
//
// The acceptance test needs no assumption about the function: rounding is monotonic, so
// lo ≤ f ≤ hi and round(lo) = round(hi) imply round(f) = round(lo). It only fails to terminate
// if f is exactly a rounding boundary (a binary64 midpoint); after kMaxZivPrecision bits the
// loop throws instead. (For the functions here that would need a transcendental number to be
// a dyadic rational; it has never been observed.)
#pragma once

#include <cmath>
#include <stdexcept>

#include <mpfr.h>

#include "exact/certified.h"
#include "exact/mpfr_support.h"

namespace fpaudit::exact::detail {

inline constexpr mpfr_prec_t kMaxZivPrecision = 1 << 16;

/// An approximation's proven error: |approx - f| ≤ 2^(EXP(approx) - err_bits), EXP as MPFR
/// defines it (approx ∈ [2^(EXP-1), 2^EXP)); kNoBound when the working precision is too low
/// for the analysis to give one (the loop then only raises the precision).
using ErrorBits = long;
inline constexpr ErrorBits kNoBound = -(1L << 40);

/// Sets lo ≤ f ≤ hi from approx and its error bound (outward rounding).
inline void enclose(mpfr_srcptr approx, ErrorBits err_bits, mpfr_ptr lo, mpfr_ptr hi) {
  mpfr_set_prec(lo, mpfr_get_prec(approx));
  mpfr_set_prec(hi, mpfr_get_prec(approx));
  const mpfr_exp_t e = mpfr_get_exp(approx) - err_bits;
  mpfr_set(lo, approx, MPFR_RNDD);  // exact: same precision
  mpfr_set(hi, approx, MPFR_RNDU);
  // lo - 2^e rounded down, hi + 2^e rounded up: still an enclosure.
  MPFR_DECL_INIT(eps, 2);  // on the stack: no heap allocation per Ziv step
  mpfr_set_ui_2exp(eps, 1, e, MPFR_RNDU);  // up: an underflow must not shrink it
  mpfr_sub(lo, lo, eps, MPFR_RNDD);
  mpfr_add(hi, hi, eps, MPFR_RNDU);
}

/// Whether every number in [lo, hi] rounds to the same binary64 number (then stored in value).
inline bool pins_binary64(mpfr_srcptr lo, mpfr_srcptr hi, double& value) {
  const double a = mpfr_get_d(lo, MPFR_RNDN), b = mpfr_get_d(hi, MPFR_RNDN);
  value = a;
  return a == b && std::signbit(a) == std::signbit(b);
}

/// f correctly rounded to nearest binary64. approximate(out, prec) sets out (precision prec)
/// to a nonzero finite approximation of f and returns its ErrorBits.
template <class Approximate>
Certified ziv_binary64(Approximate&& approximate) {
  MpfrScratch& s = scratch();
  for (mpfr_prec_t prec = 64; prec <= kMaxZivPrecision; prec *= 2) {
    mpfr_set_prec(s.t[0], prec);
    const ErrorBits err = approximate(s.t[0], prec);
    if (err == kNoBound) continue;
    enclose(s.t[0], err, s.lo, s.hi);
    double value = 0;
    if (pins_binary64(s.lo, s.hi, value)) return correctly_rounded(value, false);
  }
  throw std::runtime_error("fpaudit::exact: Ziv loop undecided at the maximal precision");
}

/// f correctly rounded into out (its precision, mode rnd); returns the ternary value.
/// approximate as for ziv_binary64; the loop starts 32 bits above out's precision.
template <class Approximate>
int ziv_mpfr(mpfr_ptr out, mpfr_rnd_t rnd, Approximate&& approximate) {
  MpfrScratch& s = scratch();
  const mpfr_prec_t target = mpfr_get_prec(out);
  mpfr_t round_lo, round_hi;
  mpfr_init2(round_lo, target);
  mpfr_init2(round_hi, target);
  for (mpfr_prec_t prec = target + 32; prec <= kMaxZivPrecision + target; prec *= 2) {
    mpfr_set_prec(s.t[0], prec);
    const ErrorBits err = approximate(s.t[0], prec);
    if (err == kNoBound) continue;
    enclose(s.t[0], err, s.lo, s.hi);
    mpfr_set(round_lo, s.lo, rnd);
    mpfr_set(round_hi, s.hi, rnd);
    // Decided when both ends round alike and the result lies outside the enclosure (then its
    // side of f, the ternary value, is known too).
    if (mpfr_equal_p(round_lo, round_hi)) {
      const int ternary = mpfr_less_p(round_lo, s.lo) ? -1 : (mpfr_greater_p(round_lo, s.hi) ? 1 : 0);
      if (ternary != 0) {
        mpfr_set(out, round_lo, MPFR_RNDN);  // exact: same precision
        mpfr_clear(round_lo);
        mpfr_clear(round_hi);
        return ternary;
      }
    }
  }
  mpfr_clear(round_lo);
  mpfr_clear(round_hi);
  throw std::runtime_error("fpaudit::exact: Ziv loop undecided at the maximal precision");
}

}  // namespace fpaudit::exact::detail
