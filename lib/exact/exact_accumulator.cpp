#include "exact/exact_accumulator.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include <gmp.h>

#include "exact/fp_environment.h"

namespace fpaudit::exact {

namespace {

__extension__ typedef unsigned __int128 Wide;

constexpr std::int64_t kDigitMask = 0xFFFFFFFF;
/// Room above the top limb for the reads of a three-digit window.
constexpr int kPad = 4;

/// |x| = m·2^q with an integer m < 2^53 (m = 0 for zeros). x must be finite.
struct Decomposed {
  std::uint64_t m;
  int q;
  bool negative;
};
Decomposed decompose(double x) {
  const auto bits = std::bit_cast<std::uint64_t>(x);
  const auto biased = static_cast<int>((bits >> 52) & 0x7FF);
  const std::uint64_t fraction = bits & ((std::uint64_t{1} << 52) - 1);
  const bool negative = (bits >> 63) != 0;
  if (biased == 0) return {fraction, -1074, negative};  // zero or subnormal
  return {fraction | (std::uint64_t{1} << 52), biased - 1075, negative};
}

/// Propagates carries through d[lo..hi] so that d[lo..hi-1] are digits in [0, 2^32) and the
/// top d[hi] lies in [-2^31, 2^31) and carries the sign; hi grows while the top overflows that
/// range. The value Σ d[i]·2^(32i) is unchanged.
void propagate_carries(std::int64_t* d, int lo, int& hi) {
  std::int64_t carry = 0;
  for (int i = lo; i < hi; ++i) {
    const std::int64_t v = d[i] + carry;
    d[i] = v & kDigitMask;
    carry = v >> 32;  // floor division: arithmetic shift (C++20)
  }
  std::int64_t v = d[hi] + carry;
  while (v < -(std::int64_t{1} << 31) || v >= (std::int64_t{1} << 31)) {
    d[hi] = v & kDigitMask;
    ++hi;
    v = d[hi] + (v >> 32);
  }
  d[hi] = v;
}

/// Digits [from, from + count) bits of the nonnegative number in d (count ≤ 64), where bit
/// offset 0 is 2^kMinExponent.
std::uint64_t read_bits(const std::int64_t* d, int offset, int count) {
  const int j = offset >> 5;
  const int shift = offset & 31;
  const Wide window = static_cast<Wide>(static_cast<std::uint64_t>(d[j])) |
                                   static_cast<Wide>(static_cast<std::uint64_t>(d[j + 1])) << 32 |
                                   static_cast<Wide>(static_cast<std::uint64_t>(d[j + 2])) << 64;
  const auto bits = static_cast<std::uint64_t>(window >> shift);
  return count >= 64 ? bits : bits & ((std::uint64_t{1} << count) - 1);
}

/// Whether any bit below bit offset `offset` is set in d[lo..].
bool any_bit_below(const std::int64_t* d, int lo, int offset) {
  const int j = offset >> 5;
  for (int i = lo; i < j; ++i) {
    if (d[i] != 0) return true;
  }
  return j >= lo && (d[j] & ((std::int64_t{1} << (offset & 31)) - 1)) != 0;
}

class ScratchInteger {
 public:
  ScratchInteger() { mpz_init(z_); }
  ~ScratchInteger() { mpz_clear(z_); }
  ScratchInteger(const ScratchInteger&) = delete;
  ScratchInteger& operator=(const ScratchInteger&) = delete;
  mpz_ptr get() { return z_; }

 private:
  mpz_t z_;
};

}  // namespace

struct ExactAccumulator::Magnitude {
  std::array<std::int64_t, kLimbs + kPad> digits{};  ///< |sum| as digits in [0, 2^32)
  int lo = 0, top = -1;                               ///< top: highest nonzero digit, -1 if zero
  bool negative = false;
};

void ExactAccumulator::add_special(double x) {
  if (std::isnan(x) || std::isinf(x)) {
    if (std::isnan(x)) nan_ = true;
    else (x > 0 ? pos_inf_ : neg_inf_) = true;
    note_nonzero_term();
    return;
  }
  const Decomposed d = decompose(x);
  if (d.m == 0) return note_zero_term(d.negative);
  note_nonzero_term();
  add_shifted(d.m, d.q, d.negative, 3);  // a subnormal: < 2^52 shifted by < 32, three digits
}

void ExactAccumulator::add_product_special(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) {
    nan_ = true;
    return note_nonzero_term();
  }
  const bool negative = std::signbit(a) != std::signbit(b);
  if (std::isinf(a) || std::isinf(b)) {
    if (a == 0 || b == 0) nan_ = true;  // 0·Inf is invalid
    else (negative ? neg_inf_ : pos_inf_) = true;
    return note_nonzero_term();
  }
  const Decomposed da = decompose(a), db = decompose(b);
  if (da.m == 0 || db.m == 0) return note_zero_term(negative);
  note_nonzero_term();
  add_shifted(static_cast<Wide>(da.m) * db.m, da.q + db.q, negative, 5);
}

