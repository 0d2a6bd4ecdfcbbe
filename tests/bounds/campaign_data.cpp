#include "campaign_data.h"

#include <algorithm>
#include <cmath>

#include "format/round.h"

namespace fpaudit::test {

std::string data_kind_name(DataKind k) {
  switch (k) {
    case DataKind::Normal: return "normal";
    case DataKind::Positive: return "positive";
    case DataKind::Cancellation: return "cancel";
    case DataKind::NearOverflow: return "overflow";
    case DataKind::Subnormal: return "subnormal";
    case DataKind::Stagnation: return "stagnate";
  }
  return "?";
}

void campaign_vectors(DataKind kind, const Format& storage, const Format& acc, long n, std::mt19937_64& rng,
                      std::vector<double>& x, std::vector<double>& w) {
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  x.assign(static_cast<std::size_t>(n), 0.0);
  w.assign(x.size(), 0.0);
  auto in = [&](double v) { return round_to(storage, v); };
  const double nn = static_cast<double>(n);
  switch (kind) {
    case DataKind::Normal:
      for (long i = 0; i < n; ++i) {
        x[i] = in(normal(rng));
        w[i] = in(normal(rng) / std::sqrt(nn));
      }
      break;
    case DataKind::Positive:
      for (long i = 0; i < n; ++i) {
        x[i] = in(unit(rng));
        w[i] = in(unit(rng));
      }
      break;
    case DataKind::Cancellation: {
      // Pairs (v, -v) with a small perturbation: the exact result is tiny against Σ|x_i w_i|.
      for (long i = 0; i + 1 < n; i += 2) {
        x[i] = in(normal(rng) * 8);
        w[i] = in(normal(rng));
        x[i + 1] = x[i];
        w[i + 1] = in(-w[i] * (1 + 0x1p-6 * normal(rng)));
      }
      if (n % 2) x[n - 1] = w[n - 1] = in(0.5);
      break;
    }
    case DataKind::NearOverflow: {
      // Positive products whose sum approaches the accumulator's largest finite value (a run
      // that overflows anyway is counted as an event, not checked).
      const double target = max_finite(acc) * 0.9 / nn;
      const double limit = max_finite(storage) * 0.99;
      for (long i = 0; i < n; ++i) {
        const double p = target * (0.5 + unit(rng));
        double xi = std::fmin(std::sqrt(p) * (0.5 + unit(rng)), limit);
        x[i] = in(xi);
        w[i] = in(std::fmin(p / x[i], limit));
      }
      break;
    }
    case DataKind::Subnormal: {
      // Products around the accumulator's smallest normal, within the storage range.
      const int emin = std::max(acc.emin, 2 * storage.emin - 2 * storage.precision);
      for (long i = 0; i < n; ++i) {
        const int e = emin - 4 + static_cast<int>(rng() % 10);
        const int ex = e / 2 + static_cast<int>(rng() % 3) - 1;
        x[i] = in(std::ldexp(1 + unit(rng), ex) * (rng() % 2 ? 1 : -1));
        w[i] = in(std::ldexp(1 + unit(rng), e - ex));
      }
      break;
    }
    case DataKind::Stagnation: {
      // One large term first (2^p_acc, as a product of two storage values), then many small
      // positive ones each below half an ulp of it.
      x[0] = in(std::ldexp(1.0, (acc.precision + 1) / 2));
      w[0] = in(std::ldexp(1.0, acc.precision / 2));
      for (long i = 1; i < n; ++i) {
        x[i] = in(0.25 + 0.2 * unit(rng));
        w[i] = 1;
      }
      break;
    }
  }
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

}  // namespace fpaudit::test
