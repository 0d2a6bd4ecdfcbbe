// FPAUDIT_HD marks functions compiled for both the host and the CUDA device, so the arithmetic
// the GPU kernels perform and the arithmetic the CPU chains emulate are one definition.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define FPAUDIT_HD __host__ __device__
#else
#define FPAUDIT_HD
#endif

namespace fpaudit {

FPAUDIT_HD inline std::uint32_t float_bits(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}
FPAUDIT_HD inline float bits_float(std::uint32_t u) {
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}
FPAUDIT_HD inline std::uint64_t double_bits(double x) {
  std::uint64_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}
FPAUDIT_HD inline double bits_double(std::uint64_t u) {
  double x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

/// The exact value s + err rounded to odd at 53 bits, where s = RN64(s + err) and err its exact
/// residual (e.g. from TwoSum): s itself when exact, else s moved toward the exact value's side
/// with its last bit set. One more rounding of the result to any format of at most 51 bits is
/// then the correct rounding of s + err (round to odd, Boldo-Melquiond).
FPAUDIT_HD inline double round_to_odd53(double s, double err) {
  if (err == 0.0) return s;
  std::uint64_t b = double_bits(s);
  if ((err < 0.0) != (s < 0.0)) b -= 1;  // the exact magnitude is below |s|: truncate
  return bits_double(b | 1u);
}

/// a + b rounded to odd at 53 bits (TwoSum, then round_to_odd53); a + b must be finite.
FPAUDIT_HD inline double sum_to_odd53(double a, double b) {
  const double s = a + b;
  const double bb = s - a;
  return round_to_odd53(s, (a - (s - bb)) + (b - bb));
}

}  // namespace fpaudit
