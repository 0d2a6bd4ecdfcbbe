#include "bounds/sum_constants.h"

#include <cmath>

namespace fpaudit::bounds {

namespace {
constexpr double kBinary32Unit = 0x1p-24;
/// A block result y = RZ_32(S) is within 2^-23·|S| of S in binary32's normal range, within
/// 2^-149 (its subnormal spacing) below it.
constexpr double kTruncationRelative = 0x1p-23;
constexpr double kTruncationAbsolute = 0x1p-149;
/// Rounding the binary32 block result into the accumulator: nothing when that is binary32.
bool narrower_than_binary32(double u_acc) { return u_acc > kBinary32Unit; }
}  // namespace

double tensor_core_unit_roundoff(int b, int extra_bits, double u_acc) {
  const double rho = narrower_than_binary32(u_acc) ? (1 + kTruncationRelative) * (1 + u_acc) - 1 : kTruncationRelative;
  const double alignment = static_cast<double>(b + 1) * std::ldexp(1.0, -(23 + extra_bits));
  return (1 + rho) * (1 + alignment) - 1;
}

SumConstants sum_constants(const DotSchedule& s, long n, double u_acc, double eta_acc, double lambda) {
  SumConstants c;
  c.depth = rounding_depth(s, n);
  if (u_acc == 0) return c;  // exact sums
  if (s.order == SumOrder::TensorCore) {
    const int b = s.block > 0 ? s.block : 1;
    c.gamma = gamma(c.depth, tensor_core_unit_roundoff(b, s.extra_bits, u_acc));
    c.gamma_prob = c.gamma;
    const double eta_block = narrower_than_binary32(u_acc) ? kTruncationAbsolute * (1 + u_acc) + eta_acc : kTruncationAbsolute;
    c.eta = static_cast<double>(c.depth) * (1 + c.gamma) * eta_block;
    c.failure = 0;
    return c;
  }
  c.gamma = gamma(c.depth, u_acc);
  c.gamma_prob = gamma_probabilistic(c.depth, u_acc, lambda);
  c.eta = static_cast<double>(c.depth) * eta_acc;
  c.failure = probabilistic_failure(c.depth, u_acc, lambda);
  return c;
}

}  // namespace fpaudit::bounds
