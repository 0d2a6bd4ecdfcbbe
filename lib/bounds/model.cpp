#include "bounds/model.h"

#include <cmath>
#include <limits>

namespace fpaudit::bounds {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
}  // namespace

double rounding_growth(long k, double u) {
  if (k <= 0 || u == 0) return 0;
  // (1+u)^k by binary powering: 1+u is exact, and the rounding errors of the squarings and
  // products enter with total multiplicity at most 2k + 64, so the true power is at most the
  // computed one times 1 + γ_{2k+64}(2^-53) (theory/bounds-arithmetic.md §2).
  double result = 1, base = 1 + u;
  for (long e = k; e > 0; e >>= 1) {
    if (e & 1) result *= base;
    if (e > 1) base *= base;
  }
  const double up = result * (1 + 2 * gamma(2 * k + 66, 0x1p-53));
  const double powering = (up - 1) * (1 + 0x1p-52);
  // γ_k = ku/(1-ku), with ku and 1-ku exact, rounded up: the classical bound, when finite.
  const double ku = static_cast<double>(k) * u;
  const double classical = ku < 1 ? ku / (1 - ku) * (1 + 0x1p-52) : kInf;
  return min_num(powering, classical);
}

double gamma_probabilistic(long k, double u, double lambda) {
  const double x = lambda * std::sqrt(static_cast<double>(k)) * u + static_cast<double>(k) * u * u / (1 - u);
  // expm1 and the few operations above are accurate to a few ulps; the margin covers them
  // (theory/bounds-arithmetic.md §3).
  return std::expm1(x) * (1 + (1 + x) * 0x1p-47);
}

double probabilistic_failure(long terms, double u, double lambda) {
  const double p = 2.0 * static_cast<double>(terms) * std::exp(-lambda * lambda * (1 - u) * (1 - u) / 2) * (1 + 0x1p-47);
  return p < 1 ? p : 1.0;
}

}  // namespace fpaudit::bounds
