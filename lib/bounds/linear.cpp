#include "bounds/linear.h"

#include <cmath>
#include <vector>

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

}  // namespace

double matmul_bound(const ArithmeticModel& m, double lambda, const MatmulBound& g, Tensor& det, Tensor& prob) {
  const double safe = safety(g.K + 4);
  const Enclosure& A = *g.A.e;
  const Enclosure& B = *g.B.e;
  double worst_failure = 0;

  // Magnitudes of B, column by column, gathered once (B is usually the constant operand).
  std::vector<double> bmag(static_cast<std::size_t>(g.K)), beb(bmag.size()), bep(bmag.size());
  for (long n = 0; n < g.N; ++n) {
    for (long k = 0; k < g.K; ++k) {
      const long j = g.B.at(k, n);
      bmag[k] = B.magnitude(j);
      beb[k] = B.err->data[j];
      bep[k] = B.err_prob->data[j];
    }
    for (long mm = 0; mm < g.M; ++mm) {
      double S = 0, Ed = 0, Ep = 0;
      for (long k = 0; k < g.K; ++k) {
        const long i = g.A.at(mm, k);
        const double am = A.magnitude(i), ead = A.err->data[i], eap = A.err_prob->data[i];
        S += am * bmag[k];
        Ed += am * beb[k] + ead * (bmag[k] + beb[k]);
        Ep += am * bep[k] + eap * (bmag[k] + bep[k]);
      }
      S *= safe;
      Ed *= safe;
      Ep *= safe;
      double cmag = 0, ced = 0, cep = 0;
      if (g.bias) {
        const long j = g.bias_offset + mm * g.bias_stride_m + n * g.bias_stride_n;
        cmag = g.bias->magnitude(j);
        ced = g.bias->err->data[j];
        cep = g.bias->err_prob->data[j];
      }
      SumError sum;
      Epilogue e;
      if (m.exact_sums && !g.scaled) {
        // ExactArithmetic: the bias is inside the exact dot product, rounded once with it.
        sum.det = sum.prob = m.storage.error(up(S + cmag));
      } else {
        sum = sum_error(m, g.K, S, lambda);
        e = epilogue(m, g, sum, cmag);
      }
      const double cscale = g.scaled ? std::fabs(g.beta) : 1.0;
      const long o = g.out_offset + mm * g.ldo + n;
      // NaN can only come from 0·Inf (an unbounded operand against an exact zero): Inf is safe.
      det.data[o] = nan_to_inf((e.scale * (sum.det + Ed) + e.rounding + cscale * ced) * safety(6));
      prob.data[o] = nan_to_inf((e.scale * (sum.prob + Ep) + e.rounding + cscale * cep) * safety(6));
      if (sum.failure > worst_failure) worst_failure = sum.failure;
    }
  }
  return worst_failure;
}

}  // namespace fpaudit::bounds
