// The register-blocked sums of the dot-product bound rule (bounds/matmul_sums.h) against their
// definition, one element at a time with all-zero rows of A skipped: the same bits with and
// without the probabilistic sum, on shapes that leave column edges, with zero rows of A, a B row
// stride larger than N, and a non-finite B (where the definition's skip matters); and with B exact
// (every error bound of B zero), where the kernel takes fewer terms.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include <doctest/doctest.h>

#include "support/test_values.h"

#include "bounds/linear.h"
#include "bounds/matmul_sums.h"
#include "bounds/signed_sums.h"
#include "bounds/sums.h"
#include "core/chain_arithmetic.h"

using namespace fpaudit;
using namespace fpaudit::bounds;

namespace {

using Lcg = fpaudit::test::Magnitudes;

/// The definition (bounds/matmul_sums.h), element by element.
void definition(const RowBlockSums& b, long rows, std::vector<double>& S, std::vector<double>& Ed, std::vector<double>& Ep) {
  for (long r = 0; r < rows; ++r)
    for (long n = 0; n < b.N; ++n) {
      double s = 0, ed = 0, ep = 0;
      for (long k = 0; k < b.K; ++k) {
        const double a = b.am[r * b.K + k], d = b.ead[r * b.K + k], p = b.eap[r * b.K + k];
        if (a == 0 && d == 0 && p == 0) continue;
        const double bm = b.bm[k * b.N + n], e = b.ed[k * b.ld + n], q = b.ep[k * b.ld + n];
        s += a * bm;
        ed += a * e + d * (bm + e);
        ep += a * q + p * (bm + q);
      }
      const std::size_t o = static_cast<std::size_t>(r * b.N + n);
      S[o] = s;
      Ed[o] = ed;
      Ep[o] = ep;
    }
}

bool same_bits(const double* a, const double* b, std::size_t n) { return std::memcmp(a, b, n * sizeof(double)) == 0; }

/// The same values, bit for bit, except that any NaN matches any NaN.
bool same_or_nan(const std::vector<double>& x, const std::vector<double>& y) {
  for (std::size_t i = 0; i < x.size(); ++i)
    if (!(std::isnan(x[i]) && std::isnan(y[i])) && std::memcmp(&x[i], &y[i], sizeof(double)) != 0) return false;
  return true;
}

/// The kernel's S, Ed, Ep (outputs started at −1, so that an element it leaves unwritten shows)
/// checked against the definition's for R rows; nan_equal: any NaN matches any NaN.
void check_kernel(const RowBlockSums& b, long R, bool nan_equal = false) {
  const std::size_t size = static_cast<std::size_t>(R * b.N);
  std::vector<double> S(size, -1.0), Ed(size, -1.0), Ep(size, -1.0), s(size), e(size), p(size);
  definition(b, R, s, e, p);
  row_block_sums(b, S.data(), Ed.data(), Ep.data());
  auto same = [&](const std::vector<double>& x, const std::vector<double>& y) {
    return nan_equal ? same_or_nan(x, y) : same_bits(x.data(), y.data(), size);
  };
  CHECK(same(S, s));
  CHECK(same(Ed, e));
  if (b.prob) CHECK(same(Ep, p));
}

}  // namespace

TEST_CASE("matmul sums: blocked kernel = element by element, bit for bit") {
  Lcg rng{7};
  const long R = row_block_height();
  CHECK((R == 2 || R == 4 || R == 8));
  const long shapes[][2] = {{1, 1}, {3, 8}, {9, 17}, {64, 196}, {27, 33}, {5, 7}, {11, 14}};  // (K, N)
  for (const auto& sh : shapes) {
    const long K = sh[0], N = sh[1], ld = N + 3;
    std::vector<double> am(static_cast<std::size_t>(R * K)), ead(am.size()), eap(am.size());
    for (std::size_t i = 0; i < am.size(); ++i) am[i] = rng.next(), ead[i] = rng.next(), eap[i] = rng.next();
    for (long k = 0; k < K; k += 3) am[static_cast<std::size_t>(k)] = ead[static_cast<std::size_t>(k)] = eap[static_cast<std::size_t>(k)] = 0;  // zero rows of A
    std::vector<double> bm(static_cast<std::size_t>(K * N)), ed(static_cast<std::size_t>(K * ld)), ep(ed.size());
    for (double& v : bm) v = rng.next();
    for (std::size_t i = 0; i < ed.size(); ++i) ed[i] = rng.next(), ep[i] = rng.next();
    for (bool finite : {true, false}) {
      if (!finite) ed[ed.size() / 2] = INFINITY;
      for (bool prob : {true, false}) {
        RowBlockSums b{am.data(), ead.data(), prob ? eap.data() : ead.data(), bm.data(), ed.data(), prob ? ep.data() : ed.data(),
                       ld, K, N, prob, finite};
        CAPTURE(K);
        CAPTURE(N);
        CAPTURE(finite);
        CAPTURE(prob);
        check_kernel(b, R);
      }
    }
  }
}

