// The order of a sum is data: a DotSchedule names it, accumulate() carries it out, and the
// bound functions (lib/bounds) read the same DotSchedule to derive their constants. The CUDA
// kernels include this header too (FPAUDIT_HD), so GPU, CPU emulation and theory share one
// definition of every summation order.
//
//   Sequential   s = ((t0 + t1) + t2) + ...             one accumulator (an FMA chain)
//   TwoLane      even terms in lane 0, odd in lane 1, lanes added at the end (half2 kernels)
//   Blocked(b)   sequential partial sums of b terms, added sequentially into the total
//                (k-blocked GEMM main loops)
//   Pairwise(L)  split in halves (the first ⌈n/2⌉ terms and the rest) until at most L terms
//                remain, sum those sequentially, add the halves (tree reductions)
//   TensorCore(b, g)  blocks of b terms, each fused with the running sum in one aligned,
//                truncated multi-operand addition (tensor_core_block.h: the tensor-core
//                model), g alignment bits beyond binary32's 23. Only accumulators that model
//                it (Binary16Fma, Binary32Fma: those with fused_block) take this schedule.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/hd.h"
#include "core/tensor_core_block.h"

namespace fpaudit {

enum class SumOrder : std::uint8_t { Sequential, TwoLane, Blocked, Pairwise, TensorCore };

struct DotSchedule {
  SumOrder order = SumOrder::Sequential;
  int block = 0;       ///< Blocked, TensorCore: terms per block; Pairwise: largest leaf summed sequentially
  int extra_bits = 0;  ///< TensorCore: alignment bits kept beyond binary32's 23 fraction bits

