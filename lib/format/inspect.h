// Questions about single values of a format: spacing, neighbours, distance in ulps, class, and
// what storing a wider value in the format does to it.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <string_view>

#include "format/format.h"

namespace fpaudit {

enum class ValueClass : std::uint8_t { Zero, Subnormal, Normal, Infinity, NaN };
constexpr std::string_view class_name(ValueClass c) {
  constexpr std::string_view names[] = {"zero", "subnormal", "normal", "infinity", "nan"};
  return names[static_cast<int>(c)];
}

/// Class of x taken as a value of f (|x| below 2^emin and nonzero is subnormal).
ValueClass classify(const Format& f, double x);

/// ulp(x): the spacing of f's values at |x|, i.e. 2^(max(e, emin) - p + 1) for 2^e ≤ |x| < 2^(e+1)
/// (for x = 0 the smallest spacing). Defined for any finite x, representable or not.
double ulp(const Format& f, double x);

/// ulp(f, x) for many x of one format, tabulated by x's binary64 exponent field (ulp depends
/// on nothing else for normal binary64 x): a table lookup instead of the format arithmetic,
/// for per-element statistics. Zero and subnormal binary64 x take ulp() itself.
class UlpTable {
 public:
  explicit UlpTable(const Format& f);
  /// ulp(f, x) for finite x.
  double operator()(double x) const {
    const unsigned field = field_of(x);
    return field != 0 && field != 0x7FFu ? table_[field] : ulp(format_, x);
  }
  /// 1 / ulp(f, x) for finite x, exactly: ulp is a power of two within 2^±1022 (checked when
  /// the table is built), so v·inverse(x) is v / ulp(f, x) bit for bit, without a division.
  double inverse(double x) const {
    const unsigned field = field_of(x);
    return field != 0 && field != 0x7FFu ? inverse_[field] : 1.0 / ulp(format_, x);
  }

 private:
  static unsigned field_of(double x) { return static_cast<unsigned>(std::bit_cast<std::uint64_t>(x) >> 52) & 0x7FFu; }
  Format format_;
  std::array<double, 2048> table_{}, inverse_{};
};

/// The next value of f above x (toward +Inf) and below it; x need not be representable.
/// Past max_finite: +Inf for IEEE formats, NaN for formats without infinities.
double next_up(const Format& f, double x);
double next_down(const Format& f, double x);

/// Signed distance from a to b in ulps of f, measured along f's value grid: the number of
/// representable values stepped over, plus a fraction when a or b is not representable.
/// +0 and -0 are the same point. Both must be finite.
double ulp_distance(const Format& f, double a, double b);

/// What storing a binary64 (or binary32) value in f with round-to-nearest does to it.
enum class StoreEffect : std::uint8_t {
  Exact,            ///< representable: nothing happens
  Rounded,          ///< rounded to a normal value
  Subnormal,        ///< lands on a (nonzero) subnormal: precision is lost beyond the usual u
  UnderflowToZero,  ///< a nonzero value becomes ±0
  Overflow,         ///< becomes ±Inf, saturates, or becomes NaN (per the overflow policy)
  NaN,              ///< was already NaN
};
constexpr std::string_view store_effect_name(StoreEffect e) {
  constexpr std::string_view names[] = {"exact", "rounded", "subnormal", "underflow-to-zero", "overflow", "nan"};
  return names[static_cast<int>(e)];
}
StoreEffect store_effect(const Format& f, double x);

}  // namespace fpaudit