TEST_CASE("matmul sums: a non-finite B = the definition, its skips included") {
  // Overflowed a-priori enclosures put +Inf (and, through 0·Inf upstream, NaN) into B's
  // magnitudes and error bounds of whole layers; the vector kernel must skip exactly the k the
  // definition skips (a, ead and eap all zero: 0·Inf would be NaN) and add every other term,
  // 0·Inf included. NaN against NaN is not compared bit for bit (which NaN a sum of two NaNs keeps
  // depends on the operand order the compiler picks; bounds::nan_to_inf reads none of it).
  Lcg rng{43};
  const long R = row_block_height();
  const long shapes[][2] = {{1, 1}, {3, 8}, {9, 17}, {64, 196}, {27, 33}, {5, 7}, {11, 14}, {20, 49}};  // (K, N)
  for (const auto& sh : shapes) {
    const long K = sh[0], N = sh[1], ld = N + 1;
    for (int b_case = 0; b_case < 3; ++b_case) {
      // 0: one +Inf error bound; 1: +Inf magnitudes in a column of B; 2: a NaN magnitude too.
      std::vector<double> am(static_cast<std::size_t>(R * K)), ead(am.size()), eap(am.size());
      for (std::size_t i = 0; i < am.size(); ++i) {
        // Skipped terms (all three zero), a = 0 with d ≠ 0 (0·Inf: NaN), d = p = 0 with a ≠ 0.
        const std::size_t kind = i % 6;
        am[i] = kind == 0 || kind == 1 ? 0.0 : rng.next();
        ead[i] = kind == 0 || kind == 2 ? (i % 4 ? 0.0 : -0.0) : rng.next();
        eap[i] = kind == 0 || kind == 2 ? 0.0 : rng.next();
      }
      std::vector<double> bm(static_cast<std::size_t>(K * N)), ed(static_cast<std::size_t>(K * ld)), ep(ed.size());
      for (double& v : bm) v = rng.next();
      for (std::size_t i = 0; i < ed.size(); ++i) ed[i] = rng.next(), ep[i] = rng.next();
      ed[ed.size() / 2] = INFINITY;
      if (b_case >= 1)
        for (long k = 0; k < K; k += 2) bm[static_cast<std::size_t>(k * N + N / 2)] = INFINITY;
      if (b_case == 2) bm[static_cast<std::size_t>((K - 1) * N)] = NAN;
      for (bool prob : {true, false}) {
        RowBlockSums b{am.data(), ead.data(), prob ? eap.data() : ead.data(), bm.data(), ed.data(), prob ? ep.data() : ed.data(),
                       ld, K, N, prob, false};
        CAPTURE(K);
        CAPTURE(N);
        CAPTURE(b_case);
        CAPTURE(prob);
        check_kernel(b, R, true);
      }
    }
  }
}

