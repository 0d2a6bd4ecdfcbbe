// The reference's elementary functions remembered for 16-bit arguments. The local evaluations
// of the fp16 and bf16 chains run the reference on inputs rounded to binary16 or bfloat16, so
// the same few thousand arguments come back sample after sample, and each correctly rounded
// exp or erf costs 1-10 µs of MPFR. A function of one binary64 argument is deterministic, so
// remembering f(x) changes no bit; only arguments that are binary16 or bfloat16 values are
// remembered (65536 of each), in tables filled on first use, shared by all threads.
#pragma once

#include <atomic>
#include <bit>
#include <cstdint>
#include <memory>
#include <mutex>

#include "format/binary16.h"

namespace fpaudit {

class SixteenBitMemo {
 public:
  /// f(x), from the table when x is a binary16 or bfloat16 value and f(x) was seen before.
  template <class F>
  double operator()(double x, F&& f) const {
    std::atomic<std::uint64_t>* slot = slot_of(x);
    if (slot == nullptr) return f(x);
    const std::uint64_t bits = slot->load(std::memory_order_relaxed);
    if (bits != kEmpty) return std::bit_cast<double>(bits);
    const double y = f(x);
    slot->store(std::bit_cast<std::uint64_t>(y), std::memory_order_relaxed);  // racing writers store the same bits
    return y;
  }

 private:
  /// A signalling NaN with a payload: no function here returns one (NaN results are quiet).
  static constexpr std::uint64_t kEmpty = 0x7FF0DEAD0000BEEFull;
  using Table = std::atomic<std::uint64_t>[];

  std::atomic<std::uint64_t>* slot_of(double x) const {
    const auto single = static_cast<float>(x);
    if (static_cast<double>(single) != x) return nullptr;  // not even binary32 (NaN included)
    const std::uint32_t u = float_bits(single);
    if (b16::to_float(b16::from_float(single)) == single) return &table(half_, half_once_)[b16::from_float(single)];
    if ((u & 0xFFFFu) == 0) return &table(brain_, brain_once_)[u >> 16];  // bfloat16: the top half of binary32
    return nullptr;
  }
  std::atomic<std::uint64_t>* table(std::unique_ptr<Table>& t, std::once_flag& once) const {
    std::call_once(once, [&] {
      t = std::make_unique<Table>(1 << 16);
      for (int i = 0; i < (1 << 16); ++i) t[i].store(kEmpty, std::memory_order_relaxed);
    });
    return t.get();
  }

  mutable std::unique_ptr<Table> half_, brain_;
  mutable std::once_flag half_once_, brain_once_;
};

}  // namespace fpaudit
