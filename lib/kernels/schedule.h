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
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/hd.h"

namespace fpaudit {

enum class SumOrder : std::uint8_t { Sequential, TwoLane, Blocked, Pairwise };

struct DotSchedule {
  SumOrder order = SumOrder::Sequential;
  int block = 0;  ///< Blocked: terms per block; Pairwise: largest leaf summed sequentially

  static constexpr DotSchedule sequential() { return {SumOrder::Sequential, 0}; }
  static constexpr DotSchedule two_lane() { return {SumOrder::TwoLane, 0}; }
  static constexpr DotSchedule blocked(int b) { return {SumOrder::Blocked, b}; }
  static constexpr DotSchedule pairwise(int leaf) { return {SumOrder::Pairwise, leaf}; }
  friend constexpr bool operator==(const DotSchedule&, const DotSchedule&) = default;
};

/// "sequential", "two-lane", "blocked-32", "pairwise-8".
std::string schedule_name(const DotSchedule& s);
/// Parses schedule_name's output; returns false on anything else.
bool parse_schedule(std::string_view text, DotSchedule& out);

/// The longest chain of roundings any single term goes through in a sum of n terms under s
/// (each step or combine it takes part in rounds once). The deterministic bound of a recursive
/// sum is then γ_k with this k (Higham, Accuracy and Stability, §3.1 and §4.2).
FPAUDIT_HD inline long rounding_depth(const DotSchedule& s, long n) {
  if (n <= 1) return n <= 0 ? 0 : 1;
  switch (s.order) {
    case SumOrder::Sequential: return n;
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
  }
  return detail::sum_range(acc, 0, n, terms);
}

}  // namespace fpaudit
