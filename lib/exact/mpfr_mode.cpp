#include "exact/mpfr_mode.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "exact/mpfr_mode_detail.h"
#include "format/from_mpfr.h"

namespace fpaudit::exact::mp {

namespace {

/// Boost's conversion from decimal digits to bits (boost/multiprecision/detail/digits.hpp).
unsigned boost_bits_of(unsigned digits10) { return boost::multiprecision::detail::digits10_2_2(digits10); }

/// The fewest decimal digits whose Boost precision holds at least bits bits.
unsigned digits10_for(int bits) {
  unsigned d = 1;
  while (boost_bits_of(d) < static_cast<unsigned>(bits)) ++d;
  return d;
}

}  // namespace

std::optional<int> parse_mode(std::string_view mode) {
  constexpr std::string_view prefix = "mpfr:";
  if (mode.substr(0, prefix.size()) != prefix) return std::nullopt;
  const std::string_view digits = mode.substr(prefix.size());
  int bits = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  if (bits < kMinBits || bits > kMaxBits) return std::nullopt;
  return bits;
}

PrecisionScope::PrecisionScope(int bits) : bits_(bits), previous_digits10_(Real::default_precision()) {
  if (bits < kMinBits || bits > kMaxBits) {
    throw std::invalid_argument("mpfr mode: " + std::to_string(bits) + " bits is outside [" +
                                std::to_string(kMinBits) + ", " + std::to_string(kMaxBits) + "]");
  }
  Real::default_precision(digits10_for(bits));
}

PrecisionScope::~PrecisionScope() { Real::default_precision(previous_digits10_); }

int PrecisionScope::boost_bits() const { return static_cast<int>(boost_bits_of(digits10_for(bits_))); }

Real make_real(double x, int bits) {
  Real r = detail::with_precision(std::max(bits, 53));
  mpfr_set_d(detail::raw(r), x, MPFR_RNDN);  // exact: at least 53 bits
  return r;
}

int precision_bits(const Real& r) { return static_cast<int>(mpfr_get_prec(detail::raw(r))); }

double to_double(const Real& r) { return mpfr_get_d(detail::raw(r), MPFR_RNDN); }

Rounded to_format(const Format& f, const Real& r, Round mode) { return round_mpfr(f, detail::raw(r), mode); }

double certified_bits(const CertifiedReal& c) {
  if (mpfr_zero_p(detail::raw(c.abs_error_bound))) return std::numeric_limits<double>::infinity();
  if (!mpfr_regular_p(detail::raw(c.value)) || !mpfr_number_p(detail::raw(c.abs_error_bound))) return 0;
  long ev = 0, eb = 0;
  const double mv = mpfr_get_d_2exp(&ev, detail::raw(c.value), MPFR_RNDN);
  const double mb = mpfr_get_d_2exp(&eb, detail::raw(c.abs_error_bound), MPFR_RNDN);
  return static_cast<double>(ev - eb) + std::log2(std::fabs(mv)) - std::log2(mb);
}

}  // namespace fpaudit::exact::mp
