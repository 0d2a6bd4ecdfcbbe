// The backward steps of ReLU and MaxPool in vector lanes against the per-unit calls they replace.
//
// ReLU's backward step on whole tensors (margin::add_relu, vectorised) against the per-unit calls
// it replaces (add_exact where the box fixes slope 1, nothing where it fixes 0, add_unit_slope_hull
// elsewhere), bit for bit (a NaN's sign aside: test::same_bits_or_nan): the accumulated midpoints
// and radii and whether the input is reached, on boxes of every kind (stable on either side, straddling, touching 0, NaN bounds) and
// cotangents and earlier accumulations over the whole binary64 range with the special values.
#include <cmath>
#include <cstdint>
#include <vector>

#include <doctest/doctest.h>

#include "shadow/margin/backward.h"
#include "support/test_values.h"

using namespace fpaudit;
using namespace fpaudit::margin;

namespace {

/// The step as ReluBackward took it unit by unit before add_relu.
void per_unit(const std::vector<double>& lo, const std::vector<double>& hi, const Cotangent& g, Cotangent& in) {
  for (long i = 0; i < static_cast<long>(lo.size()); ++i) {
    const auto k = static_cast<std::size_t>(i);
    if (lo[k] >= 0)
      add_exact(g, i, in, i);
    else if (!(hi[k] <= 0))
      add_unit_slope_hull(g, i, in, i);
  }
}

}  // namespace

TEST_CASE("ReLU backward in lanes = unit by unit, bit for bit") {
  test::WideValues rng{91};
  const long widths[] = {1, 3, 8, 15, 16, 64, 129, 1000};
  int reached = 0, not_reached = 0;
  for (int trial = 0; trial < 40; ++trial)
    for (long n : widths) {
      CAPTURE(trial);
      CAPTURE(n);
      std::vector<double> lo(static_cast<std::size_t>(n)), hi(lo.size());
      Cotangent g, in_lanes, in_units;
      g.reset(lo.size());
      in_lanes.reset(lo.size());
      for (std::size_t i = 0; i < lo.size(); ++i) {
        // Boxes: trial 0 all stable negative (nothing added, the input not reached), else a mix.
        const double a = rng.next(), b = rng.next();
        const std::uint64_t kind = trial == 0 ? 0 : rng.bits() % 5;
        if (kind == 0) {
          lo[i] = -std::fabs(a) - 1;
          hi[i] = trial % 2 ? -0.0 : -std::fabs(b);
        } else if (kind == 1) {
          lo[i] = std::fabs(a);
          hi[i] = lo[i] + std::fabs(b);
        } else if (kind == 2) {
          lo[i] = -std::fabs(a);
          hi[i] = std::fabs(b);
        } else {
          lo[i] = a;  // anything, NaN and ±0 included
          hi[i] = b;
        }
        g.mid[i] = rng.next();
        g.rad[i] = std::fabs(rng.next());
        // An earlier consumer's accumulation (sometimes none).
        in_lanes.mid[i] = trial % 3 ? rng.next() : 0.0;
        in_lanes.rad[i] = trial % 3 ? std::fabs(rng.next()) : 0.0;
      }
      g.reached = true;
      in_units = in_lanes;
      add_relu(lo.data(), hi.data(), g, in_lanes);
      per_unit(lo, hi, g, in_units);
      CHECK(test::same_bits_or_nan(in_lanes.mid, in_units.mid));
      CHECK(test::same_bits_or_nan(in_lanes.rad, in_units.rad));
      CHECK(in_lanes.reached == in_units.reached);
      (in_units.reached ? reached : not_reached) += 1;
    }
  // Both outcomes of `reached` occur.
  CHECK(reached > 0);
  CHECK(not_reached > 0);
}

namespace {

/// MaxPool's step over one plane as MaxPoolBackward took it before the lanes: per output, the
/// floor max lo, the candidates hi ≥ floor in tap order, add_exact for a single one and
/// add_unit_slope_hull for each otherwise.
void max_pool_per_unit(const std::vector<std::int32_t>& tap, const std::vector<double>& lo, const std::vector<double>& hi,
                       const Cotangent& g, Cotangent& in) {
  const long P = static_cast<long>(tap.size()) / 4;
  for (long p = 0; p < P; ++p) {
    const std::int32_t* w = tap.data() + 4 * p;
    double floor = -INFINITY;
    for (int t = 0; t < 4; ++t) floor = bounds::max_num(floor, lo[static_cast<std::size_t>(w[t])]);
    long count = 0, first = 0;
    for (int t = 0; t < 4; ++t)
      if (hi[static_cast<std::size_t>(w[t])] >= floor && count++ == 0) first = w[t];
    if (count == 1) {
      add_exact(g, p, in, first);
      continue;
    }
    for (int t = 0; t < 4; ++t)
      if (hi[static_cast<std::size_t>(w[t])] >= floor) add_unit_slope_hull(g, p, in, w[t]);
  }
}

}  // namespace

