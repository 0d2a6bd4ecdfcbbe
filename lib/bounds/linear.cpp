#include "bounds/linear.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "bounds/gemm_epilogue.h"
#include "bounds/matmul_sums.h"
#include "bounds/signed_sums.h"
#include "bounds/sums.h"
#include "common/cache_panel.h"

namespace fpaudit::bounds {

namespace {

/// One term k of every output of a row, B contiguous in n: S[n] += a·|b|, and the propagated
/// errors. The buffers are declared unaliased (S, Ed, Ep are matmul_bound's own), which lets the
/// compiler vectorise the loop (it gives up on this many pointers otherwise); every element
/// takes the same operations in the same order either way, so the bits do not change.
/// std::max(bh, bl) is bl > bh ? bl : bh, NaN included. Without kProb, Ep is left alone (the
/// caller knows it would equal Ed).
template <bool kProb>
[[gnu::always_inline]] inline void add_row_term(const double* __restrict blo, const double* __restrict bhi,
                                                const double* __restrict bed, const double* __restrict bep,
                                                double* __restrict S, double* __restrict Ed, double* __restrict Ep,
                                                double am, double ead, double eap, long N) {
  for (long n = 0; n < N; ++n) {
    const double bl = std::fabs(blo[n]), bh = std::fabs(bhi[n]);
    const double bm = std::max(bh, bl);
    S[n] += am * bm;
    Ed[n] += am * bed[n] + ead * (bm + bed[n]);
    if constexpr (kProb) Ep[n] += am * bep[n] + eap * (bm + bep[n]);
  }
}

/// How matmul_bound's B-contiguous path walks the output: groups of group_rows rows (whole row
/// blocks), each group's sums computed `panel` columns at a time.
struct SumBlocking {
  long group_rows, panel;
};

/// A panel: cache_panel_columns for B's `arrays` K×panel arrays. A group: as many row blocks as
/// keep its three sums within 16 MB, so that they stay a bounded scratch.
SumBlocking sum_blocking(long M, long K, long N, long block_rows, long arrays) {
  constexpr long kGroupBytes = 16L << 20;
  const long panel = cache_panel_columns(K * arrays * static_cast<long>(sizeof(double)), N);
  const long blocks = std::max(1L, (M + block_rows - 1) / block_rows);
  const long per_block = std::max(1L, block_rows * N * 3 * static_cast<long>(sizeof(double)));
  const long group_blocks = std::clamp(kGroupBytes / per_block, 1L, blocks);
  return {group_blocks * block_rows, panel};
}

}  // namespace

// Compiled for AVX2 as well as for any x86-64, picked at run time: the bound passes cost about
// as much as the chains' own GEMMs.
__attribute__((target_clones("avx2", "default")))
double matmul_bound(const ArithmeticModel& m, double lambda, const MatmulBound& g, Tensor& det, Tensor& prob) {
  const Enclosure& A = *g.A.e;
  const Enclosure& B = *g.B.e;
  double worst_failure = 0;

  // The three sums per output (|a||b|, and the propagated error with the deterministic and the
  // probabilistic input bounds) are computed in whichever loop order reads B contiguously. They
  // are upper bounds evaluated in binary64: any summation order is covered by safe_sum. Every
  // order here is fixed in the source, so the results do not depend on the vector width.
  std::vector<double> S(static_cast<std::size_t>(g.N)), Ed(S.size()), Ep(S.size());
  const double* blo = B.lo->data.data();
  const double* bhi = B.hi->data.data();
  const double* bed = B.err->data.data();
  const double* bep = B.err_prob->data.data();
  // The deterministic and the probabilistic input bounds are often the same tensors (the
  // reference's own bounds, either pass of the a-priori certificate): then the third sum is the
  // second, operation for operation, and is copied rather than computed.
  const bool same_err = A.err == A.err_prob && B.err == B.err_prob;
  const SumConstants constants = sum_error_constants(m, g.K, lambda);  // once, not per output
  // The epilogue of output row mm from its three sums: the bias gathered into rows first, then
  // finish_row (above), then the largest failure probability among its elements.
  thread_local std::vector<double> bias_scratch;
  bias_scratch.assign(static_cast<std::size_t>(4 * g.N), 0.0);
  double *cmag = bias_scratch.data(), *ced = cmag + g.N, *cep = ced + g.N, *failure = cep + g.N;
  const RowEpilogue epi{m, g, constants};
  const bool vector_epilogue = chain_epilogue(epi);
  // A chain's sequential sums: the signed-partial-sum bound of each output where it is smaller
  // than Higham–Mary's (bounds/signed_sums.h), computed a row (or a block of rows) at a time.
  const bool signed_sums = g.prob_wanted && signed_sum_applies(m, constants, g.K, lambda);
  thread_local std::vector<double> alt_scratch, b_mid, b_rad;
  SignedSumMemo* const memo = signed_sums ? g.memo : nullptr;
  const bool reuse = memo && memo->reuse;
  const SignedB signed_operand = signed_sums && !reuse ? signed_b(g, b_mid, b_rad) : SignedB{};
  // Rows [m0, m0 + rows)' signed-sum bounds into alt[r·N + n]: computed (and recorded), or read
  // from the memo of an earlier pass over the same enclosures.
  auto signed_bounds = [&](long m0, long rows, const double* S_rows, double* alt) {
    if (!reuse) signed_sum_bounds(m, lambda, g, signed_operand, m0, rows, S_rows, alt);
    if (!memo) return;
    for (long r = 0; r < rows; ++r) {
      double* kept = (reuse ? memo->alt.data() : memo->record_data()) + g.out_offset + (m0 + r) * g.ldo;
      if (reuse) std::copy(kept, kept + g.N, alt + r * g.N);
      else std::copy(alt + r * g.N, alt + (r + 1) * g.N, kept);
    }
    if (!reuse) memo->written += rows * g.N;
  };
  auto finish = [&](long mm, const double* row_S, const double* row_Ed, const double* row_Ep, const double* alt) {
    if (g.bias)
      for (long n = 0; n < g.N; ++n) {
        const long j = g.bias_offset + mm * g.bias_stride_m + n * g.bias_stride_n;
        cmag[n] = g.bias->magnitude(j);
        ced[n] = g.bias->err->data[j];
        cep[n] = g.bias->err_prob->data[j];
      }
    const long o = g.out_offset + mm * g.ldo;
    (vector_epilogue ? finish_row_chain : finish_row_scalar)(epi, g.N, row_S, row_Ed, row_Ep, cmag, ced, cep, alt, det.data.data() + o,
                                                             prob.data.data() + o, failure);
    for (long n = 0; n < g.N; ++n)
      if (failure[n] > worst_failure) worst_failure = failure[n];
  };

  // B(k, n) contiguous in n (every Conv's unrolled input, the ViT's MatMuls): a block of output
  // rows at a time, held in registers while k runs (bounds/matmul_sums.h), so that B is read
  // once per block rather than once per row. The rows go in groups, each group's sums a panel of
  // columns at a time: the panel of B's arrays stays in cache while every row block of the group
  // reads it, instead of each block streaming B from memory (a ResNet-50 Conv's three arrays are
  // 14 MB apiece). Each element still takes its terms in the order k = 0, 1, ..., so the bits are
  // those of one row and one column at a time. B's magnitudes max(|lo|, |hi|) are taken once per call.
  if (g.B.stride_i != 1 && g.B.stride_j == 1) {
    const long kRows = row_block_height();
    thread_local std::vector<double> bmag_scratch, a_scratch, SB, EdB, EpB;
    bmag_scratch.resize(static_cast<std::size_t>(g.K * g.N));
    double* bmag = bmag_scratch.data();
    // With every B term finite (sums included), an all-zero row of A adds exactly +0, which the
    // kernel may add rather than skip (matmul_sums.cpp).
    const long b0 = g.B.at(0, 0);
    bool exact = false;
    const bool finite = b_magnitudes(blo + b0, bhi + b0, bed + b0, bep + b0, g.B.stride_i, g.K, g.N, bmag, &exact);
    // A block's magnitudes and error bounds, [r][k]; rows past M are zero (computed, ignored).
    a_scratch.resize(static_cast<std::size_t>(3 * kRows * g.K));
    double *am_of = a_scratch.data(), *ead_of = am_of + kRows * g.K, *eap_of = ead_of + kRows * g.K;
    const SumBlocking blocking = sum_blocking(g.M, g.K, g.N, kRows, same_err ? 2 : 3);
    const std::size_t group_size = static_cast<std::size_t>(blocking.group_rows * g.N);
    for (std::vector<double>* v : {&SB, &EdB, &EpB})
      if (v->size() < group_size) v->resize(group_size);
    RowBlockSums sums;
    sums.am = am_of;
    sums.ead = ead_of;
    sums.eap = eap_of;
    sums.ld = g.B.stride_i;
    sums.K = g.K;
    sums.bm_ld = g.N;
    sums.out_ld = g.N;
    sums.prob = !same_err;
    sums.b_finite = finite;
    sums.b_exact = exact;  // local bounds: B's values exact, the sums need fewer terms
    for (long g0 = 0; g0 < g.M; g0 += blocking.group_rows) {
      const long group_end = std::min(g.M, g0 + blocking.group_rows);
      for (long n0 = 0; n0 < g.N; n0 += blocking.panel) {
        sums.bm = bmag + n0;
        sums.ed = bed + b0 + n0;
        sums.ep = bep + b0 + n0;
        sums.N = std::min(blocking.panel, g.N - n0);
        for (long m0 = g0; m0 < group_end; m0 += kRows) {
          // A's rows again for every panel: K·rows copies against K·rows·panel·6 operations.
          const long rows = std::min(kRows, g.M - m0);
          const long a0 = g.A.at(m0, 0);
          a_rows(A.lo->data.data() + a0, A.hi->data.data() + a0, A.err->data.data() + a0, A.err_prob->data.data() + a0,
                 g.A.stride_i, g.A.stride_j, rows, g.K, am_of, ead_of, eap_of);
          for (double* part : {am_of, ead_of, eap_of}) std::fill(part + rows * g.K, part + kRows * g.K, 0.0);
          const long o = (m0 - g0) * g.N + n0;
          row_block_sums(sums, SB.data() + o, EdB.data() + o, EpB.data() + o);
        }
      }
      for (long m0 = g0; m0 < group_end; m0 += kRows) {
        const long rows = std::min(kRows, g.M - m0);
        const long o = (m0 - g0) * g.N;
        double *S_rows = SB.data() + o, *Ed_rows = EdB.data() + o, *Ep_rows = EpB.data() + o;
        if (same_err) std::copy(Ed_rows, Ed_rows + rows * g.N, Ep_rows);
        if (signed_sums) {
          alt_scratch.resize(static_cast<std::size_t>(rows * g.N));
          signed_bounds(m0, rows, S_rows, alt_scratch.data());
        }
        for (long r = 0; r < rows; ++r)
          finish(m0 + r, S_rows + r * g.N, Ed_rows + r * g.N, Ep_rows + r * g.N,
                 signed_sums ? alt_scratch.data() + r * g.N : nullptr);
      }
    }
    return worst_failure;
  }

  // One row of A's magnitudes and error bounds, for the B-contiguous-in-k path below.
  std::vector<double> a(static_cast<std::size_t>(g.B.stride_i == 1 ? g.K : 0)), ad(a.size()), ap(a.size());
  for (long mm = 0; mm < g.M; ++mm) {
    if (g.B.stride_i == 1) {
      // B(k, n) contiguous in k (Gemm with transB: the weights are [N][K]): one reduction per output.
      const long a0 = g.A.at(mm, 0);
      a_rows(A.lo->data.data() + a0, A.hi->data.data() + a0, A.err->data.data() + a0, A.err_prob->data.data() + a0, 0,
             g.A.stride_j, 1, g.K, a.data(), ad.data(), ap.data());
      // One reduction per output (bounds/matmul_sums.h); without the third sum (same_err) it is
      // the second, copied.
      for (long n = 0; n < g.N; ++n) {
        const long base = g.B.at(0, n);
        column_sums(a.data(), ad.data(), ap.data(), blo + base, bhi + base, bed + base, bep + base, g.K, !same_err, &S[n], &Ed[n], &Ep[n]);
        if (same_err) Ep[n] = Ed[n];
      }
    } else {
      // B(k, n) contiguous in n (or strided): accumulate whole output rows, term by term.
      std::fill(S.begin(), S.end(), 0.0);
      std::fill(Ed.begin(), Ed.end(), 0.0);
      std::fill(Ep.begin(), Ep.end(), 0.0);
      for (long k = 0; k < g.K; ++k) {
        const long i = g.A.at(mm, k);
        const double am = A.magnitude(i), ead = A.err->data[i], eap = A.err_prob->data[i];
        if (am == 0 && ead == 0 && eap == 0) continue;  // e.g. a ReLU zero: contributes nothing
        const long base = g.B.at(k, 0), step = g.B.stride_j;
        if (step == 1) {
          add_row_term<true>(blo + base, bhi + base, bed + base, bep + base, S.data(), Ed.data(), Ep.data(), am, ead, eap, g.N);
          continue;
        }
        for (long n = 0; n < g.N; ++n) {
          const long j = base + n * step;
          const double bl = std::fabs(blo[j]), bh = std::fabs(bhi[j]);
          const double bm = bl > bh ? bl : bh;
          S[n] += am * bm;
          Ed[n] += am * bed[j] + ead * (bm + bed[j]);
          Ep[n] += am * bep[j] + eap * (bm + bep[j]);
        }
      }
    }
    if (signed_sums) {
      alt_scratch.resize(static_cast<std::size_t>(g.N));
      signed_bounds(mm, 1, S.data(), alt_scratch.data());
    }
    finish(mm, S.data(), Ed.data(), Ep.data(), signed_sums ? alt_scratch.data() : nullptr);
  }
  return worst_failure;
}

}  // namespace fpaudit::bounds
