#include "format/encoding.h"

#include <cassert>
#include <cmath>
#include <limits>

namespace fpaudit {

namespace {
struct Layout {
  int w;                    // exponent field width
  int t;                    // trailing fraction bits, p - 1
  int bias;
  std::uint32_t exp_mask;   // all-ones exponent field value
  std::uint32_t frac_mask;
};
Layout layout(const Format& f) {
  const int t = f.precision - 1;
  const int w = f.storage_bits - f.precision;
  return {w, t, 1 - f.emin, (1u << w) - 1, (1u << t) - 1};
}
}  // namespace

double decode(const Format& f, std::uint32_t bits) {
  assert(f.storage_bits > 0);
  const Layout L = layout(f);
  const bool negative = (bits >> (f.storage_bits - 1)) & 1;
  const std::uint32_t e = (bits >> L.t) & L.exp_mask;
  const std::uint32_t frac = bits & L.frac_mask;
  double mag;
  if (e == L.exp_mask && f.encoding == Encoding::IEEE) {
    if (frac != 0) return std::numeric_limits<double>::quiet_NaN();
    mag = std::numeric_limits<double>::infinity();
  } else if (e == L.exp_mask && frac == L.frac_mask) {  // FiniteNanOnly: S.1..1.1..1
    return std::numeric_limits<double>::quiet_NaN();
  } else if (e == 0) {
    mag = std::ldexp(static_cast<double>(frac), f.emin - L.t);
  } else {
    mag = std::ldexp(static_cast<double>(frac | (1u << L.t)), static_cast<int>(e) - L.bias - L.t);
  }
  return negative ? -mag : mag;
}

std::uint32_t encode(const Format& f, double value) {
  assert(f.storage_bits > 0);
  const Layout L = layout(f);
  const std::uint32_t sign = std::signbit(value) ? 1u << (f.storage_bits - 1) : 0u;
  if (std::isnan(value)) {
    return f.encoding == Encoding::IEEE ? (L.exp_mask << L.t) | (1u << (L.t - 1))
                                        : (L.exp_mask << L.t) | L.frac_mask;
  }
  const double a = std::fabs(value);
  if (std::isinf(a)) return sign | (L.exp_mask << L.t);
  if (a == 0) return sign;
  int e;
  (void)std::frexp(a, &e);
  e -= 1;  // a = 1.f × 2^e
  if (e < f.emin) {
    const auto frac = static_cast<std::uint32_t>(std::ldexp(a, L.t - f.emin));
    return sign | frac;
  }
  const auto sig = static_cast<std::uint32_t>(std::ldexp(a, L.t - e));
  return sign | (static_cast<std::uint32_t>(e + L.bias) << L.t) | (sig & L.frac_mask);
}

}  // namespace fpaudit
