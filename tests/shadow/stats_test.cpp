// The streaming statistics' fast paths against the definitions they replace: the histogram's
// bit-pattern bins against frexp/log2/floor at every fraction near each sub-bin threshold and
// on random values; clear and merge against fresh histograms; UlpTable against ulp().
#include <cmath>
#include <cstring>
#include <random>

#include <doctest/doctest.h>

#include "format/inspect.h"
#include "shadow/stats.h"

using namespace fpaudit;

namespace {

/// The bins as first defined (stats.cpp before the bit-pattern index): octave by frexp, sub-bin
/// by floor(log2(2m)·8). Defined for finite v > 0.
int frexp_slot(double v) {
  int e;
  const double m = std::frexp(v, &e);
  const int octave = e - 1;
  if (octave < LogHistogram::kMinExp) return LogHistogram::kBelowSlot;
  if (octave >= LogHistogram::kMaxExp) return LogHistogram::kAboveSlot;
  const int k = static_cast<int>(std::floor(std::log2(2 * m) * LogHistogram::kPerOctave));
  return LogHistogram::kFirstBin + (octave - LogHistogram::kMinExp) * LogHistogram::kPerOctave +
         (k < LogHistogram::kPerOctave ? k : LogHistogram::kPerOctave - 1);
}

double from_bits(std::uint64_t b) {
  double v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

}  // namespace

TEST_CASE("histogram bins: every fraction within 2^16 of a sub-bin threshold, at five octaves") {
  // Away from the thresholds log2's last-bit error cannot move a value across an integer
  // multiple of 1/8, so this window decides every disagreement there could be.
  long mismatches = 0, checked = 0;
  for (const std::uint64_t t : LogHistogram::kThresholds)
    for (std::int64_t d = -(1 << 16); d <= (1 << 16); ++d)
      for (const int octave : {-96, -20, 0, 17, 39}) {
        const double v = from_bits((static_cast<std::uint64_t>(octave + 1023) << 52) | static_cast<std::uint64_t>(t + d));
        ++checked;
        if (LogHistogram::slot_of(v) != frexp_slot(v)) ++mismatches;
      }
  CHECK(checked == 7L * ((2 << 16) + 1) * 5);
  CHECK(mismatches == 0);
}

TEST_CASE("histogram bins: random positive binary64 values over the whole range") {
  std::mt19937_64 rng(20240611);
  long mismatches = 0;
  for (int i = 0; i < 2000000; ++i) {
    const double v = from_bits(rng() >> 1);  // sign bit clear: +0, subnormals, normals, +Inf, NaN
    if (!std::isfinite(v) || v == 0) continue;
    if (LogHistogram::slot_of(v) != frexp_slot(v)) ++mismatches;
  }
  CHECK(mismatches == 0);
}

TEST_CASE("histogram bins: zero, the range ends, subnormals, infinity and NaN") {
  CHECK(LogHistogram::slot_of(0.0) == LogHistogram::kZeroSlot);
  CHECK(LogHistogram::slot_of(-0.0) == LogHistogram::kZeroSlot);
  CHECK(LogHistogram::slot_of(0x1p-1074) == LogHistogram::kBelowSlot);
  CHECK(LogHistogram::slot_of(std::nextafter(0x1p-96, 0.0)) == LogHistogram::kBelowSlot);
  CHECK(LogHistogram::slot_of(0x1p-96) == LogHistogram::kFirstBin);
  CHECK(LogHistogram::slot_of(std::nextafter(0x1p40, 0.0)) == LogHistogram::kSlots - 1);
  CHECK(LogHistogram::slot_of(0x1p40) == LogHistogram::kAboveSlot);
  CHECK(LogHistogram::slot_of(INFINITY) == LogHistogram::kAboveSlot);
  CHECK(LogHistogram::slot_of(NAN) == LogHistogram::kAboveSlot);
  CHECK(LogHistogram::slot_of(-1.0) == LogHistogram::kAboveSlot);
  CHECK(LogHistogram::slot_of(1.0) == LogHistogram::kFirstBin - LogHistogram::kMinExp * LogHistogram::kPerOctave);
}

TEST_CASE("histogram: clear and merge give what adding afresh gives") {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> d(-10.0, 6.0);
  std::vector<double> values(5000);
  for (double& v : values) v = d(rng);
  values[10] = 0.0;
  values[20] = INFINITY;
  LogHistogram all, a, b, reused;
  for (int i = 0; i < 100; ++i) reused.add(1e-30 * (i + 1));  // bins the values below never use
  reused.clear();
  for (std::size_t i = 0; i < values.size(); ++i) {
    all.add(values[i]);
    (i % 3 ? a : b).add(values[i]);
    reused.add(values[i]);
  }
  a.merge(b);
  for (const double q : {0.0, 0.001, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0}) {
    CHECK(a.quantile(q) == all.quantile(q));
    CHECK(reused.quantile(q) == all.quantile(q));
  }
  CHECK(a.count() == all.count());
  CHECK(reused.count() == all.count());
}

TEST_CASE("histogram: a span added at once counts what adding one value at a time counts") {
  // add_all counts in four partial counters over blocks of 1,024 values; runs of one value (one
  // slot incremented back to back) and spans whose length is not a multiple of 4 or of the block.
  std::mt19937_64 rng(19);
  std::lognormal_distribution<double> d(-5.0, 4.0);
  for (const std::size_t n : {std::size_t{1}, std::size_t{3}, std::size_t{1023}, std::size_t{1025}, std::size_t{5001}}) {
    CAPTURE(n);
    std::vector<double> values;
    while (values.size() < n) {
      const double v = rng() % 17 == 0 ? 0.0 : rng() % 29 == 0 ? INFINITY : d(rng);
      for (std::size_t run = 1 + rng() % 9; run > 0 && values.size() < n; --run) values.push_back(v);
    }
    LogHistogram at_once, one_by_one;
    at_once.add_all(values);
    for (double v : values) one_by_one.add(v);
    REQUIRE(at_once.count() == n);
    // The rank-k value's bin for every k: equal for all k only if every slot's count is.
    for (std::size_t k = 1; k <= n; ++k) {
      const double q = (static_cast<double>(k) - 0.5) / static_cast<double>(n);
      CHECK(at_once.quantile(q) == one_by_one.quantile(q));
    }
  }
}

TEST_CASE("UlpTable gives ulp() for every format it serves the audit with") {
  std::mt19937_64 rng(3);
  for (const Format& f : {binary16(), bfloat16(), binary32(), e4m3(), e5m2()}) {
    const UlpTable table(f);
    CHECK(table(0.0) == ulp(f, 0.0));
    CHECK(table(-0.0) == ulp(f, -0.0));
    CHECK(table(0x1p-1074) == ulp(f, 0x1p-1074));
    for (int e = -1022; e <= 1023; ++e) {
      const double p = std::ldexp(1.0, e);
      CHECK(table(p) == ulp(f, p));
      CHECK(table(-std::nextafter(2 * p, 0.0)) == ulp(f, -std::nextafter(2 * p, 0.0)));
    }
    long mismatches = 0;
    for (int i = 0; i < 100000; ++i) {
      const double v = from_bits(rng());
      if (std::isfinite(v) && table(v) != ulp(f, v)) ++mismatches;
    }
    CHECK(mismatches == 0);
  }
}
