// A long (Kulisch-style) accumulator: the exact sum of any number of binary64 values and
// products of two binary64 values, rounded once at the end.
//
// Every finite binary64 value is m·2^q with an integer m < 2^53 and -1074 ≤ q ≤ 971, so a
// product of two is an integer below 2^106 times 2^q with -2148 ≤ q ≤ 1942. The accumulator is
// a fixed-point number covering bit positions 2^-2176 .. 2^2207, kept as 32-bit digits in
// signed 64-bit limbs ("carry-save"): each addition touches at most five limbs and adds less
// than 2^32 to each, so 2^30 additions can pass before carries must be propagated. The sum is
// exact and independent of the order of the additions and of how they were split between
// accumulators that are merged afterwards: the same data give the same bits, always.
//
// NaN and infinities follow IEEE 754 for the exact operation: any NaN, 0·Inf or Inf - Inf
// gives NaN, otherwise an infinite term gives that infinity. The sign of an exact zero follows
// IEEE 754 §6.3: -0 if every term was -0, else +0 (-0 when rounding toward -Inf).
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

#include <mpfr.h>

#include "exact/certified.h"

namespace fpaudit::exact {

class ExactAccumulator {
 public:
  /// Lowest bit position held: below 2^-2148, the last bit of a product of two subnormals.
  static constexpr int kMinExponent = -2176;
  /// 32-bit digits; the top ones leave room for 2^64 products of the largest magnitude.
  static constexpr int kLimbs = 137;

  ExactAccumulator() { limbs_.fill(0); }

  /// Adds x exactly.
  void add(double x) {
    const auto bits = std::bit_cast<std::uint64_t>(x);
    const auto biased = static_cast<unsigned>(bits >> 52) & 0x7FF;
    if (biased - 1 >= 0x7FE) return add_special(x);  // zero, subnormal, Inf or NaN
    note_nonzero_term();
    add_shifted((bits & kFraction) | kHidden, static_cast<int>(biased) - 1075, (bits >> 63) != 0, 3);
  }
  /// Adds a·b exactly (no rounding of the product, whatever its exponent).
  void add_product(double a, double b) {
    const auto ba = std::bit_cast<std::uint64_t>(a), bb = std::bit_cast<std::uint64_t>(b);
    const auto ea = static_cast<unsigned>(ba >> 52) & 0x7FF, eb = static_cast<unsigned>(bb >> 52) & 0x7FF;
    if (ea - 1 >= 0x7FE || eb - 1 >= 0x7FE) return add_product_special(a, b);
    note_nonzero_term();
    // Two normal operands: (2^52 + fa)·(2^52 + fb)·2^(ea + eb - 2150), below 2^106.
    const Wide m = static_cast<Wide>((ba & kFraction) | kHidden) * ((bb & kFraction) | kHidden);
    add_shifted(m, static_cast<int>(ea + eb) - 2150, ((ba ^ bb) >> 63) != 0, 5);
  }
  /// Adds everything other holds; the result is as if all its terms had been added here.
  void merge(const ExactAccumulator& other);
  /// Back to the empty sum (+0).
  void clear();

  /// The exact sum rounded to nearest (ties to even) binary64, gradual underflow and overflow
  /// to ±Inf included.
  double round_nearest() const;
  /// round_nearest() with its certified error bound (0 when the sum is a binary64 value).
  Certified round_nearest_certified() const;
  /// Rounds the exact sum into out (its precision, its rounding mode, the current MPFR
  /// exponent range) and returns MPFR's ternary value: the sign of out - exact.
  int round_to(mpfr_ptr out, mpfr_rnd_t rnd) const;

  /// The sign of the exact sum: -1, 0 or +1 (0 also for NaN).
  int sign() const;
  bool is_nan() const { return nan_ || (pos_inf_ && neg_inf_); }
  /// Number of terms added (merged accumulators count theirs).
  std::uint64_t terms() const { return terms_; }

 private:
  /// The sum's digits with carries propagated, as a magnitude and a sign.
  struct Magnitude;
  /// A 128-bit unsigned integer (a GCC/Clang extension; __extension__ keeps -Wpedantic quiet).
  __extension__ typedef unsigned __int128 Wide;

  static constexpr std::uint64_t kFraction = (std::uint64_t{1} << 52) - 1;
  static constexpr std::uint64_t kHidden = std::uint64_t{1} << 52;
  static constexpr std::int64_t kDigitMask = 0xFFFFFFFF;
  /// Carries are propagated after this many additions: a limb then holds at most
  /// (2^30 + 2)·2^32 < 2^63 in magnitude.
  static constexpr std::uint32_t kNormalizeEvery = 1u << 30;

  /// Adds ±m·2^q, m < 2^106 (pieces = 5) or m < 2^53 (pieces = 3).
  void add_shifted(Wide m, int q, bool negative, int pieces) {
    const int offset = q - kMinExponent;
    const int i = offset >> 5;
    const int shift = offset & 31;
    // m·2^shift as 32-bit digits, branch-free: (v >> 1) >> (63 - shift) is v >> (64 - shift)
    // without the undefined shift by 64 when shift is 0. m < 2^106 gives five digits (the top
    // one below 2^9); m < 2^53 gives three.
    const auto lo = static_cast<std::uint64_t>(m);
    const auto hi = static_cast<std::uint64_t>(m >> 64);  // < 2^42
    const std::uint64_t w0 = lo << shift;
    const std::uint64_t w1 = (hi << shift) | ((lo >> 1) >> (63 - shift));
    const std::uint64_t w2 = (hi >> 1) >> (63 - shift);
    const std::int64_t sign = negative ? -1 : 1;
    std::int64_t* limb = limbs_.data() + i;
    limb[0] += sign * static_cast<std::int64_t>(w0 & kDigitMask);
    limb[1] += sign * static_cast<std::int64_t>(w0 >> 32);
    limb[2] += sign * static_cast<std::int64_t>(w1 & kDigitMask);
    if (pieces > 3) {
      limb[3] += sign * static_cast<std::int64_t>(w1 >> 32);
      limb[4] += sign * static_cast<std::int64_t>(w2);
    }
    lo_ = i < lo_ ? i : lo_;
    hi_ = i + pieces - 1 > hi_ ? i + pieces - 1 : hi_;
    if (++pending_ >= kNormalizeEvery) normalize();
  }
  void note_nonzero_term() {
    ++terms_;
    all_negative_zero_ = all_positive_zero_ = false;
  }
  void note_zero_term(bool negative) {
    ++terms_;
    all_negative_zero_ = all_negative_zero_ && negative;
    all_positive_zero_ = all_positive_zero_ && !negative;
  }
  /// The operands the inline paths leave out: zeros, subnormals, infinities and NaN.
  void add_special(double x);
  void add_product_special(double a, double b);
  void normalize();
  Magnitude magnitude() const;
  /// NaN, ±Inf or the signed zero of a sum whose finite part is zero.
  bool special_value(double& out, mpfr_rnd_t rnd) const;

  std::array<std::int64_t, kLimbs> limbs_;
  int lo_ = kLimbs;                 ///< lowest limb that may be nonzero
  int hi_ = -1;                     ///< highest limb that may be nonzero
  std::uint32_t pending_ = 0;       ///< additions since carries were last propagated
  std::uint64_t terms_ = 0;
  bool nan_ = false, pos_inf_ = false, neg_inf_ = false;
  bool all_negative_zero_ = true;   ///< every term so far was -0 (vacuous when empty)
  bool all_positive_zero_ = true;   ///< every term so far was +0
};

}  // namespace fpaudit::exact
