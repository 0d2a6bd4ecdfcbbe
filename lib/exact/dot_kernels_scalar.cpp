// The portable kernels: plain binary64 operations (std::fma for TwoProd, which is correctly
// rounded in software where the CPU has no FMA), four independent lanes so that the TwoSum
// chains overlap in the pipeline. Also the tails of the vector kernels.
#include <cmath>

#include "exact/dot_kernels.h"

namespace fpaudit::exact::detail {

namespace {

constexpr int kLanes = 4;

struct Lanes {
  double s[kLanes] = {-0.0, -0.0, -0.0, -0.0};
  double c[kLanes] = {};
  double a[kLanes] = {};

  /// Adds an exact term (TwoSum error to c) in lane l.
  void add_exact(int l, double p) {
    const SumAndError r = two_sum(s[l], p);
    s[l] = r.s;
    c[l] += r.e;
    a[l] += std::fabs(r.e);
  }
  /// Adds x·w, split by TwoProd; clears ok when the split may be inexact.
  void add_product(int l, double x, double w, bool& ok) {
    const double p = x * w;
    const double e = std::fma(x, w, -p);
    // NaN fails the comparison and is caught later as a non-finite sum.
    if (std::fabs(p) <= kTwoProdSafeMin && x != 0 && w != 0) ok = false;
    const SumAndError r = two_sum(s[l], p);
    s[l] = r.s;
    c[l] += r.e + e;
    a[l] += std::fabs(r.e) + std::fabs(e);
  }
  /// Moves the lanes into acc; error_terms counts the error terms the lanes hold.
  void flush(CompensatedSum& acc, std::size_t error_terms) const {
    for (int l = 0; l < kLanes; ++l) acc.add(s[l]);
    for (int l = 0; l < kLanes; ++l) acc.add_errors(c[l], a[l], 0);
    acc.errors += error_terms;
  }
};

template <class W>
bool dot_products(const double* x, const W* w, std::size_t n, CompensatedSum& acc) {
  Lanes lanes;
  bool ok = true;
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) lanes.add_product(l, x[i + l], static_cast<double>(w[i + l]), ok);
  }
  for (; i < n; ++i) lanes.add_product(0, x[i], static_cast<double>(w[i]), ok);
  lanes.flush(acc, 2 * n);
  return ok;
}

bool dot_f64(const double* x, const double* w, std::size_t n, CompensatedSum& acc) {
  return dot_products(x, w, n, acc);
}
bool dot_f64_f32(const double* x, const float* w, std::size_t n, CompensatedSum& acc) {
  return dot_products(x, w, n, acc);
}

void dot_f32(const float* x, const float* w, std::size_t n, CompensatedSum& acc) {
  Lanes lanes;
  std::size_t i = 0;
  // A product of two binary32 values has at most 48 significant bits and an exponent within
  // [-298, 255]: exact in binary64, never near under- or overflow.
  for (; i + kLanes <= n; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) lanes.add_exact(l, static_cast<double>(x[i + l]) * static_cast<double>(w[i + l]));
  }
  for (; i < n; ++i) lanes.add_exact(0, static_cast<double>(x[i]) * static_cast<double>(w[i]));
  lanes.flush(acc, n);
}

void sum_f64(const double* x, std::size_t n, CompensatedSum& acc) {
  Lanes lanes;
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) lanes.add_exact(l, x[i + l]);
  }
  for (; i < n; ++i) lanes.add_exact(0, x[i]);
  lanes.flush(acc, n);
}

}  // namespace

const DotKernels& scalar_kernels() {
  static const DotKernels kernels{"scalar", dot_f64, dot_f64_f32, dot_f32, sum_f64};
  return kernels;
}

}  // namespace fpaudit::exact::detail