TEST_CASE("matmul sums: exact B (local bounds) = the definition, bit for bit") {
  // B's error bounds all ±0 (b_exact): the kernel forms a·bm and d·bm only, or S alone where A's
  // error bounds are zero too; signed zeros in |A| (−0 from |−0|), in A's error bounds and in B's,
  // an infinite error bound of A (d·bm is NaN where bm = 0), and a non-finite |A| (which must fall
  // back to the general kernel: a·0 is NaN there).
  Lcg rng{41};
  const long R = row_block_height();
  const long shapes[][2] = {{1, 1}, {3, 8}, {9, 17}, {64, 196}, {27, 33}, {5, 7}, {11, 14}, {20, 49}};  // (K, N)
  for (const auto& sh : shapes) {
    const long K = sh[0], N = sh[1], ld = N + 2;
    for (int a_case = 0; a_case < 4; ++a_case) {
      // 0: A's errors nonzero; 1: A's errors ±0; 2: an infinite A error; 3: an infinite |A|.
      std::vector<double> am(static_cast<std::size_t>(R * K)), ead(am.size()), eap(am.size());
      for (std::size_t i = 0; i < am.size(); ++i) {
        am[i] = i % 5 == 1 ? -0.0 : rng.next();
        ead[i] = a_case == 1 ? (i % 2 ? -0.0 : 0.0) : rng.next();
        eap[i] = a_case == 1 ? 0.0 : rng.next();
      }
      if (a_case == 2) ead[am.size() / 2] = INFINITY;
      if (a_case == 3) am[am.size() - 1] = INFINITY;
      std::vector<double> bm(static_cast<std::size_t>(K * N)), ed(static_cast<std::size_t>(K * ld)), ep(ed.size());
      for (std::size_t i = 0; i < bm.size(); ++i) bm[i] = i % 7 == 3 ? 0.0 : rng.next();
      for (std::size_t i = 0; i < ed.size(); ++i) ed[i] = i % 3 ? 0.0 : -0.0, ep[i] = i % 4 ? -0.0 : 0.0;
      for (bool prob : {true, false}) {
        RowBlockSums b{am.data(), ead.data(), prob ? eap.data() : ead.data(), bm.data(), ed.data(), prob ? ep.data() : ed.data(),
                       ld, K, N, prob, true};
        b.b_exact = true;
        CAPTURE(K);
        CAPTURE(N);
        CAPTURE(a_case);
        CAPTURE(prob);
        check_kernel(b, R);
      }
    }
  }
}

TEST_CASE("matmul sums: a panel of columns (bm_ld, out_ld) gives those columns of the whole, bit for bit") {
  // matmul_bound computes a wide product's sums panel by panel (pointers offset to column n0,
  // the full widths as strides); every panel must give the bits of the same columns of the whole.
  Lcg rng{23};
  const long R = row_block_height(), K = 37, N = 83, ld = N + 5;
  std::vector<double> am(static_cast<std::size_t>(R * K)), ead(am.size()), eap(am.size());
  for (std::size_t i = 0; i < am.size(); ++i) am[i] = rng.next(), ead[i] = rng.next(), eap[i] = rng.next();
  std::vector<double> bm(static_cast<std::size_t>(K * N)), ed(static_cast<std::size_t>(K * ld)), ep(ed.size());
  for (double& v : bm) v = rng.next();
  for (std::size_t i = 0; i < ed.size(); ++i) ed[i] = rng.next(), ep[i] = rng.next();
  for (bool finite : {true, false}) {
    if (!finite) bm[bm.size() / 3] = INFINITY;
    const std::size_t size = static_cast<std::size_t>(R * N);
    RowBlockSums whole{am.data(), ead.data(), eap.data(), bm.data(), ed.data(), ep.data(), ld, K, N, true, finite};
    std::vector<double> S(size), Ed(size), Ep(size);
    row_block_sums(whole, S.data(), Ed.data(), Ep.data());
    for (const long panel : {1L, 8L, 19L, 32L}) {
      std::vector<double> s(size, -1.0), e(size, -1.0), p(size, -1.0);
      for (long n0 = 0; n0 < N; n0 += panel) {
        RowBlockSums b = whole;
        b.bm = bm.data() + n0;
        b.ed = ed.data() + n0;
        b.ep = ep.data() + n0;
        b.N = std::min(panel, N - n0);
        b.bm_ld = N;
        b.out_ld = N;
        row_block_sums(b, s.data() + n0, e.data() + n0, p.data() + n0);
      }
      CAPTURE(finite);
      CAPTURE(panel);
      CHECK(same_bits(S.data(), s.data(), size));
      CHECK(same_bits(Ed.data(), e.data(), size));
      CHECK(same_bits(Ep.data(), p.data(), size));
    }
  }
}

