// Dot products and sums at BITS bits with their certified bounds (mpfr_mode.h): MPFR called on
// Boost's backends, left to right, every product and sum rounded to nearest at BITS.
#include <stdexcept>
#include <string>

#include "exact/mpfr_mode_detail.h"
#include "exact/mpfr_support.h"

namespace fpaudit::exact::mp {

namespace {

using detail::raw;
using detail::with_precision;

void check_bits(int bits) {
  if (bits < kMinBits || bits > kMaxBits) {
    throw std::invalid_argument("mpfr mode: " + std::to_string(bits) + " bits is outside [" +
                                std::to_string(kMinBits) + ", " + std::to_string(kMaxBits) + "]");
  }
}

void check_sizes(std::size_t nx, std::size_t nw) {
  if (nx != nw) {
    throw std::invalid_argument("mp::dot: x has " + std::to_string(nx) + " elements but w has " + std::to_string(nw));
  }
}

/// γ_k = k·u/(1 - k·u), u = 2^-bits, rounded up (Higham, Accuracy and Stability, Lemma 3.1);
/// +Inf when k·u ≥ 1.
Real gamma_up(std::size_t k, int bits) {
  Real g = with_precision(64), d = with_precision(64);
  mpfr_set_ui(raw(g), k, MPFR_RNDU);
  mpfr_mul_2si(raw(g), raw(g), -bits, MPFR_RNDU);  // k·u, exact
  mpfr_ui_sub(raw(d), 1, raw(g), MPFR_RNDD);
  if (mpfr_sgn(raw(d)) <= 0) mpfr_set_inf(raw(g), 1);
  else mpfr_div(raw(g), raw(g), raw(d), MPFR_RNDU);
  return g;
}

/// The bound γ·a rounded up, or +Inf when MPFR over- or underflowed during the evaluation
/// (then the standard model of rounding did not hold).
Real bound_of(const Real& gamma, const Real& a) {
  Real b = with_precision(64);
  if (mpfr_underflow_p() || mpfr_overflow_p()) mpfr_set_inf(raw(b), 1);
  else mpfr_mul(raw(b), raw(gamma), raw(a), MPFR_RNDU);
  return b;
}

/// The left-to-right evaluation shared by both dot products: set_bias(acc, a) puts the bias
/// into acc (rounded to nearest) and |bias| into a (rounded up); product(i, p, t) puts
/// RN(x_i·w_i) into p and |x_i·w_i| rounded up into t.
template <class SetBias, class Product>
CertifiedReal dot_left_to_right(std::size_t n, int bits, SetBias&& set_bias, Product&& product) {
  check_bits(bits);
  exact::detail::MpfrEnvironment env;  // widest exponent range, caller's flags kept
  mpfr_clear_flags();
  Real acc = with_precision(bits), p = with_precision(bits);
  Real a = with_precision(64), t = with_precision(64);  // Σ|terms|, rounded up
  set_bias(raw(acc), raw(a));
  for (std::size_t i = 0; i < n; ++i) {
    product(i, raw(p), raw(t));
    mpfr_add(raw(acc), raw(acc), raw(p), MPFR_RNDN);
    mpfr_add(raw(a), raw(a), raw(t), MPFR_RNDU);
  }
  // Each term passes through at most n + 1 roundings (its product, or the bias's conversion,
  // and the sums after it): |error| ≤ γ_{n+1}·(|bias| + Σ|x_i·w_i|).
  Real bound = bound_of(gamma_up(n + 1, bits), a);
  return {std::move(acc), std::move(bound)};
}

}  // namespace

CertifiedReal dot(std::span<const double> x, std::span<const double> w, double bias, int bits) {
  check_sizes(x.size(), w.size());
  return dot_left_to_right(
      x.size(), bits,
      [&](mpfr_ptr acc, mpfr_ptr a) {
        mpfr_set_d(acc, bias, MPFR_RNDN);  // exact: bits ≥ 53
        mpfr_set_d(a, bias, MPFR_RNDN);    // exact: 64 bits
        mpfr_abs(a, a, MPFR_RNDN);
      },
      [&](std::size_t i, mpfr_ptr p, mpfr_ptr t) {
        mpfr_set_d(p, x[i], MPFR_RNDN);  // exact
        mpfr_mul_d(p, p, w[i], MPFR_RNDN);
        mpfr_set_d(t, x[i], MPFR_RNDN);  // exact at 64 bits
        mpfr_mul_d(t, t, w[i], MPFR_RNDA);  // away from zero: |t| ≥ |x_i·w_i|
        mpfr_abs(t, t, MPFR_RNDN);
      });
}

CertifiedReal dot(std::span<const Real> x, std::span<const Real> w, const Real& bias, int bits) {
  check_sizes(x.size(), w.size());
  return dot_left_to_right(
      x.size(), bits,
      [&](mpfr_ptr acc, mpfr_ptr a) {
        mpfr_set(acc, raw(bias), MPFR_RNDN);  // one rounding, counted in γ_{n+1}
        mpfr_set(a, raw(bias), MPFR_RNDA);
        mpfr_abs(a, a, MPFR_RNDN);
      },
      [&](std::size_t i, mpfr_ptr p, mpfr_ptr t) {
        mpfr_mul(p, raw(x[i]), raw(w[i]), MPFR_RNDN);
        mpfr_mul(t, raw(x[i]), raw(w[i]), MPFR_RNDA);
        mpfr_abs(t, t, MPFR_RNDN);
      });
}

CertifiedReal sum(std::span<const double> x, int bits) {
  check_bits(bits);
  exact::detail::MpfrEnvironment env;
  mpfr_clear_flags();
  Real acc = with_precision(bits), a = with_precision(64), t = with_precision(64);
  mpfr_set_zero(raw(acc), 1);
  mpfr_set_zero(raw(a), 1);
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (i == 0) mpfr_set_d(raw(acc), x[0], MPFR_RNDN);  // exact
    else mpfr_add_d(raw(acc), raw(acc), x[i], MPFR_RNDN);
    mpfr_set_d(raw(t), x[i], MPFR_RNDN);
    mpfr_abs(raw(t), raw(t), MPFR_RNDN);
    mpfr_add(raw(a), raw(a), raw(t), MPFR_RNDU);
  }
  // x_1 passes through n - 1 roundings, x_i through n - i + 1 ≤ n - 1: γ_{n-1}·Σ|x_i|.
  const std::size_t roundings = x.size() > 1 ? x.size() - 1 : 0;
  Real bound = bound_of(gamma_up(roundings, bits), a);
  return {std::move(acc), std::move(bound)};
}

}  // namespace fpaudit::exact::mp
