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

}  // namespace fpaudit
