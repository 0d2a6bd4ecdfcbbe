// SixteenBitMemo: remembers exactly the binary16 and bfloat16 arguments, keeps +0 and -0 (and
// every other pair of distinct arguments) apart, computes everything else afresh, and gives
// the same bits from several threads at once.
#include <cmath>
#include <cstring>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "core/sixteen_bit_memo.h"

using namespace fpaudit;

namespace {
std::uint64_t bits(double v) {
  std::uint64_t b;
  std::memcpy(&b, &v, 8);
  return b;
}
}  // namespace

TEST_CASE("the memo remembers 16-bit arguments only, each under its own key") {
  SixteenBitMemo memo;
  long calls = 0;
  auto f = [&](double x) {
    ++calls;
    return std::sin(x) + x;  // distinct values for distinct arguments, -0 → -0
  };
  const std::vector<double> sixteen = {0.0, -0.0, 1.0, -2.5, 65504.0, 0x1p-24, 0x1p-133, 0x1.fep127, INFINITY, -INFINITY};
  for (const double x : sixteen) CHECK(bits(memo(x, f)) == bits(f(x)));
  const long first = calls;
  for (const double x : sixteen) CHECK(bits(memo(x, f)) == bits(f(x)));
  CHECK(calls == first + static_cast<long>(sixteen.size()));  // only the direct calls: every memo call hit
  CHECK(bits(memo(-0.0, f)) == bits(-0.0));
  CHECK(bits(memo(0.0, f)) == bits(0.0));
  // Not 16-bit: computed every time.
  for (const double x : {1.0 / 3, 0.1, 1.0 + 0x1p-20, std::nextafter(1.0, 2.0)}) {
    const long before = calls;
    CHECK(bits(memo(x, f)) == bits(f(x)));
    memo(x, f);
    CHECK(calls == before + 3);
  }
  CHECK(std::isnan(memo(NAN, f)));
}

TEST_CASE("the memo gives the same bits from four threads at once") {
  SixteenBitMemo memo;
  auto f = [](double x) { return std::exp(x); };
  std::vector<std::vector<double>> out(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 4096; ++i) out[t].push_back(memo(std::ldexp(static_cast<double>(i % 2048), -8), f));
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t)
    for (int i = 0; i < 4096; ++i) CHECK(bits(out[t][i]) == bits(f(std::ldexp(static_cast<double>(i % 2048), -8))));
}
