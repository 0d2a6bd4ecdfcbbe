// The floating-point environment the reference's proofs assume: IEEE 754 binary64 rounding to
// nearest with gradual underflow. A caller (or a library it loaded) may have changed it:
// fesetround, or the x86 MXCSR flush-to-zero / denormals-are-zero bits that -ffast-math
// objects set at start-up. Every public entry point of lib/exact that computes with binary64
// hardware arithmetic holds this guard, which restores the default for the call only.
#pragma once

#if defined(__x86_64__) || defined(_M_X64)
#include <xmmintrin.h>
#else
#include <cfenv>
#endif

namespace fpaudit::exact::detail {

class DefaultFloatingPointEnvironment {
 public:
#if defined(__x86_64__) || defined(_M_X64)
  // MXCSR: FTZ is bit 15, DAZ bit 6, the rounding control bits 13-14 (00 = to nearest).
  DefaultFloatingPointEnvironment() : saved_(_mm_getcsr()) {
    const unsigned wanted = saved_ & ~(0x8000u | 0x0040u | 0x6000u);
    if (wanted != saved_) _mm_setcsr(wanted);
  }
  ~DefaultFloatingPointEnvironment() {
    if (_mm_getcsr() != saved_) _mm_setcsr(saved_);
  }
#else
  DefaultFloatingPointEnvironment() : saved_(static_cast<unsigned>(std::fegetround())) {
    if (saved_ != static_cast<unsigned>(FE_TONEAREST)) std::fesetround(FE_TONEAREST);
  }
  ~DefaultFloatingPointEnvironment() {
    if (saved_ != static_cast<unsigned>(FE_TONEAREST)) std::fesetround(static_cast<int>(saved_));
  }
#endif
  DefaultFloatingPointEnvironment(const DefaultFloatingPointEnvironment&) = delete;
  DefaultFloatingPointEnvironment& operator=(const DefaultFloatingPointEnvironment&) = delete;

 private:
  unsigned saved_;
};

}  // namespace fpaudit::exact::detail