void ExactAccumulator::merge(const ExactAccumulator& other) {
  for (int i = other.lo_; i <= other.hi_; ++i) limbs_[i] += other.limbs_[i];
  if (other.hi_ >= other.lo_) {
    lo_ = std::min(lo_, other.lo_);
    hi_ = std::max(hi_, other.hi_);
  }
  pending_ += other.pending_ + 1;  // both below 2^30: no overflow, limbs below 2^63
  terms_ += other.terms_;
  nan_ = nan_ || other.nan_;
  pos_inf_ = pos_inf_ || other.pos_inf_;
  neg_inf_ = neg_inf_ || other.neg_inf_;
  all_negative_zero_ = all_negative_zero_ && other.all_negative_zero_;
  all_positive_zero_ = all_positive_zero_ && other.all_positive_zero_;
  if (pending_ >= kNormalizeEvery) normalize();
}

void ExactAccumulator::clear() {
  for (int i = lo_; i <= hi_; ++i) limbs_[i] = 0;
  lo_ = kLimbs;
  hi_ = -1;
  pending_ = 0;
  terms_ = 0;
  nan_ = pos_inf_ = neg_inf_ = false;
  all_negative_zero_ = all_positive_zero_ = true;
}

void ExactAccumulator::normalize() {
  if (hi_ >= lo_) propagate_carries(limbs_.data(), lo_, hi_);
  pending_ = 0;
}

ExactAccumulator::Magnitude ExactAccumulator::magnitude() const {
  Magnitude r;
  if (hi_ < lo_) return r;
  std::copy(limbs_.begin() + lo_, limbs_.begin() + hi_ + 1, r.digits.begin() + lo_);
  int hi = hi_;
  propagate_carries(r.digits.data(), lo_, hi);
  if (r.digits[hi] < 0) {
    // Negative: negate every digit and propagate again; the magnitude's top is then ≥ 0.
    r.negative = true;
    for (int i = lo_; i <= hi; ++i) r.digits[i] = -r.digits[i];
    propagate_carries(r.digits.data(), lo_, hi);
  }
  r.lo = lo_;
  r.top = hi;
  while (r.top >= lo_ && r.digits[r.top] == 0) --r.top;
  if (r.top < lo_) r.top = -1;
  return r;
}

bool ExactAccumulator::special_value(double& out, mpfr_rnd_t rnd) const {
  if (is_nan()) {
    out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (pos_inf_ || neg_inf_) {
    out = pos_inf_ ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
    return true;
  }
  if (terms_ == 0 || all_positive_zero_) out = 0.0;
  else if (all_negative_zero_) out = -0.0;
  else out = rnd == MPFR_RNDD ? -0.0 : 0.0;  // exact cancellation (IEEE 754 §6.3)
  return false;
}

Certified ExactAccumulator::round_nearest_certified() const {
  detail::DefaultFloatingPointEnvironment fp_env;  // ldexp must not flush a subnormal result
  double special = 0;
  if (special_value(special, MPFR_RNDN)) return {special, 0.0};
  const Magnitude mag = magnitude();
  if (mag.top < 0) return {special, 0.0};  // exactly zero, signed as IEEE says

  // The most significant bit, as an offset from 2^kMinExponent and as an exponent.
  const int msb_offset = 32 * mag.top + 31 - std::countl_zero(static_cast<std::uint32_t>(mag.digits[mag.top]));
  const int msb = msb_offset + kMinExponent;
  // The last bit binary64 keeps: 53 bits, or the subnormal grid 2^-1074.
  const int lsb = std::max(msb - 52, -1074);
  const int lsb_offset = lsb - kMinExponent;  // > 1, as -1074 - 1 > kMinExponent
  std::uint64_t q = read_bits(mag.digits.data(), lsb_offset, msb - lsb + 1);
  const bool round_bit = read_bits(mag.digits.data(), lsb_offset - 1, 1) != 0;
  const bool sticky = any_bit_below(mag.digits.data(), mag.lo, lsb_offset - 1);
  if (round_bit && (sticky || (q & 1))) ++q;  // nearest, ties to even; q ≤ 2^53 stays exact
  const double value = std::ldexp(static_cast<double>(q), lsb);  // exact, or overflows to Inf
  const double signed_value = mag.negative ? -value : value;
  return correctly_rounded(signed_value, !round_bit && !sticky);
}

double ExactAccumulator::round_nearest() const { return round_nearest_certified().value; }

int ExactAccumulator::round_to(mpfr_ptr out, mpfr_rnd_t rnd) const {
  double special = 0;
  if (special_value(special, rnd)) {
    if (std::isnan(special)) mpfr_set_nan(out);
    else mpfr_set_inf(out, special > 0 ? 1 : -1);
    return 0;
  }
  const Magnitude mag = magnitude();
  if (mag.top < 0) {
    mpfr_set_zero(out, std::signbit(special) ? -1 : 1);
    return 0;
  }
  std::array<std::uint32_t, kLimbs> words;
  const int count = mag.top - mag.lo + 1;
  for (int i = 0; i < count; ++i) words[i] = static_cast<std::uint32_t>(mag.digits[mag.lo + i]);
  thread_local ScratchInteger z;
  mpz_import(z.get(), static_cast<std::size_t>(count), -1, sizeof(std::uint32_t), 0, 0, words.data());
  if (mag.negative) mpz_neg(z.get(), z.get());
  return mpfr_set_z_2exp(out, z.get(), kMinExponent + 32 * mag.lo, rnd);
}

int ExactAccumulator::sign() const {
  if (is_nan()) return 0;
  if (pos_inf_ || neg_inf_) return pos_inf_ ? 1 : -1;
  const Magnitude mag = magnitude();
  if (mag.top < 0) return 0;
  return mag.negative ? -1 : 1;
}

}  // namespace fpaudit::exact
