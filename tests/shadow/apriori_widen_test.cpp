// widen_enclosures' vector lanes against widen_one, its definition, bit for bit: signed zeros,
// subnormals, values at a format's largest finite value, infinities and NaNs with either sign,
// every tail length, saturating or not. Registered once per instruction-set cap
// (tests/shadow/CMakeLists.txt), so that each kernel this CPU has is the one compared.
#include <cfloat>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "common/cpu_features.h"
#include "shadow/apriori_widen.h"

using namespace fpaudit;

namespace {

std::uint64_t bits(double v) {
  std::uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}
double from_bits(std::uint64_t b) {
  double v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

/// Values where a select or a sign could go wrong, for each of x_ref, R and E.
std::vector<double> special_values(double max_finite) {
  const double nan_neg = from_bits(bits(NAN) | (std::uint64_t{1} << 63));
  const double nan_payload = from_bits(0x7FF8000000000ABCull);
  return {0.0,        -0.0,        0x1p-1074,  -0x1p-1074,  0x1p-1022,          -0x1p-1030, 1.0,
          -1.0,       0.1,         -3.75,      max_finite,  -max_finite,        max_finite * (1 - 0x1p-30),
          -max_finite * (1 - 0x1p-52), DBL_MAX, -DBL_MAX,   INFINITY,           -INFINITY, NAN,
          nan_neg,    nan_payload, 1e-300,     -1e300};
}

/// The same bits, or two NaNs: where two NaN operands meet (R and E both NaN), x86 returns the
/// first operand's payload and sign, and which operand comes first is the compiler's choice for
/// a commutative addition, in the scalar code as much as in the lanes. IEEE 754 does not specify
/// it either; every later use of the value sees a NaN.
bool same(double a, double b) { return bits(a) == bits(b) || (a != a && b != b); }

/// Runs both forms over (ref, R, E) and counts the elements whose e, lo or hi differ.
long mismatches(const std::vector<double>& ref, const std::vector<double>& R, const std::vector<double>& E, bool saturates,
                double max_finite) {
  const std::size_t n = ref.size();
  std::vector<double> e(E), lo(n), hi(n), e1(E), lo1(n), hi1(n);
  widen_enclosures(ref.data(), R.data(), e.data(), lo.data(), hi.data(), static_cast<long>(n), saturates, max_finite);
  long bad = 0;
  for (std::size_t i = 0; i < n; ++i) {
    widen_one(ref[i], R[i], e1[i], lo1[i], hi1[i], saturates, max_finite);
    bad += !same(e[i], e1[i]) || !same(lo[i], lo1[i]) || !same(hi[i], hi1[i]);
  }
  return bad;
}

}  // namespace

TEST_CASE("widen_enclosures gives widen_one's bits on special values, every combination") {
  MESSAGE("kernel level: " << std::string(cpu::level_name()));
  for (const double max_finite : {65504.0, 448.0, static_cast<double>(FLT_MAX), DBL_MAX}) {
    const std::vector<double> v = special_values(max_finite);
    std::vector<double> ref, R, E;
    for (double a : v)
      for (double b : v)
        for (double c : v) {
          ref.push_back(a);
          R.push_back(b < 0 || b != b ? -b : b);  // R ≥ 0 or NaN, as the reference's bounds are
          E.push_back(c);
        }
    for (const bool saturates : {false, true}) {
      CAPTURE(max_finite);
      CAPTURE(saturates);
      CHECK(mismatches(ref, R, E, saturates, max_finite) == 0);
    }
  }
}

TEST_CASE("widen_enclosures gives widen_one's bits on every length up to 40 and on random data") {
  std::mt19937_64 rng(20261207);
  std::uniform_real_distribution<double> unit(-1.0, 1.0);
  std::uniform_int_distribution<int> exponent(-60, 20);
  auto value = [&] {
    const int kind = static_cast<int>(rng() % 8);
    if (kind == 0) return 0.0;  // ReLU outputs: many exact zeros
    if (kind == 1) return -0.0;
    return std::ldexp(unit(rng), exponent(rng));
  };
  for (long n = 0; n <= 40; ++n) {
    for (int round = 0; round < 20; ++round) {
      std::vector<double> ref(static_cast<std::size_t>(n)), R(ref.size()), E(ref.size());
      for (std::size_t i = 0; i < ref.size(); ++i) {
        ref[i] = value() * 65504;
        R[i] = std::fabs(value()) * 0x1p-40;
        E[i] = std::fabs(value());
      }
      CAPTURE(n);
      CHECK(mismatches(ref, R, E, false, 65504.0) == 0);
      CHECK(mismatches(ref, R, E, true, 65504.0) == 0);
    }
  }
}

TEST_CASE("widen_one: boxes hold the reference, and one that may pass the format's largest value is the whole line") {
  // E = R = 0: the radius stays exactly 0 (no subnormal), and the ends are x_ref rounded outward.
  double e = 0, lo, hi;
  widen_one(2.5, 0.0, e, lo, hi, false, 65504.0);
  CHECK(bits(e) == 0);
  CHECK(lo < 2.5);
  CHECK(hi > 2.5);
  CHECK(hi - lo < 0x1p-48);
  e = 0.25;
  widen_one(-3.0, 0x1p-40, e, lo, hi, false, 65504.0);
  CHECK(lo <= -3.25 - 0x1p-40);
  CHECK(hi >= -2.75 + 0x1p-40);
  e = 1.0;
  widen_one(65503.5, 0.0, e, lo, hi, false, 65504.0);
  CHECK(e == INFINITY);
  CHECK(lo == -INFINITY);
  CHECK(hi == INFINITY);
  e = 1.0;
  widen_one(65503.5, 0.0, e, lo, hi, true, 65504.0);  // a saturating format cannot overflow
  CHECK(e == 1.0);
  CHECK(hi > 65504.5);
  CHECK(lo < 65502.5);
}
