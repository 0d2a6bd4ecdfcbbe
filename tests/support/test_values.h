// Seeded test values for the kernels' bit-for-bit tests: a linear congruential generator (Knuth's
// MMIX constants) drawing mantissas of 10 bits over 40 binades (from 2^-20 to below 2^20), about one value in
// eight exactly zero, so that sums mix magnitudes and skip zeros as real weights make them; and,
// for the vector forms of the bound arithmetic, values over the whole binary64 range with the
// special ones.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace fpaudit::test {

/// The generator's next 53 bits.
inline std::uint64_t next_bits(std::uint64_t& s) {
  s = s * 6364136223846793005ULL + 1442695040888963407ULL;
  return s >> 11;
}

/// A 10-bit mantissa in [1, 2) from the low bits of r.
inline double mantissa(std::uint64_t r) { return 1.0 + static_cast<double>(r % 1024) / 1024.0; }

/// Nonnegative values (magnitudes, |w|·|x| operands).
struct Magnitudes {
  std::uint64_t s;
  double next() {
    const std::uint64_t r = next_bits(s);
    return r % 8 == 0 ? 0.0 : std::ldexp(mantissa(r), static_cast<int>((r >> 10) % 40) - 20);
  }
};

/// Values of both signs (cotangents, weights).
struct SignedValues {
  std::uint64_t s;
  double next() {
    const std::uint64_t r = next_bits(s);
    if (r % 8 == 0) return 0.0;
    return ((r >> 10) % 2 ? -1.0 : 1.0) * std::ldexp(mantissa(r), static_cast<int>((r >> 11) % 40) - 20);
  }
};

/// Both signs, exponents over [-1074, 1023] or near 1, and one value in eight special (±0, the
/// smallest subnormals, ±Inf, NaN, binary16's rounding threshold, 1e300, an E4M3 value): what a
/// vector form of bound arithmetic must treat exactly as its scalar form does.
struct WideValues {
  std::uint64_t s;
  std::uint64_t bits() { return next_bits(s); }
  double next() {
    static const double special[] = {0.0, -0.0, 0x1p-1074, -0x1p-1060, INFINITY, -INFINITY, NAN, 65520.0, 1e300, 448.5};
    const std::uint64_t r = bits();
    if (r % 8 == 0) return special[(r >> 3) % 10];
    const double mant = 1.0 + static_cast<double>((r >> 3) % 4096) / 4096.0;
    const int e = (r >> 15) % 2 ? static_cast<int>((r >> 16) % 2098) - 1074 : static_cast<int>((r >> 16) % 40) - 20;
    return ((r >> 30) % 2 ? -1.0 : 1.0) * std::ldexp(mant, e);
  }
};

/// The same bits element by element, except that a NaN equals any NaN: a vector form may give a
/// NaN the other sign (x86's default NaN is negative, and which operand's NaN an operation passes
/// on depends on operand order, which the compiler may swap). Nothing in the bounds reads a NaN's
/// sign: every comparison with it is false, fabs clears it, and bounds::nan_to_inf makes it +Inf.
inline bool same_bits_or_nan(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::memcmp(&a[i], &b[i], sizeof(double)) != 0 && !(std::isnan(a[i]) && std::isnan(b[i]))) return false;
  return true;
}

}  // namespace fpaudit::test
