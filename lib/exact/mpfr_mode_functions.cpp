// The elementary functions of the mpfr:BITS mode (mpfr_mode.h): MPFR's own correctly rounded
// functions at BITS bits, and the Ziv loops of sigmoid and GELU (composite_functions.h).
#include <stdexcept>
#include <string>

#include "exact/composite_functions.h"
#include "exact/mpfr_mode_detail.h"
#include "exact/mpfr_support.h"

namespace fpaudit::exact::mp {

namespace {

using detail::raw;
using detail::rounding_bound;
using detail::with_precision;

void check_bits(int bits) {
  if (bits < kMinBits || bits > kMaxBits) throw std::invalid_argument("mpfr mode: bits outside [64, 4096]");
}

/// f(x) by one MPFR call at bits, rounded to nearest.
template <class Call>
CertifiedReal one_call(const Real& x, int bits, Call&& call) {
  check_bits(bits);
  exact::detail::MpfrEnvironment env;
  Real r = with_precision(bits);
  const int ternary = call(raw(r), raw(x), MPFR_RNDN);
  Real bound = rounding_bound(r, ternary);
  return {std::move(r), std::move(bound)};
}

/// An exact value (a special case) at bits.
CertifiedReal exactly(long num, long exp2, int bits) {
  Real r = with_precision(bits), zero = with_precision(64);
  mpfr_set_si_2exp(raw(r), num, exp2, MPFR_RNDN);
  mpfr_set_zero(raw(zero), 1);
  return {std::move(r), std::move(zero)};
}

/// A result below MPFR's smallest magnitudes: a zero of the given sign and the bound
/// e^bound_exponent_arg rounded up (an upper bound of |f| the caller proves).
CertifiedReal negligible(int sign, const Real& bound_exponent_arg, int bits) {
  Real r = with_precision(bits), b = with_precision(64);
  mpfr_set_zero(raw(r), sign);
  mpfr_exp(raw(b), raw(bound_exponent_arg), MPFR_RNDU);  // never 0: RNDU keeps it positive
  return {std::move(r), std::move(b)};
}

/// The Ziv loop's result at bits.
template <class Approximate>
CertifiedReal ziv(int bits, Approximate&& approximate) {
  Real r = with_precision(bits);
  const int ternary = exact::detail::ziv_mpfr(raw(r), MPFR_RNDN, approximate);
  Real bound = rounding_bound(r, ternary);
  return {std::move(r), std::move(bound)};
}

}  // namespace

CertifiedReal exp(const Real& x, int bits) { return one_call(x, bits, mpfr_exp); }
CertifiedReal log(const Real& x, int bits) { return one_call(x, bits, mpfr_log); }
CertifiedReal tanh(const Real& x, int bits) { return one_call(x, bits, mpfr_tanh); }
CertifiedReal erf(const Real& x, int bits) { return one_call(x, bits, mpfr_erf); }
CertifiedReal sqrt(const Real& x, int bits) { return one_call(x, bits, mpfr_sqrt); }

CertifiedReal rsqrt(const Real& x, int bits) {
  if (mpfr_zero_p(raw(x))) {  // IEEE 754 rSqrt(±0) = ±Inf, as the binary64 reference
    CertifiedReal r = exactly(0, 0, bits);
    mpfr_set_inf(raw(r.value), mpfr_signbit(raw(x)) ? -1 : 1);
    return r;
  }
  return one_call(x, bits, mpfr_rec_sqrt);
}

CertifiedReal div(const Real& a, const Real& b, int bits) {
  return one_call(a, bits, [&](mpfr_ptr r, mpfr_srcptr x, mpfr_rnd_t rnd) { return mpfr_div(r, x, raw(b), rnd); });
}

CertifiedReal pow(const Real& x, const Real& c, int bits) {
  return one_call(x, bits, [&](mpfr_ptr r, mpfr_srcptr v, mpfr_rnd_t rnd) { return mpfr_pow(r, v, raw(c), rnd); });
}

CertifiedReal sigmoid(const Real& x, int bits) {
  check_bits(bits);
  exact::detail::MpfrEnvironment env;
  mpfr_srcptr v = raw(x);
  if (mpfr_nan_p(v)) return one_call(x, bits, mpfr_set);
  if (mpfr_inf_p(v)) return exactly(mpfr_signbit(v) ? 0 : 1, 0, bits);
  if (mpfr_zero_p(v)) return exactly(1, -1, bits);
  // Below -2^61, e^x could leave MPFR's range; there σ(x) < e^x, which bounds the zero returned.
  if (mpfr_cmp_si_2exp(v, -1, 61) <= 0) return negligible(1, x, bits);
  return ziv(bits, [&](mpfr_ptr out, mpfr_prec_t prec) { return exact::detail::sigmoid_approximation(out, v, prec); });
}

CertifiedReal gelu(const Real& x, int bits) {
  check_bits(bits);
  exact::detail::MpfrEnvironment env;
  mpfr_srcptr v = raw(x);
  if (mpfr_nan_p(v) || mpfr_zero_p(v) || (mpfr_inf_p(v) && !mpfr_signbit(v))) return one_call(x, bits, mpfr_set);
  // Below -2^31, erfc(|x|/√2) could leave MPFR's range; there |xΦ(x)| ≤ φ(x) < e^{-x²/2}, which
  // bounds the -0 returned (the limit, for -Inf).
  if (mpfr_cmp_si_2exp(v, -1, 31) <= 0) {
    Real e = with_precision(64);
    mpfr_sqr(raw(e), v, MPFR_RNDD);
    mpfr_div_2ui(raw(e), raw(e), 1, MPFR_RNDD);
    mpfr_neg(raw(e), raw(e), MPFR_RNDN);  // ≥ -x²/2 rounded: e^e ≥ e^{-x²/2}
    if (mpfr_inf_p(v)) mpfr_set_inf(raw(e), -1);
    CertifiedReal r = negligible(-1, e, bits);
    if (mpfr_inf_p(v)) mpfr_set_zero(raw(r.abs_error_bound), 1);  // the limit is exact
    return r;
  }
  return ziv(bits, [&](mpfr_ptr out, mpfr_prec_t prec) { return exact::detail::gelu_approximation(out, v, prec); });
}

}  // namespace fpaudit::exact::mp
