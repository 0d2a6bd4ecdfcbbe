// The epilogue of the dot-product rule (bounds/linear.h) for one output row: see gemm_epilogue.h.
#include "bounds/gemm_epilogue.h"

#include <cmath>

#include "bounds/sums.h"

namespace fpaudit::bounds {

namespace {

/// The rounding error of the evaluation of one output after its sum, given the sum's error and
/// magnitude (theory/dot-product.md, Theorem 2 and Corollary 3).
struct Epilogue {
  double rounding = 0;  ///< added to both the deterministic and the probabilistic bound
  double scale = 1;     ///< multiplies the sum's error and the operand error terms
};

Epilogue epilogue(const ArithmeticModel& m, const MatmulBound& g, const SumError& sum, double cmag) {
  Epilogue e;
  if (g.scaled) {
    // y = round_S(round_A(RN64(alpha·ŝ) + round_A(beta·C))).
    const double a = std::fabs(g.alpha), b = std::fabs(g.beta);
    e.scale = a;
    const double bc = up(b * cmag);
    const double c_err = m.acc.error(bc);
    const double c_mag = up(bc + c_err);
    const double p = up(a * sum.magnitude);
    const double p_err = up(p * 0x1p-53 + 0x1p-1074);  // the binary64 product inside fma
    const double v_in = up(up(p + p_err) + c_mag);
    const double v_err = m.acc.error(v_in);
    double r = up(up(c_err + p_err) + v_err);
    if (m.storage_differs) r = up(r + m.storage.error(up(v_in + v_err)));
    e.rounding = r;
    return e;
  }
  double T = sum.magnitude, r = 0;
  if (g.bias) {
    const double in = up(T + cmag);
    const double err = m.acc.error(in);
    r = err;
    T = up(in + err);
  }
  if (m.storage_differs) r = up(r + m.storage.error(T));
  e.rounding = r;
  return e;
}

/// finish_row_scalar for a chain_epilogue: the same operations on the same values (sum_error,
/// then the epilogue without scaling: e.scale = 1 and cscale = 1 multiply exactly), written as
/// one loop of selects without branches, which the compiler vectorises in each clone. A Conv has
/// an epilogue per output pixel, as costly as its short sums. Every element takes the same IEEE
/// operations in every clone and nothing is contracted (-ffp-contract=off), so the bits do not
/// depend on the vector width. The file is compiled with -fno-trapping-math (lib/CMakeLists.txt),
/// which lets the compiler compute both sides of each select.
template <bool kBias, bool kStorageDiffers, bool kAlt>
[[gnu::always_inline]] inline void chain_row(const RowEpilogue& a, long N, const double* __restrict row_S,
                                             const double* __restrict row_Ed, const double* __restrict row_Ep,
                                             const double* __restrict cmag, const double* __restrict ced,
                                             const double* __restrict cep, const double* __restrict alt,
                                             double* __restrict det, double* __restrict prob, double* __restrict failure) {
  const long K = a.g.K;
  const SumConstants c = a.constants;
  const RoundingTarget acc = a.m.acc, storage = a.m.storage;
  const double sum_safety = safety(K + 4), s_allowance = underflow_allowance(K), e_allowance = underflow_allowance(2 * K);
  for (long n = 0; n < N; ++n) {
    // safe_sum(·, K + 4, ·), its factor taken once.
    const double Sn = (row_S[n] + s_allowance) * sum_safety;
    const double Edn = (row_Ed[n] + e_allowance) * sum_safety, Epn = (row_Ep[n] + e_allowance) * sum_safety;
    // sum_error (bounds/sums.h), then the overflow test as selects.
    const double det0 = safe_sum(c.gamma * Sn + c.eta, 4, 1), hm = safe_sum(c.gamma_prob * Sn + c.eta, 4, 1);
    // The signed-partial-sum bound where it is smaller (bounds/signed_sums.h).
    double prob0 = hm;
    if constexpr (kAlt) prob0 = alt[n] < hm ? alt[n] : hm;
    const double mag0 = up(Sn + det0);
    const bool over = !acc.saturates && !(mag0 < acc.max_finite);
    const double sdet = over ? __builtin_inf() : det0, sprob = over ? __builtin_inf() : prob0;
    const double T0 = over ? __builtin_inf() : mag0;
    failure[n] = over ? 0.0 : c.failure;
    // The epilogue: the bias added in the accumulator, the result stored.
    double r = 0, T = T0;
    if constexpr (kBias) {
      const double in = up(T0 + cmag[n]);
      const double err = acc.error(in);
      r = err;
      T = up(in + err);
    }
    if constexpr (kStorageDiffers) r = up(r + storage.error(T));
    det[n] = nan_to_inf(safe_sum((sdet + Edn) + r + ced[n], 6, 2));
    prob[n] = nan_to_inf(safe_sum((sprob + Epn) + r + cep[n], 6, 2));
  }
}

}  // namespace

void finish_row_scalar(const RowEpilogue& a, long N, const double* row_S, const double* row_Ed, const double* row_Ep,
                       const double* cmag, const double* ced, const double* cep, const double* alt, double* det, double* prob,
                       double* failure) {
  const long K = a.g.K;
  const double cscale = a.g.scaled ? std::fabs(a.g.beta) : 1.0;
  for (long n = 0; n < N; ++n) {
    // S has K products per output, E_d and E_p two per term (theory/bounds-gemm.md, Claim 2).
    const double Sn = safe_sum(row_S[n], K + 4, K), Edn = safe_sum(row_Ed[n], K + 4, 2 * K), Epn = safe_sum(row_Ep[n], K + 4, 2 * K);
    SumError sum;
    Epilogue e;
    if (a.m.exact_sums && !a.g.scaled) {
      // ExactArithmetic: the bias is inside the exact dot product, rounded once with it.
      sum.det = sum.prob = a.m.storage.error(up(Sn + cmag[n]));
    } else {
      sum = alt ? sum_error(a.m, K, a.constants, Sn, alt[n]) : sum_error(a.m, K, a.constants, Sn);
      e = epilogue(a.m, a.g, sum, cmag[n]);
    }
    // NaN can only come from 0·Inf (an unbounded operand against an exact zero): Inf is safe.
    // Two products (by the scales), each of an upper bound: theory/bounds-arithmetic.md §1(a).
    det[n] = nan_to_inf(safe_sum(e.scale * (sum.det + Edn) + e.rounding + cscale * ced[n], 6, 2));
    prob[n] = nan_to_inf(safe_sum(e.scale * (sum.prob + Epn) + e.rounding + cscale * cep[n], 6, 2));
    failure[n] = sum.failure;
  }
}

bool chain_epilogue(const RowEpilogue& a) {
  return a.g.K > 0 && !a.m.exact_sums && !a.m.sum_rounded_to_storage && !a.g.scaled;
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void finish_row_chain(const RowEpilogue& args, long N, const double* row_S, const double* row_Ed, const double* row_Ep,
                      const double* cmag, const double* ced, const double* cep, const double* alt, double* det, double* prob,
                      double* failure) {
  const RowEpilogue a = args;
  // Every combination of bias, second rounding and signed bound as its own loop without branches,
  // called directly: a lambda here would be compiled once, for the baseline ISA, not per clone.
  const bool b = a.g.bias != nullptr, sd = a.m.storage_differs;
#define FPAUDIT_CHAIN_ROW(kBias, kStorageDiffers, kAlt) \
  chain_row<kBias, kStorageDiffers, kAlt>(a, N, row_S, row_Ed, row_Ep, cmag, ced, cep, alt, det, prob, failure)
  if (alt) {
    if (b && sd) FPAUDIT_CHAIN_ROW(true, true, true);
    else if (b) FPAUDIT_CHAIN_ROW(true, false, true);
    else if (sd) FPAUDIT_CHAIN_ROW(false, true, true);
    else FPAUDIT_CHAIN_ROW(false, false, true);
  } else {
    if (b && sd) FPAUDIT_CHAIN_ROW(true, true, false);
    else if (b) FPAUDIT_CHAIN_ROW(true, false, false);
    else if (sd) FPAUDIT_CHAIN_ROW(false, true, false);
    else FPAUDIT_CHAIN_ROW(false, false, false);
  }
#undef FPAUDIT_CHAIN_ROW
}

}  // namespace fpaudit::bounds
