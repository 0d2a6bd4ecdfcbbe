#include "exact/erfc_continued_fraction.h"

#include <cmath>
#include <initializer_list>

namespace fpaudit::exact::detail {

namespace {

/// Working precision: two limbs (MPFR's fast paths), and t² of a binary64 t is exact in it.
constexpr mpfr_prec_t kPrec = 120;
/// Relative width aimed at, and the widest accepted.
constexpr double kTargetBits = 88;
constexpr long kAcceptBits = 84;

/// Per-thread working variables, all at kPrec: MPFR's one- and two-limb fast paths need
/// operands and result of the same precision. Also the constants √π and √(2π), outward.
struct Scratch {
  mpfr_t t, c, up, down, k_lo, k_hi, e, w, sqrt_pi_lo, sqrt_pi_hi, sqrt_2pi_lo, sqrt_2pi_hi;
  Scratch() {
    for (mpfr_ptr v : {t, c, up, down, k_lo, k_hi, e, w, sqrt_pi_lo, sqrt_pi_hi, sqrt_2pi_lo, sqrt_2pi_hi})
      mpfr_init2(v, kPrec);
    mpfr_const_pi(sqrt_pi_lo, MPFR_RNDD);
    mpfr_sqrt(sqrt_pi_lo, sqrt_pi_lo, MPFR_RNDD);
    mpfr_const_pi(sqrt_pi_hi, MPFR_RNDU);
    mpfr_sqrt(sqrt_pi_hi, sqrt_pi_hi, MPFR_RNDU);
    mpfr_const_pi(sqrt_2pi_lo, MPFR_RNDD);
    mpfr_mul_2ui(sqrt_2pi_lo, sqrt_2pi_lo, 1, MPFR_RNDD);
    mpfr_sqrt(sqrt_2pi_lo, sqrt_2pi_lo, MPFR_RNDD);
    mpfr_const_pi(sqrt_2pi_hi, MPFR_RNDU);
    mpfr_mul_2ui(sqrt_2pi_hi, sqrt_2pi_hi, 1, MPFR_RNDU);
    mpfr_sqrt(sqrt_2pi_hi, sqrt_2pi_hi, MPFR_RNDU);
  }
  ~Scratch() {
    for (mpfr_ptr v : {t, c, up, down, k_lo, k_hi, e, w, sqrt_pi_lo, sqrt_pi_hi, sqrt_2pi_lo, sqrt_2pi_hi})
      mpfr_clear(v);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

/// The number of terms after which consecutive convergents of K_q(t) differ by at most
/// 2^-bits relatively, estimated in binary64 from the forward recurrence (all quantities
/// positive, no cancellation): with partial numerators a_1 = 1, a_k = (k-1)q, denominators t,
///   A_n = t·A_{n-1} + a_n·A_{n-2}, B_n likewise, |C_n - C_{n-1}|/C_n = a_1⋯a_n/(A_n·B_{n-1}).
/// Only an estimate: the enclosure checks the width it actually gets.
unsigned terms_for(double t, double q, double bits) {
  double a2 = 0, a1 = 1, b2 = 1, b1 = t;  // (A_0, A_1), (B_0, B_1)
  double log2_numerators = 0, log2_scale = 0;
  for (unsigned n = 2; n < 100000; ++n) {
    const double an = (n - 1) * q;
    const double a0 = t * a1 + an * a2, b0 = t * b1 + an * b2;
    log2_numerators += std::log2(an);
    if (log2_numerators - std::log2(a0) - std::log2(b1) - 2 * log2_scale <= -bits) return n;
    a2 = a1, a1 = a0, b2 = b1, b1 = b0;
    const double scale = std::exp2(-std::floor(std::log2(b1)));  // keep B near 1 (exact)
    a2 *= scale, a1 *= scale, b2 *= scale, b1 *= scale;
    log2_scale -= std::log2(scale);
  }
  return 100000;
}

/// A bound of the n-th convergent C_n = 1/T_1, T_k = t + kq/T_{k+1}, T_n = t: upper if upper,
/// else lower. Each T_k grows with t and falls with T_{k+1}, so a lower bound of T_k needs an
/// upper bound of T_{k+1}: the rounding direction alternates from level to level.
void convergent_bound(Scratch& s, double q, unsigned n, bool upper, mpfr_ptr out) {
  // T_1 must be low for an upper bound of 1/T_1; level k is then low when k ≡ 1 (mod 2).
  auto low_at = [&](unsigned k) { return ((k & 1) == 1) == upper; };
  mpfr_set(s.w, s.t, MPFR_RNDN);  // T_n = t, exact
  for (unsigned k = n - 1; k >= 1; --k) {
    const mpfr_rnd_t r = low_at(k) ? MPFR_RNDD : MPFR_RNDU;
    mpfr_set_d(s.c, k * q, MPFR_RNDN);  // kq, exact (q is 1/2 or 1)
    mpfr_div(s.w, s.c, s.w, r);         // T_{k+1} was pushed the other way
    mpfr_add(s.w, s.t, s.w, r);
  }
  mpfr_ui_div(out, 1, s.w, upper ? MPFR_RNDU : MPFR_RNDD);
}

/// lo ≤ K_q(t) ≤ hi (s.t holds t). K_q lies between consecutive convergents: even ones below,
/// odd ones above.
bool ratio_enclosure(Scratch& s, double t, double q) {
  unsigned n = terms_for(t, q, kTargetBits) + 1;
  for (int attempt = 0; attempt < 3; ++attempt, n *= 2) {
    const unsigned even = n + (n & 1);
    convergent_bound(s, q, even, false, s.k_lo);
    convergent_bound(s, q, even + 1, true, s.k_hi);
    mpfr_sub(s.e, s.k_hi, s.k_lo, MPFR_RNDU);
    mpfr_div(s.e, s.e, s.k_lo, MPFR_RNDU);
    if (mpfr_cmp_ui_2exp(s.e, 1, -kAcceptBits) <= 0) return true;
  }
  return false;
}

/// e^{-t²·scale} with t exact: t² is exact at kPrec, the exponential rounded to nearest is
/// within half an ulp, so its two neighbours enclose the true value.
void gaussian_enclosure(Scratch& s, int halve, mpfr_ptr lo, mpfr_ptr hi) {
  mpfr_sqr(s.e, s.t, MPFR_RNDN);  // exact: 106 ≤ kPrec bits
  mpfr_div_2ui(s.e, s.e, halve, MPFR_RNDN);
  mpfr_neg(s.e, s.e, MPFR_RNDN);
  mpfr_exp(s.e, s.e, MPFR_RNDN);
  mpfr_set(lo, s.e, MPFR_RNDN);
  mpfr_set(hi, s.e, MPFR_RNDN);
  mpfr_nextbelow(lo);
  mpfr_nextabove(hi);
}

/// K(t)·e^{-t²/2^halve}/c enclosed in [lo, hi], with K the continued fraction at (t, q) and
/// c ∈ [c_lo, c_hi]: erfc (q = 1/2, no halving, c = √π) and the normal tail (q = 1, halved,
/// c = √(2π)) differ only in these.
bool tail_enclosure(Scratch& s, double t, double q, int halve, mpfr_srcptr c_lo, mpfr_srcptr c_hi, mpfr_ptr lo, mpfr_ptr hi) {
  mpfr_set_d(s.t, t, MPFR_RNDN);  // exact
  if (!ratio_enclosure(s, t, q)) return false;
  mpfr_set_prec(lo, kPrec);
  mpfr_set_prec(hi, kPrec);
  gaussian_enclosure(s, halve, lo, hi);
  mpfr_mul(lo, lo, s.k_lo, MPFR_RNDD);
  mpfr_div(lo, lo, c_hi, MPFR_RNDD);
  mpfr_mul(hi, hi, s.k_hi, MPFR_RNDU);
  mpfr_div(hi, hi, c_lo, MPFR_RNDU);
  return true;
}

}  // namespace

bool erfc_enclosure(double a, mpfr_ptr lo, mpfr_ptr hi) {
  Scratch& s = scratch();
  return tail_enclosure(s, a, 0.5, 0, s.sqrt_pi_lo, s.sqrt_pi_hi, lo, hi);  // e^{-a²}·K/√π
}

bool normal_tail_enclosure(double t, mpfr_ptr lo, mpfr_ptr hi) {
  Scratch& s = scratch();
  return tail_enclosure(s, t, 1.0, 1, s.sqrt_2pi_lo, s.sqrt_2pi_hi, lo, hi);  // φ(t) = e^{-t²/2}/√(2π), times K
}

}  // namespace fpaudit::exact::detail