TEST_CASE("matmul sums: B's magnitudes and the finiteness flag") {
  Lcg rng{11};
  const long K = 7, N = 13, ld = 16;
  std::vector<double> lo(static_cast<std::size_t>(K * ld)), hi(lo.size()), ed(lo.size()), ep(lo.size());
  for (std::size_t i = 0; i < lo.size(); ++i) lo[i] = -rng.next(), hi[i] = rng.next(), ed[i] = rng.next(), ep[i] = rng.next();
  std::vector<double> bm(static_cast<std::size_t>(K * N));
  CHECK(b_magnitudes(lo.data(), hi.data(), ed.data(), ep.data(), ld, K, N, bm.data()));
  for (long k = 0; k < K; ++k)
    for (long n = 0; n < N; ++n) {
      const std::size_t i = static_cast<std::size_t>(k * ld + n);
      const double want = std::max(std::fabs(hi[i]), std::fabs(lo[i]));
      CHECK(std::memcmp(&bm[static_cast<std::size_t>(k * N + n)], &want, sizeof want) == 0);
    }
  // One non-finite term anywhere inside the K × N window clears the flag; outside it does not.
  ep[static_cast<std::size_t>(ld - 1)] = INFINITY;  // column 15 > N: outside
  CHECK(b_magnitudes(lo.data(), hi.data(), ed.data(), ep.data(), ld, K, N, bm.data()));
  for (double bad : {INFINITY, -INFINITY, NAN}) {
    std::vector<double> h = hi;
    h[static_cast<std::size_t>(3 * ld + 12)] = bad;
    CHECK_FALSE(b_magnitudes(lo.data(), h.data(), ed.data(), ep.data(), ld, K, N, bm.data()));
  }
  ed[static_cast<std::size_t>(2 * ld + 5)] = 0x1p1023, lo[static_cast<std::size_t>(2 * ld + 5)] = -0x1.fp1023;  // bm + ed overflows
  CHECK_FALSE(b_magnitudes(lo.data(), hi.data(), ed.data(), ep.data(), ld, K, N, bm.data()));
  // The exactness flag: every ed and ep inside the window ±0; one nonzero inside clears it.
  std::vector<double> zd(lo.size(), 0.0), zp(lo.size(), -0.0);
  zd[static_cast<std::size_t>(ld - 1)] = 1.0;  // outside the window
  bool exact = false;
  CHECK(b_magnitudes(lo.data(), hi.data(), zd.data(), zp.data(), ld, K, N, bm.data(), &exact));
  CHECK(exact);
  zp[static_cast<std::size_t>(4 * ld + 2)] = 0x1p-1074;
  CHECK(b_magnitudes(lo.data(), hi.data(), zd.data(), zp.data(), ld, K, N, bm.data(), &exact));
  CHECK_FALSE(exact);
}

TEST_CASE("matmul bound: row groups and column panels of a wide product = each row alone, bit for bit") {
  // 40 rows × 30,000 columns: its sums exceed the 16 MB a row group may hold (with AVX-512's
  // 8-row blocks: groups of 16, 16 and 8 rows) and its columns span 5 panels; each row bounded
  // alone (M = 1) is one block and the same panels. The chain model takes the vector epilogue
  // and the signed-sum bound.
  Lcg rng{31};
  const long M = 40, K = 3, N = 30000;
  Tensor alo({M, K}), ahi({M, K}), aed({M, K}), bl({K, N}), bh({K, N}), bed({K, N}), bep({K, N});
  for (long i = 0; i < M * K; ++i) {
    const double x = rng.next() - 0.5;
    alo.data[i] = x;
    ahi.data[i] = x + 0.01 * std::fabs(x);
    aed.data[i] = 1e-4 * std::fabs(x);
  }
  for (long i = 0; i < K * N; ++i) {
    const double x = rng.next() - 0.5;
    bl.data[i] = x - 1e-3;
    bh.data[i] = x + 1e-3;
    bed.data[i] = 1e-3 * rng.next();
    bep.data[i] = 0.5 * bed.data[i];
  }
  const Enclosure A{&alo, &ahi, &aed, &aed}, B{&bl, &bh, &bed, &bep};
  const ArithmeticModel m = ArithmeticModel::chain(binary16(), binary32(), DotSchedule::sequential());
  MatmulBound whole = gemm_product(&A, &B, M, K, N, false, false);
  whole.ldo = N;
  Tensor det({M, N}), prob({M, N});
  matmul_bound(m, 5.0, whole, det, prob);
  Tensor row_det({M, N}), row_prob({M, N});
  for (long r = 0; r < M; ++r) {
    MatmulBound one = whole;
    one.M = 1;
    one.A.offset = r * K;
    one.out_offset = r * N;
    matmul_bound(m, 5.0, one, row_det, row_prob);
  }
  CHECK(same_bits(det.data.data(), row_det.data.data(), det.data.size()));
  CHECK(same_bits(prob.data.data(), row_prob.data.data(), prob.data.size()));
}

