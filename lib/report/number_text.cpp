#include "report/number_text.h"

#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

namespace fpaudit {

namespace {

/// "1.500" → "1.5", "2.000" → "2", "146" unchanged.
std::string strip_trailing_zeros(std::string s) {
  if (s.find('.') == std::string::npos) return s;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

CompactNumber compact_number(double v) {
  if (std::isnan(v)) return {"nan", "", 0, false};
  if (std::isinf(v)) return {v > 0 ? "inf" : "-inf", "", 0, false};
  if (v == 0) return {"", "0", 0, false};
  CompactNumber n;
  // Decide fixed or scientific on the value as it will be printed (0.000999996 prints as 0.001).
  const std::string sci = fmt::format("{:.2e}", v);
  const std::size_t e = sci.find('e');
  const int exponent = std::atoi(sci.c_str() + e + 1);
  if (exponent >= -3 && exponent < 5) {
    n.mantissa = strip_trailing_zeros(fmt::format("{:.{}f}", v, std::max(0, 2 - exponent)));
  } else {
    n.mantissa = strip_trailing_zeros(sci.substr(0, e));
    n.exponent = exponent;
    n.scientific = true;
  }
  return n;
}

std::string compact_text(double v) {
  const CompactNumber n = compact_number(v);
  if (!n.special.empty()) return n.special;
  return n.scientific ? fmt::format("{}e{}", n.mantissa, n.exponent) : n.mantissa;
}

std::string compact_latex(double v) {
  const CompactNumber n = compact_number(v);
  if (n.special == "nan") return "NaN";
  if (!n.special.empty()) return n.special == "inf" ? "$\\infty$" : "$-\\infty$";
  if (!n.scientific) return n.mantissa[0] == '-' ? "$" + n.mantissa + "$" : n.mantissa;
  return fmt::format("${}{{\\times}}10^{{{}}}$", n.mantissa, n.exponent);
}

std::string percent_text(double fraction, int decimals) {
  if (!std::isfinite(fraction)) return "nan";
  return fmt::format("{:.{}f}%", 100.0 * fraction, decimals);
}

std::string roundtrip_text(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmt::format("{}", v);
}

}  // namespace fpaudit