TEST_CASE("MaxPool backward in lanes (disjoint windows of 4) = unit by unit, bit for bit") {
  test::WideValues rng{33};
  int reached = 0, not_reached = 0, single = 0, several = 0;
  for (int trial = 0; trial < 60; ++trial) {
    CAPTURE(trial);
    // A plane of 2h × 2w units pooled 2×2 with stride 2: output (i, j) reads rows 2i, 2i+1 and
    // columns 2j, 2j+1 in that order (the tap order of a Windows table).
    const long h = 1 + static_cast<long>(rng.bits() % 5), w = 1 + static_cast<long>(rng.bits() % 9);
    const long P = h * w, n = 4 * P;
    std::vector<std::int32_t> tap;
    for (long i = 0; i < h; ++i)
      for (long j = 0; j < w; ++j)
        for (long di = 0; di < 2; ++di)
          for (long dj = 0; dj < 2; ++dj) tap.push_back(static_cast<std::int32_t>((2 * i + di) * 2 * w + 2 * j + dj));
    std::vector<double> lo(static_cast<std::size_t>(n)), hi(lo.size());
    for (std::size_t i = 0; i < lo.size(); ++i) {
      const std::uint64_t kind = trial == 0 ? 4 : rng.bits() % 4;
      // Narrow boxes (one candidate), equal boxes (ties), wide ones (several), anything (NaN).
      const double a = kind == 3 ? rng.next() : std::ldexp(1.0 + static_cast<double>(rng.bits() % 8), -2);
      lo[i] = a;
      hi[i] = kind == 0 ? a : kind == 1 ? a + 0.25 : kind == 2 ? a + 4 : kind == 3 ? rng.next() : NAN;
    }
    Cotangent g, lanes, units;
    g.reset(static_cast<std::size_t>(P));
    lanes.reset(lo.size());
    for (std::size_t i = 0; i < g.mid.size(); ++i) {
      g.mid[i] = rng.next();
      g.rad[i] = std::fabs(rng.next());
    }
    for (std::size_t i = 0; i < lanes.mid.size(); ++i) {
      lanes.mid[i] = trial % 3 ? rng.next() : 0.0;
      lanes.rad[i] = trial % 3 ? std::fabs(rng.next()) : 0.0;
    }
    units = lanes;
    std::vector<double> next(static_cast<std::size_t>(2 * n));
    if (add_max_pool4(tap.data(), P, lo.data(), hi.data(), g.mid.data(), g.rad.data(), lanes.mid.data(), lanes.rad.data(), next.data(),
                      next.data() + n))
      lanes.reached = true;
    for (long e = 0; e < n; ++e) {
      lanes.mid[static_cast<std::size_t>(tap[static_cast<std::size_t>(e)])] = next[static_cast<std::size_t>(e)];
      lanes.rad[static_cast<std::size_t>(tap[static_cast<std::size_t>(e)])] = next[static_cast<std::size_t>(n + e)];
    }
    max_pool_per_unit(tap, lo, hi, g, units);
    CHECK(test::same_bits_or_nan(lanes.mid, units.mid));
    CHECK(test::same_bits_or_nan(lanes.rad, units.rad));
    CHECK(lanes.reached == units.reached);
    (units.reached ? reached : not_reached) += 1;
    for (long p = 0; p < P; ++p) {
      double floor = -INFINITY;
      for (int t = 0; t < 4; ++t) floor = bounds::max_num(floor, lo[static_cast<std::size_t>(tap[static_cast<std::size_t>(4 * p + t)])]);
      int count = 0;
      for (int t = 0; t < 4; ++t) count += hi[static_cast<std::size_t>(tap[static_cast<std::size_t>(4 * p + t)])] >= floor;
      single += count == 1;
      several += count > 1;
    }
  }
  // Every path is taken: one candidate, several, none (NaN boxes: the input not reached).
  CHECK(reached > 0);
  CHECK(not_reached > 0);
  CHECK(single > 50);
  CHECK(several > 50);
}
