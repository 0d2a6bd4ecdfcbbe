#include "bounds/matmul_sums.h"

namespace fpaudit::bounds {

namespace {

/// The definition, one element at a time: terms in k order, all-zero rows of A skipped. Used
/// when B holds a non-finite value (where adding 0·Inf would differ from skipping).
void plain(const RowBlockSums& b, long rows, double* S, double* Ed, double* Ep) {
  for (long r = 0; r < rows; ++r)
    for (long n = 0; n < b.N; ++n) {
      double s = 0, ed = 0, ep = 0;
      for (long k = 0; k < b.K; ++k) {
        const double a = b.am[r * b.K + k], d = b.ead[r * b.K + k], p = b.eap[r * b.K + k];
        if (a == 0 && d == 0 && p == 0) continue;
        const double bm = b.bm[k * b.N + n], e = b.ed[k * b.ld + n];
        s += a * bm;
        ed += a * e + d * (bm + e);
        if (b.prob) ep += a * b.ep[k * b.ld + n] + p * (bm + b.ep[k * b.ld + n]);
      }
      S[r * b.N + n] = s;
      Ed[r * b.N + n] = ed;
      if (b.prob) Ep[r * b.N + n] = ep;
    }
}

/// Columns [n0, N) one element at a time with every term added: with B finite, an all-zero row
/// of A adds exactly +0 to a sum that starts at +0 and takes only nonnegative terms (never −0),
/// which leaves it unchanged, the same bits as skipping it.
template <bool kProb>
void edge(const RowBlockSums& b, long rows, long n0, double* S, double* Ed, double* Ep) {
  for (long r = 0; r < rows; ++r)
    for (long n = n0; n < b.N; ++n) {
      double s = 0, ed = 0, ep = 0;
      for (long k = 0; k < b.K; ++k) {
        const double a = b.am[r * b.K + k], d = b.ead[r * b.K + k];
        const double bm = b.bm[k * b.N + n], e = b.ed[k * b.ld + n];
        s += a * bm;
        ed += a * e + d * (bm + e);
        if constexpr (kProb) ep += a * b.ep[k * b.ld + n] + b.eap[r * b.K + k] * (bm + b.ep[k * b.ld + n]);
      }
      S[r * b.N + n] = s;
      Ed[r * b.N + n] = ed;
      if constexpr (kProb) Ep[r * b.N + n] = ep;
    }
}

/// R rows × one vector of columns held in registers over all k: the same operations per element
/// as `edge`, lane by lane (GCC vector + and * are IEEE binary64 per lane; -ffp-contract=off
/// keeps them unfused), with bm + ed formed once per k for all R rows (the same value each row
/// would form).
template <class V, long R, bool kProb>
[[gnu::always_inline]] inline void rows_by_vector(const RowBlockSums& b, double* S, double* Ed, double* Ep) {
  constexpr long L = sizeof(V) / sizeof(double);
  const long blocked = b.N - b.N % L;
  for (long n0 = 0; n0 < blocked; n0 += L) {
    V s[R] = {}, ed[R] = {}, ep[R] = {};
    for (long k = 0; k < b.K; ++k) {
      V bm, e, p{};
      __builtin_memcpy(&bm, b.bm + k * b.N + n0, sizeof(V));
      __builtin_memcpy(&e, b.ed + k * b.ld + n0, sizeof(V));
      const V t = bm + e;
      V tp{};
      if constexpr (kProb) {
        __builtin_memcpy(&p, b.ep + k * b.ld + n0, sizeof(V));
        tp = bm + p;
      }
      for (long r = 0; r < R; ++r) {
        const double a = b.am[r * b.K + k], d = b.ead[r * b.K + k];
        s[r] += a * bm;
        ed[r] += a * e + d * t;
        if constexpr (kProb) ep[r] += a * p + b.eap[r * b.K + k] * tp;
      }
    }
    for (long r = 0; r < R; ++r) {
      __builtin_memcpy(S + r * b.N + n0, &s[r], sizeof(V));
      __builtin_memcpy(Ed + r * b.N + n0, &ed[r], sizeof(V));
      if constexpr (kProb) __builtin_memcpy(Ep + r * b.N + n0, &ep[r], sizeof(V));
    }
  }
  edge<kProb>(b, R, blocked, S, Ed, Ep);
}

template <class V, long R>
[[gnu::always_inline]] inline void sums(const RowBlockSums& b, double* S, double* Ed, double* Ep) {
  if (!b.b_finite) {
    plain(b, R, S, Ed, Ep);
  } else if (b.prob) {
    rows_by_vector<V, R, true>(b, S, Ed, Ep);
  } else {
    rows_by_vector<V, R, false>(b, S, Ed, Ep);
  }
}

using V8 = double __attribute__((vector_size(64)));
using V4 = double __attribute__((vector_size(32)));
using V2 = double __attribute__((vector_size(16)));

// One instantiation per instruction set, picked once at run time; all compute the same bits.
[[gnu::target("avx512f")]] void sums_avx512(const RowBlockSums& b, double* S, double* Ed, double* Ep) { sums<V8, 8>(b, S, Ed, Ep); }
[[gnu::target("avx2")]] void sums_avx2(const RowBlockSums& b, double* S, double* Ed, double* Ep) { sums<V4, 4>(b, S, Ed, Ep); }
void sums_sse2(const RowBlockSums& b, double* S, double* Ed, double* Ep) { sums<V2, 2>(b, S, Ed, Ep); }

struct Kernel {
  long rows;
  void (*run)(const RowBlockSums&, double*, double*, double*);
};

const Kernel& kernel() {
  static const Kernel k = __builtin_cpu_supports("avx512f") ? Kernel{8, sums_avx512}
                          : __builtin_cpu_supports("avx2")  ? Kernel{4, sums_avx2}
                                                            : Kernel{2, sums_sse2};
  return k;
}

}  // namespace

long row_block_height() { return kernel().rows; }

void row_block_sums(const RowBlockSums& b, double* S, double* Ed, double* Ep) { kernel().run(b, S, Ed, Ep); }

}  // namespace fpaudit::bounds
