// Picks the kernel set once, from the CPU's reported features (never from compile flags).
#include <cstdlib>
#include <string_view>

#include "exact/dot_kernels.h"

namespace fpaudit::exact::detail {

namespace {

const DotKernels& choose() {
  const DotKernels* avx512 = avx512_kernels();
  const DotKernels* avx2 = avx2_kernels();
  if (const char* forced = std::getenv("FPAUDIT_EXACT_ISA")) {
    const std::string_view name(forced);
    if (name == "scalar") return scalar_kernels();
    if (name == "avx2" && avx2) return *avx2;
    if (name == "avx512" && avx512) return *avx512;
  }
  if (avx512) return *avx512;
  if (avx2) return *avx2;
  return scalar_kernels();
}

}  // namespace

const DotKernels& active_kernels() {
  static const DotKernels& kernels = choose();  // thread-safe initialisation (C++11)
  return kernels;
}

}  // namespace fpaudit::exact::detail