TEST_CASE("matmul bound: signed-sum bounds recorded by one pass and read by another = computed, bit for bit") {
  // The margin pass's local bounds read the signed-sum bounds that the propagated pass over the
  // same enclosures recorded (bounds::SignedSumMemo): its outputs must be those of computing them,
  // with other input error bounds. Both layouts: B contiguous in n (Conv, MatMul) and in k (Gemm
  // with transB).
  std::mt19937_64 gen(53);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);  // both signs: partial sums cancel
  const long M = 9, K = 300, N = 23;
  Tensor alo({M, K}), ahi({M, K}), aed({M, K}), azero({M, K}), bl({K, N}), bh({K, N}), bed({K, N}), bep({K, N}), bzero({K, N});
  for (long i = 0; i < M * K; ++i) {
    const double x = uniform(gen);
    alo.data[i] = x;
    ahi.data[i] = x + 0.01 * std::fabs(x);
    aed.data[i] = 1e-4 * std::fabs(x);
  }
  for (long i = 0; i < K * N; ++i) {
    const double x = uniform(gen);
    bl.data[i] = x - 1e-3;
    bh.data[i] = x + 1e-3;
    bed.data[i] = 1e-3 * std::fabs(uniform(gen));
    bep.data[i] = 0.5 * bed.data[i];
  }
  const Enclosure A{&alo, &ahi, &aed, &aed}, B{&bl, &bh, &bed, &bep};
  const Enclosure A0{&alo, &ahi, &azero, &azero}, B0{&bl, &bh, &bzero, &bzero};  // the same values, exact
  // fp16's sequential sums: where the signed-sum bound applies (bounds/signed_sums.h).
  const ArithmeticModel m = ArithmeticModel::of(ChainArithmetic(parse_chain("fp16")));
  REQUIRE(signed_sum_applies(m, sum_error_constants(m, K, 7.0), K, 7.0));
  for (bool trans_b : {false, true}) {
    Tensor bt_lo({N, K}), bt_hi({N, K}), bt_ed({N, K}), bt_ep({N, K}), bt_zero({N, K});
    for (long k = 0; k < K; ++k)
      for (long n = 0; n < N; ++n) {
        bt_lo.data[n * K + k] = bl.data[k * N + n];
        bt_hi.data[n * K + k] = bh.data[k * N + n];
        bt_ed.data[n * K + k] = bed.data[k * N + n];
        bt_ep.data[n * K + k] = bep.data[k * N + n];
      }
    const Enclosure BT{&bt_lo, &bt_hi, &bt_ed, &bt_ep}, BT0{&bt_lo, &bt_hi, &bt_zero, &bt_zero};
    CAPTURE(trans_b);
    SignedSumMemo memo;
    memo.start(static_cast<std::size_t>(M * N));
    MatmulBound propagated = gemm_product(&A, trans_b ? &BT : &B, M, K, N, false, trans_b);
    propagated.ldo = N;
    propagated.memo = memo.to_record();
    Tensor det({M, N}), prob({M, N});
    matmul_bound(m, 7.0, propagated, det, prob);
    CHECK(memo.complete());
    MatmulBound local = gemm_product(&A0, trans_b ? &BT0 : &B0, M, K, N, false, trans_b);
    local.ldo = N;
    Tensor want_det({M, N}), want_prob({M, N}), got_det({M, N}), got_prob({M, N});
    matmul_bound(m, 7.0, local, want_det, want_prob);
    local.memo = memo.to_read();
    matmul_bound(m, 7.0, local, got_det, got_prob);
    CHECK(same_bits(got_det.data.data(), want_det.data.data(), want_det.data.size()));
    CHECK(same_bits(got_prob.data.data(), want_prob.data.data(), want_prob.data.size()));
    // The memo is what a pass would have read: the probabilistic bound differs from Higham–Mary's
    // somewhere (else this test would not see a wrong memo).
    MatmulBound no_signed = local;
    no_signed.memo = nullptr;
    no_signed.prob_wanted = false;
    Tensor hm_det({M, N}), hm_prob({M, N});
    matmul_bound(m, 7.0, no_signed, hm_det, hm_prob);
    CHECK_FALSE(same_bits(hm_prob.data.data(), want_prob.data.data(), want_prob.data.size()));
    // A pass that does not take the signed-sum bound records nothing.
    SignedSumMemo unused;
    unused.start(static_cast<std::size_t>(M * N));
    no_signed.memo = unused.to_record();
    matmul_bound(m, 7.0, no_signed, hm_det, hm_prob);
    CHECK_FALSE(unused.complete());
  }
}

