// ReLU's backward step on whole tensors (margin::add_relu, vectorised) against the per-unit calls
// it replaces (add_exact where the box fixes slope 1, nothing where it fixes 0, add_unit_slope_hull
// elsewhere), bit for bit (a NaN's sign aside: test::same_bits_or_nan): the accumulated midpoints
// and radii and whether the input is reached, on boxes of every kind (stable on either side, straddling, touching 0, NaN bounds) and
// cotangents and earlier accumulations over the whole binary64 range with the special values.
#include <cmath>
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
