#include "bounds/linear.h"

#include <cmath>
#include <vector>

#include "bounds/sum_constants.h"

namespace fpaudit::bounds {

double matmul_bound(const ArithmeticModel& m, double lambda, const MatmulBound& g, Tensor& det, Tensor& prob) {
  // γ_d or the tensor-core rule, whichever the schedule calls for (sum_constants.h).
  const SumConstants sums = sum_constants(m.schedule, g.K, m.exact_sums ? 0.0 : m.u_acc, m.eta_acc, lambda);
  const double gam = sums.gamma;
  const double gam_prob = sums.gamma_prob;
  // The sum and then the bias addition: γ_{d+1}; for tensor-core blocks (1 + γ)(1 + u) − 1.
  const double gam_next = m.exact_sums                              ? 0.0
                          : m.schedule.order == SumOrder::TensorCore ? (1 + gam) * (1 + m.u_acc) - 1
                                                                     : gamma(sums.depth + 1, m.u_acc);
  const bool to_storage = !m.exact_sums && (m.u_storage != m.u_acc || m.eta_storage != m.eta_acc);
  const double safe = safety(g.K);
  const Enclosure& A = *g.A.e;
  const Enclosure& B = *g.B.e;

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
        const long j = mm * g.bias_stride_m + n * g.bias_stride_n;
        cmag = g.bias->magnitude(j);
        ced = g.bias->err->data[j];
        cep = g.bias->err_prob->data[j];
      }
      double rounding_det, rounding_prob;
      if (m.exact_sums) {
        rounding_det = rounding_prob = m.u_storage * (S + cmag) + m.eta_storage;
      } else {
        const double d_eta = sums.eta;
        rounding_det = gam * S + d_eta;
        rounding_prob = gam_prob * S + d_eta;
        // The finished sum is at most (1+γ_d)S + dη in magnitude; adding the bias rounds once more.
        double T = (1 + gam) * S + d_eta;
        if (g.bias) {
          const double bias_round = m.u_acc * (T + cmag) + m.eta_acc;
          rounding_det += bias_round;
          rounding_prob += bias_round;
          T = (1 + gam_next) * (S + cmag) + d_eta + m.eta_acc;
        }
        if (to_storage) {
          const double store = m.u_storage * T + m.eta_storage;
          rounding_det += store;
          rounding_prob += store;
        }
      }
      const long o = g.out_offset + mm * g.ldo + n;
      det.data[o] = (rounding_det + Ed + ced) * safety(4);
      prob.data[o] = (rounding_prob + Ep + cep) * safety(4);
    }
  }
  return m.exact_sums ? 0.0 : sums.failure;
}

}  // namespace fpaudit::bounds