TEST_CASE("matmul sums: one column with B contiguous in k = its definition, bit for bit") {
  // The eight partial sums of column_sums (term k in sum k mod 8, added pairwise at the end)
  // against the plain loop, with NaN, ±Inf, −0 and signed values in B's ends (|·| by the sign bit,
  // max taking |hi| where the comparison fails), every tail length, both forms, and a point B
  // (lo and hi one array, read once).
  Lcg rng{61};
  std::mt19937_64 gen(61);
  std::uniform_real_distribution<double> uniform(-2.0, 2.0);
  for (long K : {1L, 7L, 8L, 9L, 15L, 16L, 23L, 128L, 784L}) {
    std::vector<double> am(static_cast<std::size_t>(K)), ead(am.size()), eap(am.size()), lo(am.size()), hi(am.size()), ed(am.size()),
        ep(am.size());
    for (std::size_t k = 0; k < am.size(); ++k) {
      am[k] = rng.next(), ead[k] = rng.next(), eap[k] = rng.next(), ed[k] = rng.next(), ep[k] = rng.next();
      lo[k] = uniform(gen), hi[k] = uniform(gen);
    }
    for (bool special : {false, true}) {
      if (special) {
        lo[0] = -0.0, hi[0] = 0.0;
        if (K > 3) lo[3] = NAN, hi[2] = -INFINITY;
        if (K > 9) hi[9] = NAN, ed[9] = 0.0;
      }
      for (int form = 0; form < 4; ++form) {
        const bool prob = form % 2 == 0, point = form >= 2;  // point: lo and hi one array
        const double* h = point ? lo.data() : hi.data();
        double s = 0, e = 0, p = 0;
        {
          double sl[8] = {}, el[8] = {}, pl[8] = {};
          for (long k = 0; k < K; ++k) {
            const double bl = std::fabs(lo[k]), bh = std::fabs(h[k]);
            const double bm = bl > bh ? bl : bh;
            sl[k % 8] += am[k] * bm;
            el[k % 8] += am[k] * ed[k] + ead[k] * (bm + ed[k]);
            pl[k % 8] += am[k] * ep[k] + eap[k] * (bm + ep[k]);
          }
          s = ((sl[0] + sl[1]) + (sl[2] + sl[3])) + ((sl[4] + sl[5]) + (sl[6] + sl[7]));
          e = ((el[0] + el[1]) + (el[2] + el[3])) + ((el[4] + el[5]) + (el[6] + el[7]));
          p = ((pl[0] + pl[1]) + (pl[2] + pl[3])) + ((pl[4] + pl[5]) + (pl[6] + pl[7]));
        }
        double S = -1, Ed = -1, Ep = -1;
        column_sums(am.data(), ead.data(), eap.data(), lo.data(), h, ed.data(), ep.data(), K, prob, &S, &Ed, &Ep);
        CAPTURE(K);
        CAPTURE(special);
        CAPTURE(prob);
        CAPTURE(point);
        // A NaN (an infinite bm against a zero error bound) may come out with the other sign.
        CHECK(test::same_bits_or_nan({S}, {s}));
        CHECK(test::same_bits_or_nan({Ed}, {e}));
        if (prob) CHECK(test::same_bits_or_nan({Ep}, {p}));
        if (!prob) CHECK(Ep == -1);
      }
    }
  }
}
