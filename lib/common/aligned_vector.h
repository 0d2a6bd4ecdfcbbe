// Vectors whose data starts on a cache line (64 bytes), for the buffers the GEMM kernels stream
// with 64-byte vector loads: binary32 operand packs, im2col matrices and outputs.
//
// Why: malloc aligns to 16 bytes only, so where such a buffer starts on a line depended on what
// else the process had allocated. With every 16-lane load of a misaligned buffer straddling two
// lines, the shipped CNN's `run` took 12 % longer after an unrelated change to a help string
// moved the heap (0.175 → 0.196 s for 2,000 images, GEMM 32 → 38 % of the samples under perf).
#pragma once

#include <cstddef>
#include <new>
#include <vector>

namespace fpaudit {

template <class T, std::size_t Align = 64>
struct AlignedAllocator {
  using value_type = T;
  template <class U>
  struct rebind {
    using other = AlignedAllocator<U, Align>;
  };
  AlignedAllocator() = default;
  template <class U>
  AlignedAllocator(const AlignedAllocator<U, Align>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{Align})); }
  void deallocate(T* p, std::size_t) noexcept { ::operator delete(p, std::align_val_t{Align}); }
  template <class U>
  bool operator==(const AlignedAllocator<U, Align>&) const noexcept {
    return true;
  }
};

/// A std::vector whose data() is 64-byte aligned.
template <class T>
using CacheAlignedVector = std::vector<T, AlignedAllocator<T>>;

}  // namespace fpaudit
