#include "exact/dot.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "exact/compensated_sum.h"
#include "exact/dot_kernels.h"
#include "exact/exact_accumulator.h"
#include "exact/fp_environment.h"

namespace fpaudit::exact {

namespace {

thread_local DotPathCounts counts;

void check_sizes(std::size_t nx, std::size_t nw) {
  if (nx != nw) {
    throw std::invalid_argument("exact::dot: x has " + std::to_string(nx) + " elements but w has " +
                                std::to_string(nw));
  }
}

/// The exact answer, always: the long accumulator over the same terms.
template <class X, class W>
Certified accumulate_exactly(const X* x, std::ptrdiff_t incx, const W* w, std::ptrdiff_t incw, std::size_t n,
                             double bias) {
  ExactAccumulator acc;
  acc.add(bias);
  for (std::size_t i = 0; i < n; ++i) {
    const auto k = static_cast<std::ptrdiff_t>(i);
    acc.add_product(static_cast<double>(x[k * incx]), static_cast<double>(w[k * incw]));
  }
  return acc.round_nearest_certified();
}

/// ilogb of the smallest nonzero |term(i)| (i < n) and |extra|; a huge value when all are 0.
template <class Term>
int min_exponent(std::size_t n, Term&& term, double extra) {
  double smallest = std::fabs(extra) > 0 ? std::fabs(extra) : std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < n; ++i) {
    const double a = std::fabs(term(i));
    if (a > 0 && a < smallest) smallest = a;
  }
  return std::isinf(smallest) ? 1 << 20 : std::ilogb(smallest);
}

/// The answer: the certificate's when the fast pass split every product exactly and it can
/// decide, else the second chance's (grid() gives the exponent every error term is a multiple
/// of: one O(n) scan, only when needed), else the exact accumulator's.
template <class Grid, class Fallback>
Certified decide(const CompensatedSum& sum, bool split_exact, Grid&& grid, Fallback&& fallback) {
  if (split_exact) {
    if (const auto r = certify_nearest(sum)) {
      ++counts.certified;
      return *r;
    }
    if (std::isfinite(sum.s) && std::isfinite(sum.abs_c)) {
      if (const auto r = certify_exact_errors(sum, grid())) {
        ++counts.second_chance;
        return *r;
      }
    }
  }
  ++counts.fallback;
  return fallback();
}

// Grids (theory §3.3): a nonzero binary64 t is a multiple of 2^(ilogb(t) - 52); TwoSum errors
// are multiples of the finest grid of their operands; a TwoProd residual of x·w is a multiple
// of quantum(x)·quantum(w) ≥ 2^(ilogb(fl(x·w)) - 106).

/// Terms exact in binary64 (products of binary32 values, or the values of a sum).
template <class Term>
int exact_terms_grid(std::size_t n, Term&& term, double bias) {
  return min_exponent(n, term, bias) - 52;
}

/// Products split by TwoProd: the residuals are the finest terms.
template <class W>
int two_prod_grid(const double* x, std::ptrdiff_t incx, const W* w, std::ptrdiff_t incw, std::size_t n, double bias) {
  const int products = min_exponent(n, [&](std::size_t i) {
    const auto k = static_cast<std::ptrdiff_t>(i);
    return x[k * incx] * static_cast<double>(w[k * incw]);
  }, 0.0);
  const int b = min_exponent(0, [](std::size_t) { return 0.0; }, bias);
  return std::min(products - 106, b - 52);
}

}  // namespace

namespace {
/// Binary64 data with binary64 or binary32 weights: the error-free pass of the active kernel
/// set, then the certificate or the exact fallbacks.
template <class W>
Certified dot_split(std::span<const double> x, std::span<const W> w, double bias) {
  detail::DefaultFloatingPointEnvironment fp_env;
  check_sizes(x.size(), w.size());
  CompensatedSum sum;
  sum.add(bias);
  const detail::DotKernels& k = detail::active_kernels();
  bool ok;
  if constexpr (std::is_same_v<W, float>)
    ok = k.dot_f64_f32(x.data(), w.data(), x.size(), sum);
  else
    ok = k.dot_f64(x.data(), w.data(), x.size(), sum);
  return decide(
      sum, ok, [&] { return two_prod_grid(x.data(), 1, w.data(), 1, x.size(), bias); },
      [&] { return accumulate_exactly(x.data(), 1, w.data(), 1, x.size(), bias); });
}
}  // namespace

