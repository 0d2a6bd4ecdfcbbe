#include "format/round.h"

#include <limits>

namespace fpaudit {

namespace {

/// The rounding direction applied to the magnitude, once the sign is known.
enum class MagnitudeRound { Nearest, TowardZero, AwayFromZero, Stochastic };

MagnitudeRound magnitude_mode(Round mode, bool negative) {
  switch (mode) {
    case Round::NearestEven: return MagnitudeRound::Nearest;
    case Round::TowardZero: return MagnitudeRound::TowardZero;
    case Round::Up: return negative ? MagnitudeRound::TowardZero : MagnitudeRound::AwayFromZero;
    case Round::Down: return negative ? MagnitudeRound::AwayFromZero : MagnitudeRound::TowardZero;
    case Round::Stochastic: return MagnitudeRound::Stochastic;
  }
  return MagnitudeRound::Nearest;
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

/// The magnitude a result becomes when it rounds beyond max_finite.
double overflow_value(const Format& f, MagnitudeRound m, std::uint8_t& flags) {
  flags |= kOverflow | kInexact;
  if (m == MagnitudeRound::TowardZero || f.overflow == OverflowPolicy::Saturate) return max_finite(f);
  if (f.overflow == OverflowPolicy::NaN) {
    flags |= kInvalid;
    return kNaN;
  }
  return kInf;
}

}  // namespace

Rounded round_exact(const Format& f, double hi, double lo, Round mode, std::uint64_t random_bits) {
  Rounded r;
  // Special values first: NaN stays NaN, zero keeps its sign, infinity follows the encoding.
  if (std::isnan(hi)) return {kNaN, 0, 0};
  const bool negative = std::signbit(hi);
  const MagnitudeRound m = magnitude_mode(mode, negative);
  if (std::isinf(hi)) {
    if (has_infinity(f)) return {hi, 0, 0};
    // No infinities (E4M3): an infinite value is an overflow of the format. A saturated
    // result lies below the exact magnitude, so its ternary points toward zero.
    r.value = overflow_value(f, MagnitudeRound::AwayFromZero, r.flags);
    if (std::isnan(r.value)) return r;
    r.ternary = negative ? 1 : -1;
    if (negative) r.value = -r.value;
    return r;
  }
  if (hi == 0) return {hi, 0, 0};

  // hi is finite and nonzero. Work on the magnitude of the odd-rounded value, whose binary64
  // significand is mant × 2^(e-52) with 2^52 ≤ mant < 2^53 (or a binary64 subnormal).
  const double odd = std::fabs(round_to_odd53(hi, lo));
  const std::uint64_t bits = std::bit_cast<std::uint64_t>(odd);
  const int biased = static_cast<int>(bits >> 52);
  const std::uint64_t fraction = bits & ((std::uint64_t{1} << 52) - 1);
  const std::uint64_t mant = biased == 0 ? fraction : fraction | (std::uint64_t{1} << 52);
  const int e = biased == 0 ? -1022 : biased - 1023;

  // Exponent of the spacing at this magnitude. Without subnormals the values below 2^emin are
  // only 0 and 2^emin itself, i.e. the spacing there is 2^emin.
  const int q_exp = e >= f.emin ? e - f.precision + 1 : (f.subnormals ? f.emin - f.precision + 1 : f.emin);
  const int drop = q_exp - (e - 52);  // bits of mant below the spacing; ≥ 2 since p ≤ 51

  std::uint64_t kept = 0;
  bool round_up = false;
  bool inexact = false;
  if (drop >= 64) {
    // The whole significand sits far below half a spacing: 0 < value < spacing/2^11.
    inexact = true;
    round_up = m == MagnitudeRound::AwayFromZero;
    if (m == MagnitudeRound::Stochastic) {
      // P(up) = value / spacing = mant × 2^-drop < 2^-10: a 53-bit uniform draw compared in
      // binary64 resolves it to 2^-53.
      const double p_up = std::ldexp(static_cast<double>(mant), -drop);
      round_up = std::ldexp(static_cast<double>(random_bits >> 11), -53) < p_up;
    }
  } else {
    kept = mant >> drop;
    const std::uint64_t rem = mant & ((std::uint64_t{1} << drop) - 1);
    const std::uint64_t half = std::uint64_t{1} << (drop - 1);
    inexact = rem != 0;
    switch (m) {
      case MagnitudeRound::Nearest: round_up = rem > half || (rem == half && (kept & 1)); break;
      case MagnitudeRound::TowardZero: break;
      case MagnitudeRound::AwayFromZero: round_up = rem != 0; break;
      case MagnitudeRound::Stochastic: round_up = (random_bits >> (64 - drop)) < rem; break;
    }
  }
  kept += round_up ? 1 : 0;

  double mag = static_cast<double>(kept) * pow2(q_exp);  // exact: kept ≤ 2^p, q_exp ≥ -1022
  if (inexact) r.flags |= kInexact;
  if (mag > max_finite(f)) mag = overflow_value(f, m, r.flags);
  if (mag == 0) {
    r.flags |= kFlushed;
  } else if (mag < min_normal(f)) {
    r.flags |= kSubnormal;
  }
  r.value = negative ? -mag : mag;
  if (std::isnan(r.value)) return r;
  // ternary: the sign of (result - exact). The magnitude moved up iff round_up, or the value
  // overflowed to infinity; a saturated or truncated result lies below the exact magnitude.
  if (r.flags & kInexact) {
    const bool mag_above = (r.flags & kOverflow) ? std::isinf(mag) : round_up;
    r.ternary = (mag_above != negative) ? 1 : -1;
  }
  return r;
}

}  // namespace fpaudit
