// How numbers are spelled in reports: three significant digits for people (plain text, Markdown,
// LaTeX, HTML), the shortest round-trip form for machines (CSV). One place, so the same value
// reads the same in every format.
#pragma once

#include <string>

namespace fpaudit {

/// A number split for display: `mantissa` × 10^`exponent` when `scientific`, else `mantissa`
/// alone. Values in [0.001, 100000) are written in fixed point with 3 significant digits
/// (0.00165, 21.9, 2064); others in scientific notation (1.78e-5, 3.4e38). Trailing zeros are
/// dropped (1.5, not 1.50). A value that is not ±1 never reads as ±1: it keeps the digits that
/// tell it from 1 (0.99996, 1.00004), since ratios are read against 1. Zero is "0"; NaN and
/// ±Inf give special = "nan", "inf", "-inf".
struct CompactNumber {
  std::string special;  ///< non-empty for NaN and ±Inf
  std::string mantissa;
  int exponent = 0;
  bool scientific = false;
};
CompactNumber compact_number(double v);

/// "1.78e-5", "21.9", "0", "inf", "nan".
std::string compact_text(double v);
/// "$1.78{\times}10^{-5}$", "21.9", "$\infty$".
std::string compact_latex(double v);
/// "97.5%" from 0.975 with one decimal; "nan" when not finite. A fraction strictly between 0
/// and 1 never reads as 0% or 100%: it gets more decimals (0.9995 → "99.95%", 1e-4 → "0.01%").
std::string percent_text(double fraction, int decimals = 1);
/// percent_text without the "%" ("97.5"), for formats that spell the sign their own way.
std::string percent_number(double fraction, int decimals = 1);
/// Shortest text that reads back as the same double; "nan", "inf", "-inf" spelled out.
std::string roundtrip_text(double v);

}  // namespace fpaudit
