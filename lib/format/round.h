// Rounding an exactly known real number into a format: the one rounding routine every other
// operation (conversions, arithmetic, the kernels' slow path) is built on.
//
// The exact value arrives as an unevaluated sum hi + lo of two binary64 numbers with
// hi = RN64(hi + lo) (what TwoSum, TwoProd, an FMA residual or a division remainder give).
// It is first rounded *to odd* at 53 bits: truncated toward zero and, if anything was cut off,
// given a 1 as last bit. Rounding that odd value to any p ≤ 51 bits, in any mode, equals
// rounding the exact value directly (Boldo & Melquiond, "When double rounding is odd", 2005),
// so one routine on one double serves every mode without double-rounding errors.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

#include "common/hd.h"  // round_to_odd53
#include "format/format.h"

namespace fpaudit {

/// Rounding directions. Stochastic rounds up with probability equal to the distance from the
/// lower neighbour in units of the spacing; its random bits come from a StochasticStream.
enum class Round : std::uint8_t { NearestEven, TowardZero, Up, Down, Stochastic };

constexpr std::string_view round_name(Round r) {
  switch (r) {
    case Round::NearestEven: return "nearest-even";
    case Round::TowardZero: return "toward-zero";
    case Round::Up: return "up";
    case Round::Down: return "down";
    case Round::Stochastic: return "stochastic";
  }
  return "?";
}

/// Events of one rounding, as bits. They are observations for the statistics, not traps.
enum RoundFlag : std::uint8_t {
  kInexact = 1,    ///< the result differs from the exact value
  kOverflow = 2,   ///< the magnitude rounded beyond max_finite (result per OverflowPolicy)
  kSubnormal = 4,  ///< the result is a nonzero subnormal
  kFlushed = 8,    ///< a nonzero exact value became zero
  kInvalid = 16,   ///< a NaN was produced from non-NaN operands (Inf-Inf, 0/0, √-1, E4M3 NaN overflow)
};

struct Rounded {
  double value = 0;        ///< the result, a value of the format (or ±Inf, NaN)
  std::uint8_t flags = 0;  ///< RoundFlag bits
  int ternary = 0;         ///< sign of (value - exact), as MPFR returns it
};

/// Rounds the exact value hi + lo into f. random_bits is used only by Round::Stochastic: the
/// result rounds up (in magnitude) when the top d random bits, read as an integer, are below
/// the d discarded bits of the significand, so P(up) is the discarded fraction to 2^-d.
Rounded round_exact(const Format& f, double hi, double lo, Round mode, std::uint64_t random_bits = 0);

/// Rounds a binary64 value (taken as exact) into f.
inline double round_to(const Format& f, double x, Round mode = Round::NearestEven) {
  return round_exact(f, x, 0.0, mode).value;
}

/// A reproducible source of random bits for stochastic rounding: the k-th draw of stream s
/// under seed is a fixed function of (seed, s, k) (a SplitMix64-style counter hash), so a
/// kernel can give each output element its own stream and get the same bits whatever the
/// thread count or evaluation order.
class StochasticStream {
 public:
  StochasticStream(std::uint64_t seed, std::uint64_t stream = 0) : seed_(seed), stream_(stream) {}
  std::uint64_t next() { return draw(seed_, stream_, counter_++); }
  std::uint64_t count() const { return counter_; }
  static std::uint64_t draw(std::uint64_t seed, std::uint64_t stream, std::uint64_t k) {
    std::uint64_t z = seed ^ mix(stream + 0x9E3779B97F4A7C15ULL) ^ mix(k * 0xD1B54A32D192ED03ULL + 1);
    return mix(z);
  }

 private:
  static std::uint64_t mix(std::uint64_t z) {  // SplitMix64 finaliser
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  std::uint64_t seed_, stream_, counter_ = 0;
};

}  // namespace fpaudit
