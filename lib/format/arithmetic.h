// Arithmetic in a format, each operation correctly rounded: the exact result, known as an
// unevaluated binary64 pair (error-free transformations), goes through round_exact once.
//
// Operands are values of a format with p ≤ 26 (validate() enforces it for every Format), so
// products of two operands are exact in binary64 and no intermediate leaves its normal range.
#pragma once

#include "format/round.h"

namespace fpaudit {

/// The exact a + b as hi + lo (Knuth's TwoSum; exact barring binary64 overflow).
struct TwoTerm { double hi, lo; };
inline TwoTerm two_sum(double a, double b) {
  const double s = a + b;
  const double bb = s - a;
  const double err = (a - (s - bb)) + (b - bb);
  return {s, err};
}
/// The exact a × b as hi + lo (the FMA residual; exact barring underflow).
inline TwoTerm two_prod(double a, double b) {
  const double p = a * b;
  return {p, std::fma(a, b, -p)};
}

Rounded add(const Format& f, double a, double b, Round mode = Round::NearestEven, std::uint64_t random_bits = 0);
Rounded sub(const Format& f, double a, double b, Round mode = Round::NearestEven, std::uint64_t random_bits = 0);
Rounded mul(const Format& f, double a, double b, Round mode = Round::NearestEven, std::uint64_t random_bits = 0);
Rounded div(const Format& f, double a, double b, Round mode = Round::NearestEven, std::uint64_t random_bits = 0);
Rounded sqrt(const Format& f, double a, Round mode = Round::NearestEven, std::uint64_t random_bits = 0);
/// a × b + c with one rounding.
Rounded fma(const Format& f, double a, double b, double c, Round mode = Round::NearestEven, std::uint64_t random_bits = 0);

}  // namespace fpaudit
