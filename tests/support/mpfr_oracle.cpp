#include "support/mpfr_oracle.h"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace fpaudit::testing {

mpfr_rnd_t to_mpfr(Round mode) {
  switch (mode) {
    case Round::NearestEven: return MPFR_RNDN;
    case Round::TowardZero: return MPFR_RNDZ;
    case Round::Up: return MPFR_RNDU;
    case Round::Down: return MPFR_RNDD;
    case Round::Stochastic: break;
  }
  throw std::invalid_argument("MPFR has no stochastic rounding");
}

bool same_value(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return a == b && std::signbit(a) == std::signbit(b);
}

namespace {

/// Sets MPFR's exponent range to the format's for the lifetime of the object. MPFR writes
/// numbers as 0.1b × 2^e, one above the 1.b × 2^e convention of Format.
class FormatRange {
 public:
  explicit FormatRange(const Format& f) : old_emin_(mpfr_get_emin()), old_emax_(mpfr_get_emax()) {
    // With subnormals, the smallest positive value 2^(emin-p+1) is written 0.1b × 2^(emin-p+2).
    mpfr_set_emin(f.subnormals ? f.emin - f.precision + 2 : f.emin + 1);
    // E4M3 has finite values in the top binade but not all of them: MPFR's emax admits the
    // whole binade and the clamp to 448 happens after (see finish()).
    mpfr_set_emax(f.emax + 1);
  }
  ~FormatRange() {
    mpfr_set_emin(old_emin_);
    mpfr_set_emax(old_emax_);
  }

 private:
  mpfr_exp_t old_emin_, old_emax_;
};

OracleResult finish(const Format& f, mpfr_ptr r, int inex, Round mode) {
  const mpfr_rnd_t rnd = to_mpfr(mode);
  inex = mpfr_check_range(r, inex, rnd);
  if (f.subnormals) inex = mpfr_subnormalize(r, inex, rnd);
  double v = mpfr_get_d(r, MPFR_RNDN);  // exact: r has p ≤ 26 bits
  const int sign = inex > 0 ? 1 : (inex < 0 ? -1 : 0);
  if (f.encoding == Encoding::FiniteNanOnly && !std::isnan(v) && std::fabs(v) > max_finite(f)) {
    // An exact infinity (x/0, an infinite operand) is no rounding: NaN without saturation.
    if (std::isinf(v) && inex == 0 && f.overflow == OverflowPolicy::NaN)
      return {std::numeric_limits<double>::quiet_NaN(), 0};
    // Rounded beyond 448 (or to infinity): apply the E4M3 overflow rules.
    const bool toward_zero = mode == Round::TowardZero || (mode == Round::Up && v < 0) ||
                             (mode == Round::Down && v > 0);
    if (toward_zero || f.overflow == OverflowPolicy::Saturate)
      return {std::copysign(max_finite(f), v), v > 0 ? -1 : 1};
    return {std::numeric_limits<double>::quiet_NaN(), 0};
  }
  return {v, sign};
}

}  // namespace

OracleResult mpfr_oracle_round(const Format& f, mpfr_srcptr x, Round mode) {
  // The value is rounded to p bits in MPFR's wide exponent range first; narrowing the range,
  // mpfr_check_range and mpfr_subnormalize then apply overflow and gradual underflow, using
  // the ternary value to avoid double rounding (as MPFR documents for this pattern).
  mpfr_t r;
  mpfr_init2(r, f.precision);
  const int inex = mpfr_set(r, x, to_mpfr(mode));
  OracleResult out;
  {
    FormatRange range(f);
    out = finish(f, r, inex, mode);
  }
  mpfr_clear(r);
  return out;
}

namespace {
/// MPFR variables reused across calls (the random tests make 10^8 of them).
struct Scratch {
  mpfr_t x, y, z, r;
  Scratch() { mpfr_inits2(64, x, y, z, r, static_cast<mpfr_ptr>(nullptr)); }
  ~Scratch() { mpfr_clears(x, y, z, r, static_cast<mpfr_ptr>(nullptr)); }
};
}  // namespace

OracleResult mpfr_oracle(const Format& f, Op op, Round mode, double a, double b, double c) {
  thread_local Scratch s;
  mpfr_ptr x = s.x, y = s.y, z = s.z, r = s.r;  // operands hold binary64 values exactly
  mpfr_set_d(x, a, MPFR_RNDN);
  mpfr_set_d(y, b, MPFR_RNDN);
  mpfr_set_d(z, c, MPFR_RNDN);
  mpfr_set_prec(r, f.precision);
  const mpfr_rnd_t rnd = to_mpfr(mode);
  int inex = 0;
  switch (op) {
    case Op::Add: inex = mpfr_add(r, x, y, rnd); break;
    case Op::Sub: inex = mpfr_sub(r, x, y, rnd); break;
    case Op::Mul: inex = mpfr_mul(r, x, y, rnd); break;
    case Op::Div: inex = mpfr_div(r, x, y, rnd); break;
    case Op::Sqrt: inex = mpfr_sqrt(r, x, rnd); break;
    case Op::Fma: inex = mpfr_fma(r, x, y, z, rnd); break;
    case Op::Convert: inex = mpfr_set(r, x, rnd); break;
  }
  OracleResult out;
  {
    FormatRange range(f);
    out = finish(f, r, inex, mode);
  }
  return out;
}

}  // namespace fpaudit::testing
