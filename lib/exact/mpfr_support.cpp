#include "exact/mpfr_support.h"

#include <limits>

namespace fpaudit::exact::detail {

MpfrEnvironment::MpfrEnvironment() : emin_(mpfr_get_emin()), emax_(mpfr_get_emax()), flags_(mpfr_flags_save()) {
  mpfr_set_emin(mpfr_get_emin_min());
  mpfr_set_emax(mpfr_get_emax_max());
}

MpfrEnvironment::~MpfrEnvironment() {
  mpfr_set_emin(emin_);
  mpfr_set_emax(emax_);
  mpfr_flags_restore(flags_, MPFR_FLAGS_ALL);
}

MpfrScratch::MpfrScratch() {
  mpfr_init2(arg, 53);
  mpfr_init2(result, 64);
  for (auto& v : t) mpfr_init2(v, 128);
  mpfr_init2(lo, 128);
  mpfr_init2(hi, 128);
}

MpfrScratch::~MpfrScratch() {
  mpfr_clear(arg);
  mpfr_clear(result);
  for (auto& v : t) mpfr_clear(v);
  mpfr_clear(lo);
  mpfr_clear(hi);
}

MpfrScratch& scratch() {
  thread_local MpfrScratch s;
  return s;
}

mpfr_ptr exact_arg(double x) {
  mpfr_ptr a = scratch().arg;
  mpfr_set_d(a, x, MPFR_RNDN);  // exact: 53 bits, MPFR's exponent range holds every double
  return a;
}

Certified binary64_from_rz64(mpfr_ptr r, int ternary) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  if (mpfr_nan_p(r)) return {std::numeric_limits<double>::quiet_NaN(), 0.0};
  if (mpfr_inf_p(r)) return {mpfr_signbit(r) ? -kInf : kInf, 0.0};  // an exact infinity (log 0)
  if (ternary != 0) {
    if (mpfr_zero_p(r)) {
      // Below even MPFR's range: far below 2^-1075, so RN is a zero of the exact value's sign
      // (rounding toward zero undershoots: ternary < 0 for a positive value).
      return {ternary < 0 ? 0.0 : -0.0, std::numeric_limits<double>::denorm_min()};
    }
    // Round to odd: the truncation, or the next number away from zero if its last bit is 0.
    if (mpfr_min_prec(r) < mpfr_get_prec(r)) {
      if (mpfr_signbit(r)) mpfr_nextbelow(r);
      else mpfr_nextabove(r);
    }
  }
  const double d = mpfr_get_d(r, MPFR_RNDN);
  return correctly_rounded(d, ternary == 0 && mpfr_cmp_d(r, d) == 0);
}

}  // namespace fpaudit::exact::detail