  static constexpr DotSchedule sequential() { return {SumOrder::Sequential, 0}; }
  static constexpr DotSchedule two_lane() { return {SumOrder::TwoLane, 0}; }
  static constexpr DotSchedule blocked(int b) { return {SumOrder::Blocked, b}; }
  static constexpr DotSchedule pairwise(int leaf) { return {SumOrder::Pairwise, leaf}; }
  static constexpr DotSchedule tensor_core(int b, int extra = 0) { return {SumOrder::TensorCore, b, extra}; }
  friend constexpr bool operator==(const DotSchedule&, const DotSchedule&) = default;
};

/// Fraction bits a tensor-core block keeps when it aligns its addends (tensor_core_block.h).
FPAUDIT_HD inline int tensor_core_fraction_bits(const DotSchedule& s) { return tc::kBinary32FractionBits + s.extra_bits; }

/// "sequential", "two-lane", "blocked-32", "pairwise-8", "tensor-core-8", "tensor-core-16+2".
std::string schedule_name(const DotSchedule& s);
/// Parses schedule_name's output, and "tensor-core" alone for tensor-core-8 (the block of
/// A100-class tensor cores, kDefaultTensorCoreBlock); returns false on anything else.
bool parse_schedule(std::string_view text, DotSchedule& out);
inline constexpr int kDefaultTensorCoreBlock = 8;

/// The longest chain of roundings any single term goes through in a sum of n terms under s
/// (each step or combine it takes part in rounds once). The deterministic bound of a recursive
/// sum is then γ_k with this k (Higham, Accuracy and Stability, §3.1 and §4.2). For TensorCore
/// it is the number of blocks, ⌈n/b⌉; that schedule's bound is not γ_k(u) but the tensor-core
/// rule (lib/bounds/sum_constants.h, theory/tensor-core.md).
FPAUDIT_HD inline long rounding_depth(const DotSchedule& s, long n) {
  if (n <= 1) return n <= 0 ? 0 : 1;
  switch (s.order) {
    case SumOrder::Sequential: return n;
    case SumOrder::TensorCore: {
      const long b = s.block > 0 ? s.block : 1;
      return (n + b - 1) / b;
    }
    case SumOrder::TwoLane: return (n + 1) / 2 + 1;
    case SumOrder::Blocked: {
      if (s.block <= 0 || n <= s.block) return n;
      const long blocks = (n + s.block - 1) / s.block;
      return s.block + blocks - 1;
    }
    case SumOrder::Pairwise: {
      // The halving tree is not balanced in depth (n = 17, leaf 8 splits into 9 → 5 + 4 and a
      // leaf of 8), so follow every node length level by level: lengths on one level are at
      // most two consecutive integers.
      const long leaf = s.block > 0 ? s.block : 1;
      long lens[2] = {n, n}, best = 0;
      for (long level = 0;; ++level) {
        long next[4];
        int count = 0;
        for (long len : lens) {
          if (len <= leaf) {
            best = best > level + len ? best : level + len;
          } else {
            next[count++] = (len + 1) / 2;
            next[count++] = len / 2;
          }
        }
        if (count == 0) return best;
        long lo = next[0], hi = next[0];
        for (int i = 1; i < count; ++i) {
          lo = next[i] < lo ? next[i] : lo;
          hi = next[i] > hi ? next[i] : hi;
        }
        lens[0] = lo;
        lens[1] = hi;
      }
    }
  }
  return n;
}

namespace detail {
/// Reached only if a caller hands a TensorCore schedule to an accumulator without fused_block.
/// ChainArithmetic refuses such chains and gemm_float keeps the schedule off its vector path, so
/// this is a broken invariant of the code, never a consequence of input.
[[noreturn]] FPAUDIT_HD inline void tensor_core_schedule_without_model() {
#if defined(__CUDA_ARCH__)
  __trap();
  __builtin_unreachable();
#else
  std::fputs("fpaudit: internal error: a tensor-core schedule reached an accumulator that does not model it\n", stderr);
  std::abort();
#endif
}
template <class A, class Terms>
FPAUDIT_HD typename A::value sum_range(const A& acc, long begin, long end, const Terms& terms) {
  typename A::value s = acc.zero();
  for (long i = begin; i < end; ++i) s = acc.step(s, terms(i));
  return s;
}
template <class A, class Terms>
FPAUDIT_HD typename A::value sum_pairwise(const A& acc, long begin, long end, long leaf, const Terms& terms) {
  if (end - begin <= leaf) return sum_range(acc, begin, end, terms);
  const long mid = begin + (end - begin + 1) / 2;
  return acc.combine(sum_pairwise(acc, begin, mid, leaf, terms), sum_pairwise(acc, mid, end, leaf, terms));
}
}  // namespace detail

/// Sums terms(0..n-1) under schedule s with accumulator policy A:
///   A::value A::zero()                            the empty sum
///   A::value A::step(A::value acc, term)          acc + term, rounded as the chain does
///   A::value A::combine(A::value a, A::value b)   a + b, rounded in the accumulator format
/// Terms is a callable i -> term (for a dot product, the pair x_i, w_i). A::value may be a
/// SIMD vector: the same schedule then runs in every lane.
template <class A, class Terms>
FPAUDIT_HD typename A::value accumulate(const A& acc, const DotSchedule& s, long n, const Terms& terms) {
  using V = typename A::value;
  switch (s.order) {
    case SumOrder::Sequential: break;
    case SumOrder::TwoLane: {
      if (n <= 1) break;
      V lane0 = acc.zero(), lane1 = acc.zero();
      long i = 0;
      for (; i + 1 < n; i += 2) {
        lane0 = acc.step(lane0, terms(i));
        lane1 = acc.step(lane1, terms(i + 1));
      }
      if (i < n) lane0 = acc.step(lane0, terms(i));
      return acc.combine(lane0, lane1);
    }
    case SumOrder::Blocked: {
      if (s.block <= 0 || n <= s.block) break;
      V total = detail::sum_range(acc, 0, s.block, terms);
      for (long start = s.block; start < n; start += s.block)
        total = acc.combine(total, detail::sum_range(acc, start, start + s.block < n ? start + s.block : n, terms));
      return total;
    }
    case SumOrder::Pairwise:
      return detail::sum_pairwise(acc, 0, n, s.block > 0 ? s.block : 1, terms);
    case SumOrder::TensorCore:
      // A::fused_block(acc, begin, end, fraction_bits, terms): one tensor-core block over terms
      // [begin, end) with the running sum as its accumulator input (tensor_core_block.h).
      if constexpr (requires { acc.fused_block(acc.zero(), 0L, 0L, 0, terms); }) {
        const long b = s.block > 0 ? s.block : 1;
        const int bits = tensor_core_fraction_bits(s);
        V total = acc.zero();
        for (long start = 0; start < n; start += b) total = acc.fused_block(total, start, start + b < n ? start + b : n, bits, terms);
        return total;
      } else {
        detail::tensor_core_schedule_without_model();
      }
  }
  return detail::sum_range(acc, 0, n, terms);
}

}  // namespace fpaudit
