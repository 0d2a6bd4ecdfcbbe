#include "bounds/matmul_sums.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "common/cpu_features.h"
#include "common/vector_lanes.h"

namespace fpaudit::bounds {

namespace {

/// The definition, one element at a time: terms in k order, all-zero rows of A skipped.
/// Columns [n0, N): the columns left over when B holds a non-finite value (where adding 0·Inf
/// would differ from skipping).
void plain(const RowBlockSums& b, long rows, long n0, double* S, double* Ed, double* Ep) {
  const long bld = b.bm_stride(), old = b.out_stride();
  for (long r = 0; r < rows; ++r)
    for (long n = n0; n < b.N; ++n) {
      double s = 0, ed = 0, ep = 0;
      for (long k = 0; k < b.K; ++k) {
        const double a = b.am[r * b.K + k], d = b.ead[r * b.K + k], p = b.eap[r * b.K + k];
        if (a == 0 && d == 0 && p == 0) continue;
        const double bm = b.bm[k * bld + n], e = b.ed[k * b.ld + n];
        s += a * bm;
        ed += a * e + d * (bm + e);
        if (b.prob) ep += a * b.ep[k * b.ld + n] + p * (bm + b.ep[k * b.ld + n]);
      }
      S[r * old + n] = s;
      Ed[r * old + n] = ed;
      if (b.prob) Ep[r * old + n] = ep;
    }
}

/// Columns [n0, N) one element at a time with every term added: with B finite, an all-zero row
/// of A adds exactly +0 to a sum that starts at +0 and takes only nonnegative terms (never −0),
/// which leaves it unchanged, the same bits as skipping it.
template <bool kProb>
void edge(const RowBlockSums& b, long rows, long n0, double* S, double* Ed, double* Ep) {
  const long bld = b.bm_stride(), old = b.out_stride();
  for (long r = 0; r < rows; ++r)
    for (long n = n0; n < b.N; ++n) {
      double s = 0, ed = 0, ep = 0;
      for (long k = 0; k < b.K; ++k) {
        const double a = b.am[r * b.K + k], d = b.ead[r * b.K + k];
        const double bm = b.bm[k * bld + n], e = b.ed[k * b.ld + n];
        s += a * bm;
        ed += a * e + d * (bm + e);
        if constexpr (kProb) ep += a * b.ep[k * b.ld + n] + b.eap[r * b.K + k] * (bm + b.ep[k * b.ld + n]);
      }
      S[r * old + n] = s;
      Ed[r * old + n] = ed;
      if constexpr (kProb) Ep[r * old + n] = ep;
    }
}

/// R rows × one vector of columns held in registers over all k: the same operations per element
/// as `edge`, lane by lane (GCC vector + and * are IEEE binary64 per lane; -ffp-contract=off
/// keeps them unfused), with bm + ed formed once per k for all R rows (the same value each row
/// would form). With kSkip (B holds a non-finite value), a row's k whose a, ead and eap are all
/// zero is skipped, as `plain` skips it: the condition is the row's, the same for every lane.
/// Columns [n0, N) in whole vectors; returns the first column left over.
template <class V, long R, bool kProb, bool kSkip = false>
[[gnu::always_inline]] inline long rows_by_vector(const RowBlockSums& b, long n0, double* S, double* Ed, double* Ep) {
  constexpr long L = sizeof(V) / sizeof(double);
  const long bld = b.bm_stride(), old = b.out_stride();
  for (; n0 + L <= b.N; n0 += L) {
    V s[R] = {}, ed[R] = {}, ep[R] = {};
    for (long k = 0; k < b.K; ++k) {
      V bm, e, p{};
      __builtin_memcpy(&bm, b.bm + k * bld + n0, sizeof(V));
      __builtin_memcpy(&e, b.ed + k * b.ld + n0, sizeof(V));
      const V t = bm + e;
      V tp{};
      if constexpr (kProb) {
        __builtin_memcpy(&p, b.ep + k * b.ld + n0, sizeof(V));
        tp = bm + p;
      }
      for (long r = 0; r < R; ++r) {
        const double a = b.am[r * b.K + k], d = b.ead[r * b.K + k];
        if constexpr (kSkip)
          if (a == 0 && d == 0 && b.eap[r * b.K + k] == 0) continue;
        s[r] += a * bm;
        ed[r] += a * e + d * t;
        if constexpr (kProb) ep[r] += a * p + b.eap[r * b.K + k] * tp;
      }
    }
    for (long r = 0; r < R; ++r) {
      __builtin_memcpy(S + r * old + n0, &s[r], sizeof(V));
      __builtin_memcpy(Ed + r * old + n0, &ed[r], sizeof(V));
      if constexpr (kProb) __builtin_memcpy(Ep + r * old + n0, &ep[r], sizeof(V));
    }
  }
  return n0;
}

/// B exact (RowBlockSums::b_exact): R rows × C vectors of columns, s += a·bm and, with kErr,
/// ed += d·bm (and ep += p·bm): each element's terms those of rows_by_vector up to the sign of a
/// zero term, in the same order. Without kErr only S (A's error bounds are zero). Returns the first
/// column left over.
template <class V, long R, long C, bool kErr, bool kProb>
[[gnu::always_inline]] inline long exact_b_by_vectors(const RowBlockSums& b, long n0, double* S, double* Ed, double* Ep) {
  constexpr long L = sizeof(V) / sizeof(double);
  const long bld = b.bm_stride(), old = b.out_stride();
  for (; n0 + C * L <= b.N; n0 += C * L) {
    V s[R][C] = {}, ed[R][C] = {}, ep[R][C] = {};
    for (long k = 0; k < b.K; ++k) {
      V bm[C];
      for (long c = 0; c < C; ++c) __builtin_memcpy(&bm[c], b.bm + k * bld + n0 + c * L, sizeof(V));
      for (long r = 0; r < R; ++r) {
        const double a = b.am[r * b.K + k];
        for (long c = 0; c < C; ++c) s[r][c] += a * bm[c];
        if constexpr (kErr) {
          const double d = b.ead[r * b.K + k];
          for (long c = 0; c < C; ++c) ed[r][c] += d * bm[c];
          if constexpr (kProb) {
            const double p = b.eap[r * b.K + k];
            for (long c = 0; c < C; ++c) ep[r][c] += p * bm[c];
          }
        }
      }
    }
    for (long r = 0; r < R; ++r)
      for (long c = 0; c < C; ++c) {
        __builtin_memcpy(S + r * old + n0 + c * L, &s[r][c], sizeof(V));
        if constexpr (kErr) {
          __builtin_memcpy(Ed + r * old + n0 + c * L, &ed[r][c], sizeof(V));
          if constexpr (kProb) __builtin_memcpy(Ep + r * old + n0 + c * L, &ep[r][c], sizeof(V));
        }
      }
  }
  return n0;
}

/// Whether the A block allows the exact-B kernels: every |a| finite (a·0 is then ±0); into
/// *no_err whether every ead (and eap) is ±0.
inline bool a_finite(const RowBlockSums& b, long rows, bool* no_err) {
  int finite = 1, zero = 1;
  const long n = rows * b.K;
  for (long i = 0; i < n; ++i) {
    finite &= b.am[i] * 0 == 0;
    zero &= (b.ead[i] == 0) & (!b.prob || b.eap[i] == 0);
  }
  *no_err = zero != 0;
  return finite != 0;
}

using V8 = double __attribute__((vector_size(64)));
using V4 = double __attribute__((vector_size(32)));
using V2 = double __attribute__((vector_size(16)));

/// Whole vectors of the widest type, the rest in narrower ones (small Conv planes: 4 or 16
/// columns), the last column alone: every element's operations are the same whichever it gets.
template <long R, bool kProb, class... Vs>
[[gnu::always_inline]] inline void columns(const RowBlockSums& b, double* S, double* Ed, double* Ep) {
  long n0 = 0;
  ((n0 = rows_by_vector<Vs, R, kProb>(b, n0, S, Ed, Ep)), ...);
  edge<kProb>(b, R, n0, S, Ed, Ep);
}

/// B holds a non-finite value: the same vectors with the definition's skip, the rest by `plain`.
/// (A-priori enclosures that overflowed make whole layers of such B: ResNet-50's scalar loop was
/// 40 % of its audit.)
template <long R, bool kProb, class... Vs>
[[gnu::always_inline]] inline void columns_skipping(const RowBlockSums& b, double* S, double* Ed, double* Ep) {
  long n0 = 0;
  ((n0 = rows_by_vector<Vs, R, kProb, true>(b, n0, S, Ed, Ep)), ...);
  plain(b, R, n0, S, Ed, Ep);
}

/// B exact: the columns in vectors of the widest type (two at a time for S alone, whose R·2
/// accumulators fit in registers; with Ed and Ep, 3·R already fill them), then narrower, then the
/// edge (whose element-by-element terms are the definition's). Without A's errors, Ed and Ep are
/// +0: every term is ±0 (a and bm finite) and a sum from +0 stays +0.
template <long R, bool kErr, bool kProb, class V, class... Vs>
[[gnu::always_inline]] inline void exact_b_columns(const RowBlockSums& b, double* S, double* Ed, double* Ep) {
  long n0 = kErr ? 0 : exact_b_by_vectors<V, R, 2, kErr, kProb>(b, 0, S, Ed, Ep);
  n0 = exact_b_by_vectors<V, R, 1, kErr, kProb>(b, n0, S, Ed, Ep);
  ((n0 = exact_b_by_vectors<Vs, R, 1, kErr, kProb>(b, n0, S, Ed, Ep)), ...);
  edge<kProb>(b, R, n0, S, Ed, Ep);
  if constexpr (!kErr) {
    const long old = b.out_stride();
    for (long r = 0; r < R; ++r) {
      std::fill(Ed + r * old, Ed + r * old + n0, 0.0);
      if constexpr (kProb) std::fill(Ep + r * old, Ep + r * old + n0, 0.0);
    }
  }
}

template <long R, class... Vs>
[[gnu::always_inline]] inline void sums(const RowBlockSums& b, double* S, double* Ed, double* Ep) {
  bool no_err = false;
  if (!b.b_finite) {
    b.prob ? columns_skipping<R, true, Vs...>(b, S, Ed, Ep) : columns_skipping<R, false, Vs...>(b, S, Ed, Ep);
  } else if (b.b_exact && a_finite(b, R, &no_err)) {
    if (no_err)
      b.prob ? exact_b_columns<R, false, true, Vs...>(b, S, Ed, Ep) : exact_b_columns<R, false, false, Vs...>(b, S, Ed, Ep);
    else
      b.prob ? exact_b_columns<R, true, true, Vs...>(b, S, Ed, Ep) : exact_b_columns<R, true, false, Vs...>(b, S, Ed, Ep);
  } else if (b.prob) {
    columns<R, true, Vs...>(b, S, Ed, Ep);
  } else {
    columns<R, false, Vs...>(b, S, Ed, Ep);
  }
}

// One instantiation per instruction set, picked once at run time; all compute the same bits.
[[gnu::target("avx512f")]] void sums_avx512(const RowBlockSums& b, double* S, double* Ed, double* Ep) { sums<8, V8, V4, V2>(b, S, Ed, Ep); }
[[gnu::target("avx2")]] void sums_avx2(const RowBlockSums& b, double* S, double* Ed, double* Ep) { sums<4, V4, V2>(b, S, Ed, Ep); }
void sums_sse2(const RowBlockSums& b, double* S, double* Ed, double* Ep) { sums<2, V2>(b, S, Ed, Ep); }

struct Kernel {
  long rows;
  void (*run)(const RowBlockSums&, double*, double*, double*);
};

const Kernel& kernel() {
  static const Kernel k = cpu::avx512f() ? Kernel{8, sums_avx512}
                          : cpu::avx2()    ? Kernel{4, sums_avx2}
                                           : Kernel{2, sums_sse2};
  return k;
}

}  // namespace

// Compiled for AVX-512 and AVX2 as well as any x86-64: the loop vectorises (no sum across
// elements; the finiteness flag is an integer AND), and every value is the same in each clone.
__attribute__((target_clones("avx512f", "avx2", "default")))
bool b_magnitudes(const double* lo, const double* hi, const double* ed, const double* ep, long ld, long K, long N, double* bm,
                  bool* exact) {
  int finite = 1, zero = 1;
  for (long k = 0; k < K; ++k) {
    const double *l = lo + k * ld, *h = hi + k * ld, *e = ed + k * ld, *p = ep + k * ld;
    double* out = bm + k * N;
    for (long n = 0; n < N; ++n) {
      const double bl = std::fabs(l[n]), bh = std::fabs(h[n]);
      const double m = bh < bl ? bl : bh;  // std::max(bh, bl)
      out[n] = m;
      // (x)·0 is 0 for finite x, NaN for ±Inf and NaN; a sum with a non-finite term is
      // non-finite, so this is isfinite(m + e) && isfinite(m + p) (which implies each term's).
      finite &= ((m + e[n]) * 0 + (m + p[n]) * 0) == 0;
      zero &= (e[n] == 0) & (p[n] == 0);
    }
  }
  if (exact) *exact = zero != 0;
  return finite != 0;
}

namespace {

/// One row of A contiguous in k: am = (|lo| > |hi| ? |lo| : |hi|) with |x| written x < 0 ? -x : x,
/// as Enclosure::magnitude takes it, lane by lane (the comparisons select exactly as the scalar
/// ternaries do, NaN included); the tail one element at a time.
template <class V>
[[gnu::always_inline]] inline void a_row(const double* l, const double* h, const double* e, const double* q, long K, double* m,
                                         double* d, double* p) {
  constexpr long L = sizeof(V) / sizeof(double);
  long k = 0;
  for (; k + L <= K; k += L) {
    V lo, hi;
    __builtin_memcpy(&lo, l + k, sizeof(V));
    __builtin_memcpy(&hi, h + k, sizeof(V));
    const V a = lo < 0 ? -lo : lo, b = hi < 0 ? -hi : hi;
    const V mag = a > b ? a : b;
    __builtin_memcpy(m + k, &mag, sizeof(V));
  }
  for (; k < K; ++k) {
    const double a = l[k] < 0 ? -l[k] : l[k], b = h[k] < 0 ? -h[k] : h[k];
    m[k] = a > b ? a : b;
  }
  __builtin_memcpy(d, e, static_cast<std::size_t>(K) * sizeof(double));
  __builtin_memcpy(p, q, static_cast<std::size_t>(K) * sizeof(double));
}

template <class V>
[[gnu::always_inline]] inline void a_rows_of(const double* lo, const double* hi, const double* ed, const double* ep, long stride_i,
                                             long stride_j, long rows, long K, double* am, double* ead, double* eap) {
  for (long r = 0; r < rows; ++r) {
    const long base = r * stride_i;
    double *m = am + r * K, *d = ead + r * K, *p = eap + r * K;
    if (stride_j == 1) {  // rows contiguous in k (the weights of every Conv)
      a_row<V>(lo + base, hi + base, ed + base, ep + base, K, m, d, p);
      continue;
    }
    for (long k = 0; k < K; ++k) {
      const long i = base + k * stride_j;
      const double a = lo[i] < 0 ? -lo[i] : lo[i], b = hi[i] < 0 ? -hi[i] : hi[i];
      m[k] = a > b ? a : b;
      d[k] = ed[i];
      p[k] = ep[i];
    }
  }
}

[[gnu::target("avx512f")]] void a_rows_avx512(const double* lo, const double* hi, const double* ed, const double* ep, long si,
                                             long sj, long rows, long K, double* am, double* ead, double* eap) {
  a_rows_of<V8>(lo, hi, ed, ep, si, sj, rows, K, am, ead, eap);
}
[[gnu::target("avx2")]] void a_rows_avx2(const double* lo, const double* hi, const double* ed, const double* ep, long si, long sj,
                                         long rows, long K, double* am, double* ead, double* eap) {
  a_rows_of<V4>(lo, hi, ed, ep, si, sj, rows, K, am, ead, eap);
}
void a_rows_sse2(const double* lo, const double* hi, const double* ed, const double* ep, long si, long sj, long rows, long K,
                 double* am, double* ead, double* eap) {
  a_rows_of<V2>(lo, hi, ed, ep, si, sj, rows, K, am, ead, eap);
}

}  // namespace

void a_rows(const double* lo, const double* hi, const double* ed, const double* ep, long stride_i, long stride_j, long rows,
            long K, double* am, double* ead, double* eap) {
  static const auto fill = cpu::avx512f() ? a_rows_avx512 : cpu::avx2() ? a_rows_avx2 : a_rows_sse2;
  fill(lo, hi, ed, ep, stride_i, stride_j, rows, K, am, ead, eap);
}

namespace {

/// column_sums with the eight partial sums in 8 / L vectors of L lanes; the tail one term at a
/// time into its lane. kPoint: lo and hi are one array (a point, such as the weights), read once;
/// max(|x|, |x|) is |x|, the same bits. The sums stream B's arrays from memory (a Gemm's weights,
/// once per output), so every array not read counts.
template <class V, bool kProb, bool kPoint>
[[gnu::always_inline]] inline void column_sums_of(const double* am, const double* ead, const double* eap, const double* lo,
                                                  const double* hi, const double* ed, const double* ep, long K, double* S, double* Ed,
                                                  double* Ep) {
  constexpr long L = sizeof(V) / sizeof(double), P = 8 / L;
  V s[P] = {}, e[P] = {}, p[P] = {};
  long k = 0;
  for (; k + 8 <= K; k += 8)
    for (long q = 0; q < P; ++q) {
      const long j = k + q * L;
      V l, h, a, d, x;
      __builtin_memcpy(&l, lo + j, sizeof(V));
      __builtin_memcpy(&a, am + j, sizeof(V));
      __builtin_memcpy(&d, ead + j, sizeof(V));
      __builtin_memcpy(&x, ed + j, sizeof(V));
      V bm;
      lanes::abs(l, bm);
      if constexpr (!kPoint) {
        __builtin_memcpy(&h, hi + j, sizeof(V));
        lanes::abs(h, h);
        bm = bm > h ? bm : h;
      }
      s[q] += a * bm;
      e[q] += a * x + d * (bm + x);
      if constexpr (kProb) {
        V ap, y;
        __builtin_memcpy(&ap, eap + j, sizeof(V));
        __builtin_memcpy(&y, ep + j, sizeof(V));
        p[q] += a * y + ap * (bm + y);
      }
    }
  double sl[8], el[8], pl[8];
  __builtin_memcpy(sl, s, sizeof sl);
  __builtin_memcpy(el, e, sizeof el);
  __builtin_memcpy(pl, p, sizeof pl);
  for (long l = 0; k < K; ++k, ++l) {
    const double bl = std::fabs(lo[k]), bh = std::fabs(hi[k]);
    const double bm = bl > bh ? bl : bh;
    sl[l] += am[k] * bm;
    el[l] += am[k] * ed[k] + ead[k] * (bm + ed[k]);
    if constexpr (kProb) pl[l] += am[k] * ep[k] + eap[k] * (bm + ep[k]);
  }
  *S = ((sl[0] + sl[1]) + (sl[2] + sl[3])) + ((sl[4] + sl[5]) + (sl[6] + sl[7]));
  *Ed = ((el[0] + el[1]) + (el[2] + el[3])) + ((el[4] + el[5]) + (el[6] + el[7]));
  if constexpr (kProb) *Ep = ((pl[0] + pl[1]) + (pl[2] + pl[3])) + ((pl[4] + pl[5]) + (pl[6] + pl[7]));
}

template <class V>
[[gnu::always_inline]] inline void column_sums_in(const double* am, const double* ead, const double* eap, const double* lo, const double* hi,
                                                  const double* ed, const double* ep, long K, bool prob, double* S, double* Ed,
                                                  double* Ep) {
  const bool point = lo == hi;
  if (prob)
    point ? column_sums_of<V, true, true>(am, ead, eap, lo, hi, ed, ep, K, S, Ed, Ep)
          : column_sums_of<V, true, false>(am, ead, eap, lo, hi, ed, ep, K, S, Ed, Ep);
  else
    point ? column_sums_of<V, false, true>(am, ead, eap, lo, hi, ed, ep, K, S, Ed, Ep)
          : column_sums_of<V, false, false>(am, ead, eap, lo, hi, ed, ep, K, S, Ed, Ep);
}

using ColumnKernel = void (*)(const double*, const double*, const double*, const double*, const double*, const double*, const double*,
                              long, bool, double*, double*, double*);
[[gnu::target("avx512f")]] void column_sums_avx512(const double* am, const double* ead, const double* eap, const double* lo,
                                                   const double* hi, const double* ed, const double* ep, long K, bool prob, double* S,
                                                   double* Ed, double* Ep) {
  column_sums_in<V8>(am, ead, eap, lo, hi, ed, ep, K, prob, S, Ed, Ep);
}
[[gnu::target("avx2")]] void column_sums_avx2(const double* am, const double* ead, const double* eap, const double* lo,
                                              const double* hi, const double* ed, const double* ep, long K, bool prob, double* S,
                                              double* Ed, double* Ep) {
  column_sums_in<V4>(am, ead, eap, lo, hi, ed, ep, K, prob, S, Ed, Ep);
}
void column_sums_sse2(const double* am, const double* ead, const double* eap, const double* lo, const double* hi, const double* ed,
                      const double* ep, long K, bool prob, double* S, double* Ed, double* Ep) {
  column_sums_in<V2>(am, ead, eap, lo, hi, ed, ep, K, prob, S, Ed, Ep);
}

}  // namespace

void column_sums(const double* am, const double* ead, const double* eap, const double* lo, const double* hi, const double* ed,
                 const double* ep, long K, bool prob, double* S, double* Ed, double* Ep) {
  static const ColumnKernel kernel = cpu::avx512f() ? column_sums_avx512 : cpu::avx2() ? column_sums_avx2 : column_sums_sse2;
  kernel(am, ead, eap, lo, hi, ed, ep, K, prob, S, Ed, Ep);
}

long row_block_height() { return kernel().rows; }

void row_block_sums(const RowBlockSums& b, double* S, double* Ed, double* Ep) { kernel().run(b, S, Ed, Ep); }

}  // namespace fpaudit::bounds
