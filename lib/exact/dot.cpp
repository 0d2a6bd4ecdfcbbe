#include "exact/dot.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "exact/compensated_sum.h"
#include "exact/dot_kernels.h"
#include "exact/exact_accumulator.h"

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

/// The certificate's answer when the fast pass was exact and it can decide, else the
/// accumulator's.
template <class Fallback>
Certified decide(const CompensatedSum& sum, bool split_exact, Fallback&& fallback) {
  if (split_exact) {
    if (const auto r = certify_nearest(sum)) {
      ++counts.certified;
      return *r;
    }
  }
  ++counts.fallback;
  return fallback();
}

}  // namespace

Certified dot_certified(std::span<const double> x, std::span<const double> w, double bias) {
  check_sizes(x.size(), w.size());
  CompensatedSum sum;
  sum.add(bias);
  const bool ok = detail::active_kernels().dot_f64(x.data(), w.data(), x.size(), sum);
  return decide(sum, ok, [&] { return accumulate_exactly(x.data(), 1, w.data(), 1, x.size(), bias); });
}

Certified dot_certified(std::span<const double> x, std::span<const float> w, double bias) {
  check_sizes(x.size(), w.size());
  CompensatedSum sum;
  sum.add(bias);
  const bool ok = detail::active_kernels().dot_f64_f32(x.data(), w.data(), x.size(), sum);
  return decide(sum, ok, [&] { return accumulate_exactly(x.data(), 1, w.data(), 1, x.size(), bias); });
}

Certified dot_certified(std::span<const float> x, std::span<const float> w, double bias) {
  check_sizes(x.size(), w.size());
  CompensatedSum sum;
  sum.add(bias);
  detail::active_kernels().dot_f32(x.data(), w.data(), x.size(), sum);
  return decide(sum, true, [&] { return accumulate_exactly(x.data(), 1, w.data(), 1, x.size(), bias); });
}

Certified dot_strided_certified(const double* x, std::ptrdiff_t incx, const double* w, std::ptrdiff_t incw,
                                std::size_t n, double bias) {
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
  return decide(sum, ok, [&] { return accumulate_exactly(x, incx, w, incw, n, bias); });
}

Certified sum_certified(std::span<const double> x) {
  if (x.empty()) return {0.0, 0.0};  // the empty sum is +0 (CompensatedSum starts at -0)
  CompensatedSum sum;
  detail::active_kernels().sum_f64(x.data(), x.size(), sum);
  return decide(sum, true, [&] {
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

int dot_round_to(mpfr_ptr out, mpfr_rnd_t rnd, std::span<const double> x, std::span<const double> w, double bias) {
  check_sizes(x.size(), w.size());
  ExactAccumulator acc;
  acc.add(bias);
  for (std::size_t i = 0; i < x.size(); ++i) acc.add_product(x[i], w[i]);
  return acc.round_to(out, rnd);
}

int sum_round_to(mpfr_ptr out, mpfr_rnd_t rnd, std::span<const double> x) {
  ExactAccumulator acc;
  for (const double v : x) acc.add(v);
  return acc.round_to(out, rnd);
}

DotPathCounts dot_path_counts() { return counts; }
void reset_dot_path_counts() { counts = {}; }

}  // namespace fpaudit::exact
