#include "format/format.h"

#include <array>
#include <cmath>

#include <fmt/format.h>

namespace fpaudit {

namespace {
constexpr std::array kNamed = {binary16(), bfloat16(), binary32(), tf32(),
                               e4m3(),     e4m3_nosat(), e5m2()};

struct Alias { std::string_view alias; std::string_view name; };
constexpr std::array kAliases = {
    Alias{"fp16", "binary16"}, Alias{"half", "binary16"},   Alias{"bf16", "bfloat16"},
    Alias{"fp32", "binary32"}, Alias{"float", "binary32"},  Alias{"fp8-e4m3", "e4m3"},
    Alias{"fp8-e5m2", "e5m2"}, Alias{"e4m3fn", "e4m3"},
};
}  // namespace

std::span<const Format> named_formats() { return kNamed; }

std::optional<Format> format_by_name(std::string_view name) {
  for (const Alias& a : kAliases)
    if (a.alias == name) name = a.name;
  for (const Format& f : kNamed)
    if (f.name == name) return f;
  return std::nullopt;
}

double decimal_digits(const Format& f) { return f.precision * std::log10(2.0); }

FormatDiagnostics validate(const Format& f) {
  FormatDiagnostics d;
  auto error = [&](std::string s) { d.errors += (d.errors.empty() ? "" : "; ") + s; };
  auto warn = [&](std::string s) { d.warnings += (d.warnings.empty() ? "" : "; ") + s; };

  if (f.precision < 2 || f.precision > 26)
    error(fmt::format("precision {} outside 2..26 (products must be exact in binary64)", f.precision));
  if (f.emin < -480 || f.emax > 480 || f.emin >= f.emax)
    error(fmt::format("exponent range [{}, {}] not within -480 <= emin < emax <= 480", f.emin, f.emax));
  if (f.encoding == Encoding::FiniteNanOnly && f.overflow == OverflowPolicy::Infinity)
    error("a format without infinities cannot overflow to infinity");
  if (!f.subnormals)
    warn(fmt::format("no subnormals: results below 2^{} round to 0 or to 2^{}", f.emin, f.emin));
  if (f.storage_bits != 0) {
    const int w = f.storage_bits - f.precision;  // exponent field width
    if (w < 2 || w > 11) {
      error(fmt::format("{} storage bits leave a {}-bit exponent field", f.storage_bits, w));
    } else {
      const int bias = (1 << (w - 1)) - 1;
      const int emax = f.encoding == Encoding::IEEE ? bias : (1 << w) - 1 - bias;
      if (f.emin != 1 - bias || f.emax != emax)
        error(fmt::format("a {}-bit exponent field gives emin {} and emax {}, not {} and {}", w,
                          1 - bias, emax, f.emin, f.emax));
      if (!f.subnormals) error("encoded formats have subnormals (exponent field 0)");
    }
  }
  return d;
}

}  // namespace fpaudit
