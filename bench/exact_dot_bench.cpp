// How fast is the exact reference dot product? On the same random binary32 vectors, for
// n = 64, 256, 1024, 4096, in one process:
//   fast exact     exact::dot on binary32 data (certified pass; exact accumulator fallback),
//                  with the kernel set the CPU selects, and each other set the CPU has
//   binary64 loop  s += double(x[i]) * double(w[i]): the compiler's plain loop, -O2, no fast-math
//   naive MPFR     Boost mpfr_float at 128 bits, one temporary per multiply-add
// Prints ns per multiply-add and the ratios the design asks for: naive / fast ≥ 50 and
// fast / binary64 ≤ 10. Each time is the best of several trials (the machine is shared).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <span>
#include <vector>

#include <boost/multiprecision/mpfr.hpp>

#include "exact/compensated_sum.h"
#include "exact/dot.h"
#include "exact/dot_kernels.h"

namespace {

using Clock = std::chrono::steady_clock;
using boost::multiprecision::mpfr_float;

volatile double sink;  // keeps every result alive

/// Best time per call over `trials` runs of `reps` calls each, in nanoseconds.
template <class F>
double best_ns_per_call(F&& f, int reps, int trials = 7) {
  double best = 1e300;
  for (int t = 0; t < trials; ++t) {
    const auto t0 = Clock::now();
    for (int r = 0; r < reps; ++r) sink = f();
    const double ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / reps;
    best = std::min(best, ns);
  }
  return best;
}

/// The obvious loop, as a plain function the compiler treats normally.
[[gnu::noinline]] double plain_binary64_dot(const float* x, const float* w, std::size_t n) {
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) s += static_cast<double>(x[i]) * static_cast<double>(w[i]);
  return s;
}

/// The naive reference: every multiply-add a fresh 128-bit MPFR temporary.
[[gnu::noinline]] double naive_mpfr_dot(const float* x, const float* w, std::size_t n) {
  mpfr_float acc = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const mpfr_float product = mpfr_float(x[i]) * mpfr_float(w[i]);
    acc += product;
  }
  return acc.convert_to<double>();
}

/// One kernel set with the certificate, falling back like exact::dot does.
double kernel_dot(const fpaudit::exact::detail::DotKernels& k, const float* x, const float* w, std::size_t n) {
  fpaudit::exact::CompensatedSum sum;
  sum.add(0.0);
  k.dot_f32(x, w, n, sum);
  if (const auto r = fpaudit::exact::certify_nearest(sum)) return r->value;
  return fpaudit::exact::dot(std::span(x, n), std::span(w, n), 0.0);
}

}  // namespace

int main() {
  // 128 bits exactly: Boost 1.74 counts precision in decimal digits; 38 digits give 128 bits.
  mpfr_float::default_precision(38);
  if (mpfr_get_prec(mpfr_float(1).backend().data()) != 128) std::fprintf(stderr, "warning: naive MPFR is not at 128 bits\n");

  namespace ex = fpaudit::exact;
  const auto& active = ex::detail::active_kernels();
  std::vector<const ex::detail::DotKernels*> others;
  for (const auto* k : {ex::detail::avx512_kernels(), ex::detail::avx2_kernels(), &ex::detail::scalar_kernels()}) {
    if (k && k != &active) others.push_back(k);
  }

  std::mt19937_64 rng(2026);
  std::normal_distribution<float> activations(0.0f, 1.0f), weights(0.0f, 0.05f);
  std::printf("exact_dot_bench: binary32 vectors, x ~ N(0,1), w ~ N(0,0.05); ns per multiply-add, best of 7\n");
  std::printf("fast exact uses the %.*s kernels (selected at run time)\n\n", static_cast<int>(active.isa.size()),
              active.isa.data());
  std::printf("%6s  %10s  %10s  %10s  %14s  %14s  %9s  %9s", "n", "fast exact", "binary64", "naive MPFR",
              "naive/fast", "fast/binary64", "2nd chance", "fallback");
  for (const auto* k : others) std::printf("  %8.*s", static_cast<int>(k->isa.size()), k->isa.data());
  std::printf("\n");

  bool targets_met = true;
  for (const std::size_t n : {64, 256, 1024, 4096}) {
    // Several vector pairs per size, so the fast path meets many different sums.
    constexpr int kPairs = 64;
    std::vector<std::vector<float>> xs(kPairs, std::vector<float>(n)), ws(kPairs, std::vector<float>(n));
    for (int p = 0; p < kPairs; ++p) {
      for (std::size_t i = 0; i < n; ++i) {
        xs[p][i] = activations(rng);
        ws[p][i] = weights(rng);
      }
    }
    const int reps = static_cast<int>(std::max<std::size_t>(1, (1u << 22) / n));
    int p = 0;
    auto next = [&] { return p = (p + 1) % kPairs; };
    ex::reset_dot_path_counts();
    const double fast = best_ns_per_call([&] {
      const int q = next();
      return ex::dot(std::span<const float>(xs[q]), std::span<const float>(ws[q]), 0.0);
    }, reps) / static_cast<double>(n);
    const auto counts = ex::dot_path_counts();
    const double plain = best_ns_per_call([&] {
      const int q = next();
      return plain_binary64_dot(xs[q].data(), ws[q].data(), n);
    }, reps) / static_cast<double>(n);
    const double naive = best_ns_per_call([&] {
      const int q = next();
      return naive_mpfr_dot(xs[q].data(), ws[q].data(), n);
    }, std::max(1, reps / 200), 3) / static_cast<double>(n);
    const double calls = static_cast<double>(counts.certified + counts.second_chance + counts.fallback);
    std::printf("%6zu  %10.3f  %10.3f  %10.1f  %13.0fx  %13.2fx  %9.2f%%  %8.2f%%", n, fast, plain, naive, naive / fast,
                fast / plain, 100 * static_cast<double>(counts.second_chance) / calls,
                100 * static_cast<double>(counts.fallback) / calls);
    for (const auto* k : others) {
      const double t = best_ns_per_call([&] {
        const int q = next();
        return kernel_dot(*k, xs[q].data(), ws[q].data(), n);
      }, reps) / static_cast<double>(n);
      std::printf("  %8.3f", t);
    }
    std::printf("\n");
    targets_met = targets_met && naive / fast >= 50 && fast / plain <= 10;
  }
  std::printf("\n2nd chance / fallback: share of calls decided by the exact-error test / by the long accumulator.\n");
  std::printf("Other columns: the same fast exact dot with the other kernel sets this CPU has.\n");
  std::printf("targets (naive/fast >= 50x, fast/binary64 <= 10x): %s\n", targets_met ? "met" : "NOT met");
  return 0;
}
