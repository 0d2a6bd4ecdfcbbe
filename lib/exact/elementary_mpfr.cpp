// The elementary functions MPFR evaluates, correctly rounded, in one call: the call rounds
// toward zero at 64 bits and reports exactness (its ternary value), and binary64_from_rz64
// rounds that once more, to nearest binary64, through round-to-odd (mpfr_support.h).
#include <cmath>
#include <limits>

#include "exact/elementary.h"
#include "exact/erf_double_word.h"
#include "exact/exp_double_word.h"
#include "exact/erfc_continued_fraction.h"
#include "exact/mpfr_support.h"
#include "exact/ziv.h"

namespace fpaudit::exact {

namespace {

/// f(x) by one MPFR function called as call(result, x, MPFR_RNDZ).
template <class Call>
Certified one_call(double x, Call&& call) {
  detail::MpfrEnvironment env;
  mpfr_ptr result = detail::scratch().result;  // 64 bits
  const int ternary = call(result, detail::exact_arg(x), MPFR_RNDZ);
  return detail::binary64_from_rz64(result, ternary);
}

}  // namespace

Certified exp_rn(double x) {
  // 0 < |x| ≤ 700: a double-word series decides nearly always, in well under a microsecond.
  double fast = 0;
  if (detail::exp_double_word(x, fast)) return correctly_rounded(fast, false);
  return one_call(x, mpfr_exp);
}
Certified log_rn(double x) { return one_call(x, mpfr_log); }
Certified tanh_rn(double x) {
  // 2^-30 ≤ |x| ≤ 19: from exp's double-word series, nearly always decided without MPFR.
  double fast = 0;
  if (detail::tanh_double_word(x, fast)) return correctly_rounded(fast, false);
  return one_call(x, mpfr_tanh);
}
Certified erf_rn(double x) {
  // 2^-30 ≤ |x| < 3: a double-word series decides nearly always, in well under a microsecond.
  double fast = 0;
  if (detail::erf_double_word(x, fast)) return correctly_rounded(fast, false);
  // For |x| ≥ 3, erf(x) = ±(1 - erfc|x|) with erfc enclosed by its continued fraction: a few
  // microseconds instead of MPFR's 10-25 µs there; MPFR decides what the enclosure cannot.
  if (std::fabs(x) >= 3 && std::isfinite(x)) {
    detail::MpfrEnvironment env;
    detail::MpfrScratch& s = detail::scratch();
    if (detail::erfc_enclosure(std::fabs(x), s.lo, s.hi)) {
      mpfr_ui_sub(s.lo, 1, s.lo, MPFR_RNDU);  // 1 - erfc: the ends swap
      mpfr_ui_sub(s.hi, 1, s.hi, MPFR_RNDD);
      double value = 0;
      if (detail::pins_binary64(s.hi, s.lo, value)) return correctly_rounded(x < 0 ? -value : value, false);
    }
  }
  return one_call(x, mpfr_erf);
}

Certified rsqrt_rn(double x) {
  // IEEE 754's rSqrt(±0) is ±Inf (as 1/√±0); MPFR's rec_sqrt gives +Inf for -0.
  if (x == 0) return {std::copysign(std::numeric_limits<double>::infinity(), x), 0.0};
  return one_call(x, mpfr_rec_sqrt);
}

Certified pow_rn(double x, double c) {
  // MPFR's pow follows C99 Annex F / IEEE 754 pow for every special case.
  detail::MpfrEnvironment env;
  detail::MpfrScratch& s = detail::scratch();
  mpfr_set_prec(s.t[1], 53);
  mpfr_set_d(s.t[1], c, MPFR_RNDN);  // exact
  const int ternary = mpfr_pow(s.result, detail::exact_arg(x), s.t[1], MPFR_RNDZ);
  return detail::binary64_from_rz64(s.result, ternary);
}

}  // namespace fpaudit::exact