Certified dot_certified(std::span<const double> x, std::span<const double> w, double bias) { return dot_split(x, w, bias); }
Certified dot_certified(std::span<const double> x, std::span<const float> w, double bias) { return dot_split(x, w, bias); }

Certified dot_certified(std::span<const float> x, std::span<const float> w, double bias) {
  detail::DefaultFloatingPointEnvironment fp_env;
  check_sizes(x.size(), w.size());
  CompensatedSum sum;
  sum.add(bias);
  detail::active_kernels().dot_f32(x.data(), w.data(), x.size(), sum);
  return decide(
      sum, true,
      [&] {
        return exact_terms_grid(x.size(), [&](std::size_t i) { return double(x[i]) * double(w[i]); }, bias);
      },
      [&] {
        // Products of binary32 values are exact doubles: add them as such (cheaper).
        ExactAccumulator acc;
        acc.add(bias);
        for (std::size_t i = 0; i < x.size(); ++i) acc.add(double(x[i]) * double(w[i]));
        return acc.round_nearest_certified();
      });
}

Certified dot_strided_certified(const double* x, std::ptrdiff_t incx, const double* w, std::ptrdiff_t incw,
                                std::size_t n, double bias) {
  detail::DefaultFloatingPointEnvironment fp_env;
  if (incx == 1 && incw == 1) return dot_certified(std::span(x, n), std::span(w, n), bias);
  // Gather blocks into contiguous buffers so the vector kernel does the work.
  constexpr std::size_t kBlock = 256;
  double xb[kBlock], wb[kBlock];
  CompensatedSum sum;
  sum.add(bias);
  bool ok = true;
  const auto& kernels = detail::active_kernels();
  for (std::size_t start = 0; start < n; start += kBlock) {
    const std::size_t len = std::min(kBlock, n - start);
    for (std::size_t j = 0; j < len; ++j) {
      const auto k = static_cast<std::ptrdiff_t>(start + j);
      xb[j] = x[k * incx];
      wb[j] = w[k * incw];
    }
    ok = kernels.dot_f64(xb, wb, len, sum) && ok;
  }
  return decide(
      sum, ok, [&] { return two_prod_grid(x, incx, w, incw, n, bias); },
      [&] { return accumulate_exactly(x, incx, w, incw, n, bias); });
}

Certified sum_certified(std::span<const double> x) {
  detail::DefaultFloatingPointEnvironment fp_env;
  if (x.empty()) return {0.0, 0.0};  // the empty sum is +0 (CompensatedSum starts at -0)
  CompensatedSum sum;
  detail::active_kernels().sum_f64(x.data(), x.size(), sum);
  return decide(sum, true, [&] { return exact_terms_grid(x.size(), [&](std::size_t i) { return x[i]; }, 0.0); }, [&] {
    ExactAccumulator acc;
    for (const double v : x) acc.add(v);
    return acc.round_nearest_certified();
  });
}

double dot(std::span<const double> x, std::span<const double> w, double bias) {
  return dot_certified(x, w, bias).value;
}
double dot(std::span<const double> x, std::span<const float> w, double bias) {
  return dot_certified(x, w, bias).value;
}
double dot(std::span<const float> x, std::span<const float> w, double bias) {
  return dot_certified(x, w, bias).value;
}
double dot_strided(const double* x, std::ptrdiff_t incx, const double* w, std::ptrdiff_t incw, std::size_t n,
                   double bias) {
  return dot_strided_certified(x, incx, w, incw, n, bias).value;
}
double sum(std::span<const double> x) { return sum_certified(x).value; }

DotPathCounts dot_path_counts() { return counts; }
void reset_dot_path_counts() { counts = {}; }

}  // namespace fpaudit::exact
