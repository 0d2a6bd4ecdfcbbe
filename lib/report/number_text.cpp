#include "report/number_text.h"

#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

namespace fpaudit {

namespace {

/// A value near ±1 gets up to this many decimals (0.999996); closer, it is written as 1-d.
constexpr int kMaxNearOneDecimals = 6;

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
    int decimals = std::max(0, 2 - exponent);
    n.mantissa = strip_trailing_zeros(fmt::format("{:.{}f}", v, decimals));
    // Ratios are read against 1 (observed/bound above 1 is a violation), so a value that is not
    // ±1 never prints as ±1: it gets the digits that tell it apart (0.99996, 1.00004).
    while ((n.mantissa == "1" || n.mantissa == "-1") && std::fabs(v) != 1 && decimals < kMaxNearOneDecimals)
      n.mantissa = strip_trailing_zeros(fmt::format("{:.{}f}", v, ++decimals));
    // Closer still, the distance from 1 says it in fewer characters: 1-4.4e-15, 1+2.2e-16.
    if ((n.mantissa == "1" || n.mantissa == "-1") && std::fabs(v) != 1) {
      const double a = std::fabs(v);
      const std::string d = fmt::format("{:.1e}", std::fabs(a - 1));  // below 5e-7, so always "4.4e-15"
      n.mantissa = fmt::format("{}1{}{}e{}", v < 0 ? "-" : "", (a < 1) == (v > 0) ? '-' : '+', strip_trailing_zeros(d.substr(0, d.find('e'))),
                               std::atoi(d.c_str() + d.find('e') + 1));
    }
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

std::string percent_number(double fraction, int decimals) {
  if (!std::isfinite(fraction)) return "nan";
  std::string s = fmt::format("{:.{}f}", 100.0 * fraction, decimals);
  // "100.0%" claims every sample and "0.0%" none: a share that is neither gets the digits that
  // say so (1999 of 2000 is 99.95%, not 100.0%).
  auto reads_as = [](const std::string& t, double percent) { return std::strtod(t.c_str(), nullptr) == percent; };
  while (fraction > 0 && fraction < 1 && (reads_as(s, 0) || reads_as(s, 100)) && decimals < 17)
    s = fmt::format("{:.{}f}", 100.0 * fraction, ++decimals);
  return s;
}

std::string percent_text(double fraction, int decimals) {
  const std::string s = percent_number(fraction, decimals);
  return s == "nan" ? s : s + "%";
}

std::string roundtrip_text(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmt::format("{}", v);
}

}  // namespace fpaudit
