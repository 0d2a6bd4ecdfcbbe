// Lane-wise helpers for GCC vector types of doubles (vector_size 16, 32 or 64), shared by the
// hand-vectorised kernels: each gives, lane by lane, the same bits as its scalar operation, so a
// kernel built on them computes what its scalar definition computes. Out-parameters rather than
// return values: a vector returned from a function outside a target("avx...") context draws
// GCC's -Wpsabi note; always_inline puts them in their caller's target context.
#pragma once

namespace fpaudit::lanes {

/// out = |x| as std::fabs takes it: the sign bit cleared (−0 and NaN included).
template <class V>
[[gnu::always_inline]] inline void abs(const V& x, V& out) {
  using I = decltype(V{} < V{});  // the signed 64-bit integer vector of the same width
  out = reinterpret_cast<V>(reinterpret_cast<I>(x) & (I{} + 0x7fffffffffffffffLL));
}

/// v in every lane (a −0 stays −0, which adding v to a zero vector would not keep).
template <class V>
[[gnu::always_inline]] inline void broadcast(double v, V& out) {
  if constexpr (sizeof(V) == 16) out = V{v, v};
  else if constexpr (sizeof(V) == 32) out = V{v, v, v, v};
  else out = V{v, v, v, v, v, v, v, v};
}

// GCC 12 reports the braced vector of strided loads as maybe-uninitialized once inlined into a
// loop: a false positive.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
/// The lanes p[0], p[step], p[2·step], ...: one plain load when step is 1. A braced vector, not
/// lane stores: four scalar stores and one vector load stall on store forwarding.
template <class V>
[[gnu::always_inline]] inline void load(const double* p, long step, V& out) {
  if (step == 1) {
    __builtin_memcpy(&out, p, sizeof(V));
  } else if constexpr (sizeof(V) == 16) {
    out = V{p[0], p[step]};
  } else if constexpr (sizeof(V) == 32) {
    out = V{p[0], p[step], p[2 * step], p[3 * step]};
  } else {
    out = V{p[0], p[step], p[2 * step], p[3 * step], p[4 * step], p[5 * step], p[6 * step], p[7 * step]};
  }
}
#pragma GCC diagnostic pop

}  // namespace fpaudit::lanes
