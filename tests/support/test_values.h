// Seeded test values for the kernels' bit-for-bit tests: a linear congruential generator (Knuth's
// MMIX constants) drawing mantissas of 10 bits over 40 binades (from 2^-20 to below 2^20), about one value in
// eight exactly zero, so that sums mix magnitudes and skip zeros as real weights make them.
#pragma once

#include <cmath>
#include <cstdint>

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

}  // namespace fpaudit::test
