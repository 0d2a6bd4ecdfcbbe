// The lanes tests' comparison of a vector form's cotangent accumulation with the per-unit
// oracle's: the same bits in mid and rad (a NaN's sign aside: test::same_bits_or_nan says why),
// and the same `reached`. Three checks, each reported where it fails.
#pragma once

#include <doctest/doctest.h>

#include "shadow/margin/backward.h"
#include "support/test_values.h"

namespace fpaudit::test {

inline void check_same_cotangent(const margin::Cotangent& got, const margin::Cotangent& want) {
  CHECK(same_bits_or_nan(got.mid, want.mid));
  CHECK(same_bits_or_nan(got.rad, want.rad));
  CHECK(got.reached == want.reached);
}

}  // namespace fpaudit::test
