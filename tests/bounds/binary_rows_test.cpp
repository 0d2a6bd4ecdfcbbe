// binary_bound_row (bounds/elementwise.h), the rules of Add, Sub, Mul, Div, Pow and PRelu over a
// row of outputs, against the one-element rules the audit called per element before: the same
// bits for every element, for every operand step the broadcast walker hands out (both dense, one
// side broadcast, both strided), in every rounding model, on values over the whole binary64 range
// and the special ones (±0, subnormals, ±Inf, NaN, values beyond a format's largest).
#include <cmath>
#include <cstdint>
#include <vector>

#include <doctest/doctest.h>

#include "bounds/elementwise.h"
#include "rounding_models.h"
#include "support/test_values.h"

using namespace fpaudit;
using namespace fpaudit::bounds;

namespace {

double one_element(BinaryRuleOp op, const ArithmeticModel& m, Operand x, Operand z) {
  switch (op) {
    case BinaryRuleOp::Add: return add_bound(m, x, z, false);
    case BinaryRuleOp::Sub: return add_bound(m, x, z, true);
    case BinaryRuleOp::Mul: return mul_bound(m, x, z);
    case BinaryRuleOp::Div: return div_bound(m, x, z);
    case BinaryRuleOp::Pow: return pow_bound(m, x, z);
    case BinaryRuleOp::PRelu: return prelu_bound(m, x, z);
  }
  return 0;
}

/// An operand's three arrays; lo ≤ hi where both are ordered numbers (an enclosure), else as drawn.
struct Arrays {
  std::vector<double> lo, hi, err;
  Arrays(test::WideValues& rng, std::size_t n, bool point) : lo(n), hi(n), err(n) {
    for (std::size_t i = 0; i < n; ++i) {
      lo[i] = rng.next();
      hi[i] = point ? lo[i] : rng.next();
      if (hi[i] < lo[i]) std::swap(lo[i], hi[i]);
      err[i] = rng.bits() % 4 == 0 ? 0.0 : std::fabs(rng.next());
    }
  }
  Operand at(std::size_t i) const { return {lo[i], hi[i], err[i]}; }
  OperandRow row(std::int64_t step) const { return {lo.data(), hi.data(), err.data(), step}; }
};

/// Small exponents that Pow takes its exact paths for, and others.
void exponents(test::WideValues& rng, Arrays& e) {
  static const double common[] = {2.0, 1.0, 0.5, -1.0, 0.0, 3.0, -2.0, 1.5, 0.3};
  for (std::size_t i = 0; i < e.lo.size(); ++i) {
    if (rng.bits() % 4 == 0) continue;  // keep a wide one
    e.lo[i] = e.hi[i] = common[rng.bits() % 9];
    e.err[i] = rng.bits() % 3 == 0 ? 0x1p-30 : 0.0;
  }
}

}  // namespace

TEST_CASE("binary rules over a row = one element at a time, bit for bit, for every step") {
  const std::vector<ArithmeticModel> models = test::storage_rounding_models();
  const BinaryRuleOp ops[] = {BinaryRuleOp::Add, BinaryRuleOp::Sub, BinaryRuleOp::Mul, BinaryRuleOp::Div, BinaryRuleOp::Pow, BinaryRuleOp::PRelu};
  const std::int64_t steps[][2] = {{1, 1}, {1, 0}, {0, 1}, {0, 0}, {2, 3}, {3, 0}};
  test::WideValues rng{2026};
  long checked = 0, finite = 0, infinite = 0;
  for (const ArithmeticModel& m : models) {
    CAPTURE(m.storage.u);
    for (BinaryRuleOp op : ops) {
      CAPTURE(static_cast<int>(op));
      for (const auto& step : steps) {
        CAPTURE(step[0]);
        CAPTURE(step[1]);
        for (int trial = 0; trial < 12; ++trial) {
          const std::int64_t n = 1 + static_cast<std::int64_t>(rng.bits() % 40);
          const Arrays x(rng, static_cast<std::size_t>(n * 3), trial % 2 == 0);
          Arrays z(rng, static_cast<std::size_t>(n * 3), trial % 3 == 0);
          if (op == BinaryRuleOp::Pow) exponents(rng, z);
          std::vector<double> got(static_cast<std::size_t>(n)), want(got.size());
          binary_bound_row(op, m, x.row(step[0]), z.row(step[1]), n, got.data());
          for (std::int64_t j = 0; j < n; ++j) {
            const auto a = static_cast<std::size_t>(j * step[0]), b = static_cast<std::size_t>(j * step[1]);
            want[static_cast<std::size_t>(j)] = one_element(op, m, x.at(a), z.at(b));
            if (std::isfinite(want[static_cast<std::size_t>(j)])) ++finite;
            else ++infinite;
          }
          CHECK(test::same_bits_or_nan(got, want));
          ++checked;
        }
      }
    }
  }
  CHECK(checked == 5 * 6 * 6 * 12);
  // Both finite and infinite bounds are reached, so the rows run every rule's paths.
  CHECK(finite > 2000);
  CHECK(infinite > 500);
}
