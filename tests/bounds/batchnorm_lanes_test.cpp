// batchnorm_bounds (bounds/normalization.h), the BatchNorm rule several elements at a time,
// against the scalar batchnorm_bound it replaces: the same bits for every element, in every
// rounding model (16-bit, binary32, a saturating E4M3, the exact reference's binary64), with and
// without a separate probabilistic input bound, on values of both signs over the whole binary64
// range and the special ones (±0, subnormals, ±Inf, NaN, values beyond a format's largest).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include <doctest/doctest.h>

#include "bounds/normalization.h"
#include "rounding_models.h"
#include "support/test_values.h"

using namespace fpaudit;
using namespace fpaudit::bounds;

namespace {

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

}  // namespace

TEST_CASE("BatchNorm bounds, several elements at a time = one at a time, bit for bit") {
  const std::vector<ArithmeticModel> models = test::storage_rounding_models();
  test::WideValues rng{2024};
  for (const ArithmeticModel& m : models) {
    CAPTURE(m.storage.u);
    CAPTURE(m.storage.saturates);
    for (int trial = 0; trial < 40; ++trial) {
      // A fold with an interval scale of either sign (or straddling zero) and a shift.
      BatchNormFold f;
      const double s = std::ldexp(1.0 + static_cast<double>(rng.bits() % 64) / 64.0, static_cast<int>(rng.bits() % 20) - 10);
      const double sign = trial % 3 == 0 ? -1.0 : 1.0;
      f.scale = trial % 7 == 0 ? Interval{-s, s} : Interval{sign * s, sign * s * (1 + 0x1p-20)};
      if (sign < 0) f.scale = Interval{f.scale.hi, f.scale.lo};
      f.shift = Interval{-s * 3, -s * 3 + 0x1p-30};
      f.scale_err = s * 0x1p-24;
      f.shift_err = s * 0x1p-20;
      const long n = 1 + static_cast<long>(rng.bits() % 37);  // full vectors and a remainder
      std::vector<double> lo(static_cast<std::size_t>(n)), hi(lo.size()), ed(lo.size()), ep(lo.size());
      for (std::size_t i = 0; i < lo.size(); ++i) {
        lo[i] = rng.next();
        hi[i] = trial % 2 ? lo[i] : rng.next();
        ed[i] = std::fabs(rng.next());
        ep[i] = std::fabs(rng.next());
      }
      for (bool separate : {false, true}) {
        std::vector<double> det(lo.size()), prob(lo.size()), want_det(lo.size()), want_prob(lo.size());
        for (std::size_t i = 0; i < lo.size(); ++i) {
          want_det[i] = batchnorm_bound(m, f, {lo[i], hi[i], ed[i]});
          want_prob[i] = separate ? min_num(want_det[i], batchnorm_bound(m, f, {lo[i], hi[i], ep[i]})) : want_det[i];
        }
        batchnorm_bounds(m, f, {lo.data(), hi.data(), ed.data(), separate ? ep.data() : nullptr, det.data(), prob.data(), n});
        CAPTURE(trial);
        CAPTURE(separate);
        CHECK(same_bits(det, want_det));
        CHECK(same_bits(prob, want_prob));
      }
    }
  }
}
