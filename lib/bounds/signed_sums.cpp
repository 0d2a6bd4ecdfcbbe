// The signed-partial-sum bound of a sequential dot product: see signed_sums.h and
// theory/probabilistic-signed.md (Theorem 1; §3 for the binary64 evaluation below).
#include "bounds/signed_sums.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "bounds/transfer.h"
#include "common/cpu_features.h"
#include "common/vector_lanes.h"

namespace fpaudit::bounds {

namespace {

/// Tiles whose partial sums are carried at once, in registers while k runs, three accumulators
/// each (p, r and the sum of squares): 4 rows of 8 columns, or one row of 32 columns for a row
/// alone (a Gemm of batch 1 comes a row at a time: a 4-row tile would compute three rows of
/// padding, and one row of 8 columns would wait on its two dependency chains).
constexpr long kRows = 4, kCols = 8, kWideCols = 32;

/// The sum of squares Σ_i (ŵ_i + a)² for rows [m0, m0 + rows) and columns [n0, n0 + nt)
/// (rows ≤ kR, nt ≤ kC), ŵ_i the binary64 value of
/// |p̂_i| + c_n + Σ_{k≤i}(|a_mid|·b_rad + a_rad·(|b_mid| + b_rad)) of theory/probabilistic-signed.md
/// §3: p̂_i the running sum of a_mid·b_mid, c_n its rounding allowance, a the underflow allowance
/// of the radius products. A point operand (lo = hi) has radius 0 and skips its half; kUnit: B's
/// columns are contiguous. Padding rows and columns compute on zeros and are not stored. Every
/// element takes the same operations in the same order in every form and vector width.
template <bool kAPoint, bool kBPoint, bool kUnit, long kR, long kC>
[[gnu::always_inline]] inline void squares_tile(const MatmulBound& g, const SignedB& b, long m0, long rows, long n0, long nt,
                                                const double* c, double a, double* V) {
  const double *alo = g.A.e->lo->data.data(), *ahi = g.A.e->hi->data.data();
  double p[kR][kC] = {}, r[kR][kC] = {}, v[kR][kC] = {}, cc[kR][kC] = {};
  for (long q = 0; q < rows; ++q)
    for (long n = 0; n < nt; ++n) cc[q][n] = c[q * g.N + n0 + n];
  const long step = kUnit ? 1 : b.step;
  // A full tile reads B's row in a loop of constant length, which becomes vector loads; with a
  // variable length GCC calls memcpy for every k (9 % of a ResNet-50 audit in memmove).
  const bool full = nt == kC;
  for (long k = 0; k < g.K; ++k) {
    double bm[kC] = {}, br[kC] = {};
    const double* mid = b.mid + k * b.ld + n0 * step;
    if (full)
      for (long n = 0; n < kC; ++n) bm[n] = mid[n * step];
    else
      for (long n = 0; n < nt; ++n) bm[n] = mid[n * step];
    if constexpr (!kBPoint) {
      const double* rad = b.rad + k * b.ld + n0 * step;
      if (full)
        for (long n = 0; n < kC; ++n) br[n] = rad[n * step];
      else
        for (long n = 0; n < nt; ++n) br[n] = rad[n * step];
    }
    for (long q = 0; q < kR; ++q) {
      MidRad x{0.0, 0.0};
      if (q < rows) {
        const long ai = g.A.at(m0 + q, k);
        x = kAPoint ? MidRad{alo[ai], 0.0} : mid_rad(alo[ai], ahi[ai]);
      }
      const double am = std::fabs(x.mid), ar = x.rad;
      for (long n = 0; n < kC; ++n) {
        p[q][n] += x.mid * bm[n];
        if constexpr (kAPoint && !kBPoint) r[q][n] += am * br[n];
        if constexpr (!kAPoint && kBPoint) r[q][n] += ar * std::fabs(bm[n]);
        if constexpr (!kAPoint && !kBPoint) r[q][n] += am * br[n] + ar * (std::fabs(bm[n]) + br[n]);
        const double w = ((std::fabs(p[q][n]) + r[q][n]) + cc[q][n]) + a;
        v[q][n] += w * w;
      }
    }
  }
  for (long q = 0; q < rows; ++q)
    for (long n = 0; n < nt; ++n) V[q * g.N + n0 + n] = v[q][n];
}

/// squares_tile over rows [m0, m0 + rows) and every column, in AVX-512 or AVX2 lanes where the
/// CPU has them: the same bits.
template <bool kAPoint, bool kBPoint, bool kUnit>
[[gnu::always_inline]] inline void squares_rows(const MatmulBound& g, const SignedB& b, long m0, long rows, const double* c,
                                                double a, double* V) {
  // Columns outside, rows inside: a column block of B (K × kCols, both halves) stays in cache
  // while every row block walks it.
  for (long n0 = 0; n0 < g.N; n0 += kCols)
    for (long q0 = 0; q0 < rows; q0 += kRows)
      squares_tile<kAPoint, kBPoint, kUnit, kRows, kCols>(g, b, m0 + q0, std::min(kRows, rows - q0), n0,
                                                          std::min(kCols, g.N - n0), c + q0 * g.N, a, V + q0 * g.N);
}

/// squares_tile over the one row m0, in tiles of kWideCols columns while they last: the same
/// operations per element as squares_rows, whose 4-row tiles would compute three rows of padding.
template <bool kAPoint, bool kBPoint, bool kUnit>
[[gnu::always_inline]] inline void squares_row(const MatmulBound& g, const SignedB& b, long m0, const double* c, double a,
                                               double* V) {
  long n0 = 0;
  for (; n0 + kWideCols <= g.N; n0 += kWideCols)
    squares_tile<kAPoint, kBPoint, kUnit, 1, kWideCols>(g, b, m0, 1, n0, kWideCols, c, a, V);
  for (; n0 < g.N; n0 += kCols) squares_tile<kAPoint, kBPoint, kUnit, 1, kCols>(g, b, m0, 1, n0, std::min(kCols, g.N - n0), c, a, V);
}

/// Calls F<kAPoint, kBPoint, kUnit>::run(args...) for the operands' case.
template <template <bool, bool, bool> class F, class... Args>
[[gnu::always_inline]] inline void by_case(bool a_point, const SignedB& b, Args&&... args) {
  const bool b_point = b.rad == nullptr, unit = b.step == 1;
  if (a_point && b_point) {
    if (unit) F<true, true, true>::run(b, args...);
    else F<true, true, false>::run(b, args...);
  } else if (a_point) {
    if (unit) F<true, false, true>::run(b, args...);
    else F<true, false, false>::run(b, args...);
  } else if (b_point) {
    if (unit) F<false, true, true>::run(b, args...);
    else F<false, true, false>::run(b, args...);
  } else {
    if (unit) F<false, false, true>::run(b, args...);
    else F<false, false, false>::run(b, args...);
  }
}
template <bool kAPoint, bool kBPoint, bool kUnit>
struct RowsCase {
  [[gnu::always_inline]] static void run(const SignedB& b, const MatmulBound& g, long m0, long rows, const double* c, double a,
                                         double* V) {
    squares_rows<kAPoint, kBPoint, kUnit>(g, b, m0, rows, c, a, V);
  }
};
template <bool kAPoint, bool kBPoint, bool kUnit>
struct RowCase {
  [[gnu::always_inline]] static void run(const SignedB& b, const MatmulBound& g, long m0, const double* c, double a, double* V) {
    squares_row<kAPoint, kBPoint, kUnit>(g, b, m0, c, a, V);
  }
};

using V4 = double __attribute__((vector_size(32)));

/// squares_tile for a full tile of kR rows and kVecs·4 columns (B's columns contiguous or strided), its
/// partial sums in AVX2 registers by explicit vectors: squares_tile's array form, compiled for
/// AVX2, kept its tiles' three accumulators on the stack (16 YMM registers hold 64 doubles: a
/// 4 × 8 tile needs 96, a 1 × 32 one 96 as well). Each element takes squares_tile's operations in
/// its order, so the bits are its.
template <bool kAPoint, bool kBPoint, bool kUnit, long kR, long kVecs>
[[gnu::always_inline]] inline void squares_tile_avx2(const MatmulBound& g, const SignedB& b, long m0, long n0, const double* c,
                                                     double a, double* V) {
  constexpr long L = 4;
  const double *alo = g.A.e->lo->data.data(), *ahi = g.A.e->hi->data.data();
  V4 p[kR][kVecs], r[kR][kVecs], v[kR][kVecs], cc[kR][kVecs];
  for (long q = 0; q < kR; ++q)
    for (long u = 0; u < kVecs; ++u) {
      p[q][u] = V4{};
      r[q][u] = V4{};
      v[q][u] = V4{};
      __builtin_memcpy(&cc[q][u], c + q * g.N + n0 + u * L, sizeof(V4));
    }
  const V4 av = {a, a, a, a};
  for (long k = 0; k < g.K; ++k) {
    V4 bm[kVecs], br[kVecs] = {}, abm[kVecs];
    for (long u = 0; u < kVecs; ++u) {
      const long j = k * b.ld + (n0 + u * L) * (kUnit ? 1 : b.step);
      lanes::load(b.mid + j, kUnit ? 1 : b.step, bm[u]);
      if constexpr (!kBPoint) lanes::load(b.rad + j, kUnit ? 1 : b.step, br[u]);
      lanes::abs(bm[u], abm[u]);
    }
    for (long q = 0; q < kR; ++q) {
      const long ai = g.A.at(m0 + q, k);
      const MidRad x = kAPoint ? MidRad{alo[ai], 0.0} : mid_rad(alo[ai], ahi[ai]);
      const double am1 = std::fabs(x.mid);
      const V4 xm = {x.mid, x.mid, x.mid, x.mid}, am = {am1, am1, am1, am1}, ar = {x.rad, x.rad, x.rad, x.rad};
      for (long u = 0; u < kVecs; ++u) {
        p[q][u] += xm * bm[u];
        if constexpr (kAPoint && !kBPoint) r[q][u] += am * br[u];
        if constexpr (!kAPoint && kBPoint) r[q][u] += ar * abm[u];
        if constexpr (!kAPoint && !kBPoint) r[q][u] += am * br[u] + ar * (abm[u] + br[u]);
        V4 ap;
        lanes::abs(p[q][u], ap);
        const V4 w = ((ap + r[q][u]) + cc[q][u]) + av;
        v[q][u] += w * w;
      }
    }
  }
  for (long q = 0; q < kR; ++q)
    for (long u = 0; u < kVecs; ++u) __builtin_memcpy(V + q * g.N + n0 + u * L, &v[q][u], sizeof(V4));
}

/// squares_rows with the full 4-column tiles in AVX2 registers, the rest by squares_tile: the
/// same operations per element either way.
template <bool kAPoint, bool kBPoint, bool kUnit>
[[gnu::always_inline]] inline void squares_rows_avx2(const MatmulBound& g, const SignedB& b, long m0, long rows, const double* c,
                                                   double a, double* V) {
  constexpr long kR = 4, kC = 4;
  const long full_cols = g.N - g.N % kC, full_rows = rows - rows % kR;
  for (long n0 = 0; n0 < full_cols; n0 += kC)
    for (long q0 = 0; q0 < full_rows; q0 += kR)
      squares_tile_avx2<kAPoint, kBPoint, kUnit, kR, 1>(g, b, m0 + q0, n0, c + q0 * g.N, a, V + q0 * g.N);
  // The last rows (fewer than kR) over every column, and the last columns of the full rows.
  for (long n0 = 0; n0 < g.N; n0 += kCols)
    for (long q0 = full_rows; q0 < rows; q0 += kRows)
      squares_tile<kAPoint, kBPoint, kUnit, kRows, kCols>(g, b, m0 + q0, std::min(kRows, rows - q0), n0, std::min(kCols, g.N - n0),
                                                          c + q0 * g.N, a, V + q0 * g.N);
  if (full_cols < g.N)
    for (long q0 = 0; q0 < full_rows; q0 += kRows)
      squares_tile<kAPoint, kBPoint, kUnit, kRows, kCols>(g, b, m0 + q0, std::min(kRows, full_rows - q0), full_cols,
                                                          g.N - full_cols, c + q0 * g.N, a, V + q0 * g.N);
}
template <bool kAPoint, bool kBPoint, bool kUnit>
struct RowsCaseAvx2 {
  [[gnu::always_inline]] static void run(const SignedB& b, const MatmulBound& g, long m0, long rows, const double* c, double a,
                                         double* V) {
    squares_rows_avx2<kAPoint, kBPoint, kUnit>(g, b, m0, rows, c, a, V);
  }
};

// The row blocks: the array form for AVX-512 (its 32 registers hold the 4 × 8 tile) and plain
// x86-64, explicit AVX2 vectors for AVX2. Picked at run time (FPAUDIT_ISA caps it).
[[gnu::target("avx512f")]] void squares_block_avx512(const MatmulBound& g, const SignedB& b, bool a_point, long m0, long rows,
                                                     const double* c, double a, double* V) {
  by_case<RowsCase>(a_point, b, g, m0, rows, c, a, V);
}
[[gnu::target("avx2")]] void squares_block_avx2(const MatmulBound& g, const SignedB& b, bool a_point, long m0, long rows,
                                                const double* c, double a, double* V) {
  by_case<RowsCaseAvx2>(a_point, b, g, m0, rows, c, a, V);
}
void squares_block_sse2(const MatmulBound& g, const SignedB& b, bool a_point, long m0, long rows, const double* c, double a,
                        double* V) {
  by_case<RowsCase>(a_point, b, g, m0, rows, c, a, V);
}
void squares_block(const MatmulBound& g, const SignedB& b, bool a_point, long m0, long rows, const double* c, double a,
                   double* V) {
  static const auto kernel = cpu::avx512f() ? squares_block_avx512 : cpu::avx2() ? squares_block_avx2 : squares_block_sse2;
  kernel(g, b, a_point, m0, rows, c, a, V);
}
/// squares_row on AVX2: 12 columns a tile in registers (one row, 3 vectors), the last columns by
/// squares_tile.
template <bool kAPoint, bool kBPoint, bool kUnit>
[[gnu::always_inline]] inline void squares_row_avx2(const MatmulBound& g, const SignedB& b, long m0, const double* c, double a,
                                                  double* V) {
  constexpr long kC = 12;
  long n0 = 0;
  for (; n0 + kC <= g.N; n0 += kC) squares_tile_avx2<kAPoint, kBPoint, kUnit, 1, kC / 4>(g, b, m0, n0, c, a, V);
  for (; n0 < g.N; n0 += kCols) squares_tile<kAPoint, kBPoint, kUnit, 1, kCols>(g, b, m0, 1, n0, std::min(kCols, g.N - n0), c, a, V);
}
template <bool kAPoint, bool kBPoint, bool kUnit>
struct RowCaseAvx2 {
  [[gnu::always_inline]] static void run(const SignedB& b, const MatmulBound& g, long m0, const double* c, double a, double* V) {
    squares_row_avx2<kAPoint, kBPoint, kUnit>(g, b, m0, c, a, V);
  }
};

// A row alone (a Gemm of batch 1), likewise: in one function with the row blocks, the two tile
// shapes made GCC vectorise the 4-row tiles with shuffles and spills (the CNN's audit took twice
// as long).
[[gnu::target("avx512f")]] void squares_single_row_avx512(const MatmulBound& g, const SignedB& b, bool a_point, long m0,
                                                          const double* c, double a, double* V) {
  by_case<RowCase>(a_point, b, g, m0, c, a, V);
}
[[gnu::target("avx2")]] void squares_single_row_avx2(const MatmulBound& g, const SignedB& b, bool a_point, long m0, const double* c,
                                                     double a, double* V) {
  by_case<RowCaseAvx2>(a_point, b, g, m0, c, a, V);
}
void squares_single_row_sse2(const MatmulBound& g, const SignedB& b, bool a_point, long m0, const double* c, double a, double* V) {
  by_case<RowCase>(a_point, b, g, m0, c, a, V);
}
void squares_single_row(const MatmulBound& g, const SignedB& b, bool a_point, long m0, const double* c, double a, double* V) {
  static const auto kernel = cpu::avx512f() ? squares_single_row_avx512
                             : cpu::avx2()  ? squares_single_row_avx2
                                            : squares_single_row_sse2;
  kernel(g, b, a_point, m0, c, a, V);
}

}  // namespace

SignedB signed_b(const MatmulBound& g, std::vector<double>& mid, std::vector<double>& rad) {
  const Enclosure& B = *g.B.e;
  const long base = g.B.at(0, 0);
  if (B.lo == B.hi) return {B.lo->data.data() + base, nullptr, g.B.stride_i, g.B.stride_j};
  mid.resize(static_cast<std::size_t>(g.K * g.N));
  rad.resize(mid.size());
  for (long k = 0; k < g.K; ++k)
    for (long n = 0; n < g.N; ++n) {
      const long j = g.B.at(k, n);
      const MidRad x = mid_rad(B.lo->data[j], B.hi->data[j]);
      mid[k * g.N + n] = x.mid;
      rad[k * g.N + n] = x.rad;
    }
  return {mid.data(), rad.data(), g.N, 1};
}

bool signed_sum_holds(const ArithmeticModel& m, long K, double lambda) {
  if (K < 2 || m.exact_sums || m.sum_rounded_to_storage || m.u_sum <= 0 || m.acc.saturates) return false;
  if (m.schedule.order != SumOrder::Sequential || !(lambda > 0)) return false;
  return up(up(lambda * m.u_sum) * up(std::sqrt(static_cast<double>(K)))) < 0.5;
}

bool signed_sum_applies(const ArithmeticModel& m, const SumConstants& c, long K, double lambda) {
  return c.failure > 0 && signed_sum_holds(m, K, lambda);
}

namespace {

/// The squares Σ_i (ŵ_i + a)² of squares_tile one element at a time, in plain scalar code: the
/// definition the tiled kernels are held to (tests/bounds/signed_sums_test.cpp).
void squares_plain(const MatmulBound& g, const SignedB& b, bool a_point, long m0, long rows, const double* c, double a, double* V) {
  const double *alo = g.A.e->lo->data.data(), *ahi = g.A.e->hi->data.data();
  for (long q = 0; q < rows; ++q)
    for (long n = 0; n < g.N; ++n) {
      double p = 0, r = 0, v = 0;
      for (long k = 0; k < g.K; ++k) {
        const long ai = g.A.at(m0 + q, k), bi = k * b.ld + n * b.step;
        const MidRad x = a_point ? MidRad{alo[ai], 0.0} : mid_rad(alo[ai], ahi[ai]);
        const double bm = b.mid[bi], br = b.rad ? b.rad[bi] : 0.0;
        p += x.mid * bm;
        if (a_point && b.rad) r += std::fabs(x.mid) * br;
        if (!a_point && !b.rad) r += x.rad * std::fabs(bm);
        if (!a_point && b.rad) r += std::fabs(x.mid) * br + x.rad * (std::fabs(bm) + br);
        const double w = ((std::fabs(p) + r) + c[q * g.N + n]) + a;
        v += w * w;
      }
      V[q * g.N + n] = v;
    }
}

using SquaresKernel = void (*)(const MatmulBound&, const SignedB&, bool, long, long, const double*, double, double*);

void squares_tiled(const MatmulBound& g, const SignedB& b, bool a_point, long m0, long rows, const double* c, double a, double* V) {
  if (rows == 1) squares_single_row(g, b, a_point, m0, c, a, V);
  else squares_block(g, b, a_point, m0, rows, c, a, V);
}

void variance(const MatmulBound& g, const SignedB& b, long m0, long rows, const double* S, double* V, SquaresKernel squares_of) {
  const long K = g.K, N = g.N;
  const double Kd = static_cast<double>(K);
  // c_n = γ_K(2^-53)·Σ|a_mid·b_mid| + K·2^-1074 bounds |p̂_i − p_i| for every prefix i (§3, (a));
  // γ_K ≤ (K + 1)·2^-52 and Σ|a_mid·b_mid| ≤ Σ max|a|·max|b| ≤ safe_sum(S, K + 4, K).
  const double g64 = (Kd + 1) * 0x1p-52;
  // Per-call scratch kept per thread: the rule calls this once per row (block) of every GEMM.
  thread_local std::vector<double> c, squares;
  c.resize(static_cast<std::size_t>(rows * N));
  squares.resize(c.size());
  for (long i = 0; i < rows * N; ++i) c[i] = up(up(g64 * safe_sum(S[i], K + 4, K)) + Kd * 0x1p-1074);
  // w_i ≤ (ŵ_i + a)·F, F = (1 − 2^-53)^-(K+5) ≤ safety(K + 5): 2i ≤ 2K products, at most K + 5
  // operations on a path (§3, (b)); so Σ w_i² ≤ F²·Σ (ŵ_i + a)², the latter summed in the loop.
  const double w_safety = safety(K + 5), a = underflow_allowance(2 * K);
  squares_of(g, b, g.A.e->lo == g.A.e->hi, m0, rows, c.data(), a, squares.data());
  const double f2 = up(w_safety * w_safety);
  // Σ (ŵ_i + a)²: K products of sums of inputs, at most K + 2 operations on a path (§3, (c)).
  for (long i = 0; i < rows * N; ++i) V[i] = up(f2 * safe_sum(squares[i], K + 2, K));
}

}  // namespace

void signed_sum_variance(const MatmulBound& g, const SignedB& b, long m0, long rows, const double* S, double* V) {
  variance(g, b, m0, rows, S, V, squares_tiled);
}

void signed_sum_variance_definition(const MatmulBound& g, const SignedB& b, long m0, long rows, const double* S, double* V) {
  variance(g, b, m0, rows, S, V, squares_plain);
}

SignedSumB::SignedSumB(const ArithmeticModel& m, double lambda, long K) {
  // b = λu(√V + √K·K·η) / (1 − λu√K) (§2, Theorem 1), every step rounded up.
  const double Kd = static_cast<double>(K);
  const double root_k = up(std::sqrt(Kd));
  lu_ = up(lambda * m.u_sum);
  den_ = down(1 - up(lu_ * root_k));
  k_eta = up(Kd * m.eta_sum);
  under_ = up(root_k * k_eta);
}

double SignedSumB::operator()(double V) const { return up(up(lu_ * up(up(std::sqrt(V)) + under_)) / den_); }

void signed_sum_bounds(const ArithmeticModel& m, double lambda, const MatmulBound& g, const SignedB& b, long m0, long rows,
                       const double* S, double* alt) {
  thread_local std::vector<double> V;
  V.resize(static_cast<std::size_t>(rows * g.N));
  signed_sum_variance(g, b, m0, rows, S, V.data());
  // Theorem 1: |ŝ − s| ≤ b + K·η.
  const SignedSumB b_of(m, lambda, g.K);
  for (long i = 0; i < rows * g.N; ++i) alt[i] = nan_to_inf(up(b_of(V[i]) + b_of.k_eta));
}

}  // namespace fpaudit::bounds
