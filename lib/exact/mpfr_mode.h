// The mpfr:BITS mode: every operation performed at BITS bits (64 ≤ BITS ≤ 4096) with MPFR
// through Boost.Multiprecision's mpfr_float (the number type whose precision is chosen at run
// time). It cross-checks the exact fast path and evaluates what has no exact fast path; every
// result carries a certified bound on its own error.
//
// THREADING RULE (Boost 1.74). mpfr_float's default precision is one process-wide value, and
// Boost's own operators and functions temporarily *write* it whenever an operand's precision
// differs from it (boost::multiprecision::detail::scoped_default_precision). Hence:
//   1. Create a PrecisionScope (which sets that default) only outside parallel regions, and
//      keep it alive while the threads run; never change precisions inside a parallel region.
//   2. Inside parallel regions, use the functions of this header (they take the precision
//      explicitly, create their values at exactly that precision and call MPFR on the
//      backends directly: they never touch Boost's default), or Boost operators on values
//      that all have the scope's precision (then Boost never writes the default either).
//   3. MPFR itself is thread-safe (Debian builds it with TLS: mpfr_buildopt_tls_p()); its
//      exponent range and flags are per thread, and these functions keep the caller's.
// Boost counts precision in decimal digits and converts with digits10_2_2, so Boost-created
// temporaries under a scope of BITS bits have scope.boost_bits() ≥ BITS bits (at most 3 more);
// values made here have exactly BITS.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include <boost/multiprecision/mpfr.hpp>

#include "format/round.h"

namespace fpaudit::exact::mp {

using Real = boost::multiprecision::mpfr_float;

inline constexpr int kMinBits = 64;
inline constexpr int kMaxBits = 4096;

/// "mpfr:256" → 256; nullopt for anything else or BITS outside [kMinBits, kMaxBits].
std::optional<int> parse_mode(std::string_view mode);

/// Sets Boost's process-wide default precision for mpfr_float to BITS (see the threading rule)
/// for its lifetime and restores the previous default afterwards.
class PrecisionScope {
 public:
  /// std::invalid_argument when bits is outside [kMinBits, kMaxBits].
  explicit PrecisionScope(int bits);
  ~PrecisionScope();
  PrecisionScope(const PrecisionScope&) = delete;
  PrecisionScope& operator=(const PrecisionScope&) = delete;

  int bits() const { return bits_; }
  /// The precision of values Boost creates under this scope (≥ bits()).
  int boost_bits() const;

 private:
  int bits_;
  unsigned previous_digits10_;
};

/// A value and a bound on |value - exact| (both MPFR numbers: the bound of a 4096-bit result
/// is far below binary64's range). The bound is 0 when the value is exact, +Inf when MPFR
/// over- or underflowed.
struct CertifiedReal {
  Real value;
  Real abs_error_bound;
};

/// x exactly, as a value of precision bits (≥ 53).
Real make_real(double x, int bits);
/// The precision of r in bits.
int precision_bits(const Real& r);
/// r rounded to nearest binary64 (subnormals, overflow to ±Inf included).
double to_double(const Real& r);
/// r rounded into a Format of lib/format (p ≤ 26), in any of its modes, through round_mpfr.
Rounded to_format(const Format& f, const Real& r, Round mode = Round::NearestEven);
/// -log2(bound / |value|): the bits of the value the bound certifies (+Inf when exact).
double certified_bits(const CertifiedReal& c);

/// Σ x_i·w_i + bias evaluated left to right with every product and every sum rounded to
/// nearest at bits: |value - exact| ≤ γ_{n+1}(|bias| + Σ|x_i·w_i|), γ_k = k·2^-bits/(1 - k·2^-bits)
/// (theory/reference-arithmetic.md §7); the bound is computed with upward rounding.
CertifiedReal dot(std::span<const double> x, std::span<const double> w, double bias, int bits);
CertifiedReal dot(std::span<const Real> x, std::span<const Real> w, const Real& bias, int bits);
/// Σ x_i, left to right at bits: |value - exact| ≤ γ_{n-1}·Σ|x_i|.
CertifiedReal sum(std::span<const double> x, int bits);

/// The elementary functions at bits, correctly rounded to nearest (MPFR's own functions, or a
/// Ziv loop for sigmoid and GELU): bound half an ulp at bits, 0 when exact.
CertifiedReal exp(const Real& x, int bits);
CertifiedReal log(const Real& x, int bits);
CertifiedReal tanh(const Real& x, int bits);
CertifiedReal sigmoid(const Real& x, int bits);
CertifiedReal erf(const Real& x, int bits);
CertifiedReal gelu(const Real& x, int bits);
CertifiedReal sqrt(const Real& x, int bits);
CertifiedReal rsqrt(const Real& x, int bits);
CertifiedReal div(const Real& a, const Real& b, int bits);
CertifiedReal pow(const Real& x, const Real& c, int bits);

}  // namespace fpaudit::exact::mp
