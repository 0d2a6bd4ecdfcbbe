#include "cuda/gemm_operands.h"

#include <stdexcept>

#include "format/binary16.h"

namespace fpaudit::cuda {

PackedGemmOperands pack_gemm_operands(const GemmArgs& g, const Arithmetic& arithmetic) {
  if (g.M < 0 || g.N < 0 || g.K < 0) throw std::invalid_argument("pack_gemm_operands: negative dimension");
  PackedGemmOperands p;
  p.w.resize(static_cast<std::size_t>(g.M * g.K));
  p.x.resize(static_cast<std::size_t>(g.K * g.N));
  // Storage values are binary16, so the conversion through binary32 is exact.
  for (long m = 0; m < g.M; ++m)
    for (long k = 0; k < g.K; ++k) p.w[m * g.K + k] = b16::from_float(static_cast<float>(g.w_at(m, k)));
  for (long k = 0; k < g.K; ++k)
    for (long n = 0; n < g.N; ++n) p.x[k * g.N + n] = b16::from_float(static_cast<float>(g.x_at(k, n)));
  if (g.bias) {
    p.bias.resize(static_cast<std::size_t>(g.M));
    for (long m = 0; m < g.M; ++m) p.bias[m] = static_cast<float>(arithmetic.round(g.bias[m], Target::Accumulator));
  }
  return p;
}

}  // namespace fpaudit::cuda
