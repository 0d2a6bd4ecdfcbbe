// Cost per call of the reference elementary functions (elementary.h), on arguments spread over
// the ranges networks feed them, next to the libm function (not correctly rounded) for scale.
// Each time is the best of 5 trials of 2000 calls (the machine is shared).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <vector>

#include "exact/elementary.h"

namespace {

volatile double sink;

double best_ns(const std::function<double(double)>& f, double lo, double hi) {
  constexpr int kCalls = 2000;
  double best = 1e300;
  for (int t = 0; t < 5; ++t) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kCalls; ++i) sink = f(lo + (hi - lo) * (i + 0.5) / kCalls);
    best = std::min(best, std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / kCalls);
  }
  return best;
}

}  // namespace

int main() {
  namespace ex = fpaudit::exact;
  struct Row {
    const char* name;
    double lo, hi;
    std::function<double(double)> ours, libm;
  };
  const ex::PowConstant square(2.0), cube(3.0);
  const std::vector<Row> rows = {
      {"exp", -10, 10, [](double x) { return ex::exp_rn(x).value; }, [](double x) { return std::exp(x); }},
      {"log", 0.01, 100, [](double x) { return ex::log_rn(x).value; }, [](double x) { return std::log(x); }},
      {"tanh", -5, 5, [](double x) { return ex::tanh_rn(x).value; }, [](double x) { return std::tanh(x); }},
      {"sigmoid", -10, 10, [](double x) { return ex::sigmoid_rn(x).value; },
       [](double x) { return 1 / (1 + std::exp(-x)); }},
      {"erf", -3, 3, [](double x) { return ex::erf_rn(x).value; }, [](double x) { return std::erf(x); }},
      {"erf", 3, 6, [](double x) { return ex::erf_rn(x).value; }, [](double x) { return std::erf(x); }},
      {"gelu", -4, 4, [](double x) { return ex::gelu_rn(x).value; },
       [](double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }},
      {"gelu", -40, -4, [](double x) { return ex::gelu_rn(x).value; },
       [](double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }},
      {"gelu", 4, 12, [](double x) { return ex::gelu_rn(x).value; },
       [](double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }},
      {"sqrt", 0.01, 100, [](double x) { return ex::sqrt_rn(x).value; }, [](double x) { return std::sqrt(x); }},
      {"rsqrt", 0.01, 100, [](double x) { return ex::rsqrt_rn(x).value; }, [](double x) { return 1 / std::sqrt(x); }},
      {"div 1/x", 0.01, 100, [](double x) { return ex::div_rn(1.0, x).value; }, [](double x) { return 1 / x; }},
      {"pow x^2", -10, 10, [&](double x) { return square(x).value; }, [](double x) { return std::pow(x, 2.0); }},
      {"pow x^3", -10, 10, [&](double x) { return cube(x).value; }, [](double x) { return std::pow(x, 3.0); }},
  };
  std::printf("exact_functions_bench: ns per call, best of 5 x 2000 calls\n\n");
  std::printf("%-8s %-14s %12s %10s\n", "function", "arguments", "reference", "libm");
  for (const Row& r : rows) {
    std::printf("%-8s [%5g, %5g] %12.0f %10.1f\n", r.name, r.lo, r.hi, best_ns(r.ours, r.lo, r.hi),
                best_ns(r.libm, r.lo, r.hi));
  }
  return 0;
}
