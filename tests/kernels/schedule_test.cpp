// Summation schedules: accumulate() visits terms in exactly the documented order (checked with
// a non-associative "accumulator" that records the expression it builds), and rounding_depth
// matches the deepest path in that expression.
#include <string>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "core/schedule.h"

using namespace fpaudit;

namespace {
/// An accumulator whose values are expression strings with their depth of roundings.
struct Expr {
  std::string text;
  long depth = 0;
};
struct Recorder {
  using value = Expr;
  Expr zero() const { return {"0", 0}; }
  Expr step(const Expr& acc, long i) const {
    // A step rounds once: every term already in acc, and the new one, go one level deeper.
    // (fmt::format rather than operator+ on strings: g++ 12 raises a false -Wrestrict there.)
    return {acc.text == "0" ? fmt::format("t{}", i) : fmt::format("({}+t{})", acc.text, i), acc.depth + 1};
  }
  Expr combine(const Expr& a, const Expr& b) const {
    return {fmt::format("({}+{})", a.text, b.text), std::max(a.depth, b.depth) + 1};
  }
  /// A tensor-core block: one fused addition of the running sum and terms [begin, end).
  template <class Terms>
  Expr fused_block(const Expr& acc, long begin, long end, int /*fraction_bits*/, const Terms& terms) const {
    std::string text = "[" + acc.text;
    for (long i = begin; i < end; ++i) text += fmt::format("+t{}", terms(i));
    return {text + "]", acc.depth + 1};
  }
};
Expr run(const DotSchedule& s, long n) {
  return accumulate(Recorder{}, s, n, [](long i) { return i; });
}
}  // namespace

TEST_CASE("the order of each schedule, written out") {
  CHECK(run(DotSchedule::sequential(), 4).text == "(((t0+t1)+t2)+t3)");
  CHECK(run(DotSchedule::two_lane(), 5).text == "(((t0+t2)+t4)+(t1+t3))");
  CHECK(run(DotSchedule::blocked(2), 5).text == "(((t0+t1)+(t2+t3))+t4)");
  CHECK(run(DotSchedule::pairwise(2), 5).text == "(((t0+t1)+t2)+(t3+t4))");
  CHECK(run(DotSchedule::pairwise(1), 4).text == "((t0+t1)+(t2+t3))");
  CHECK(run(DotSchedule::two_lane(), 1).text == "t0");
  CHECK(run(DotSchedule::blocked(8), 3).text == "((t0+t1)+t2)");
  CHECK(run(DotSchedule::tensor_core(4), 6).text == "[[0+t0+t1+t2+t3]+t4+t5]");
  CHECK(run(DotSchedule::tensor_core(8, 2), 3).text == "[0+t0+t1+t2]");
  CHECK(run(DotSchedule::tensor_core(2), 0).text == "0");
}

TEST_CASE("rounding_depth equals the deepest rounding path, for every n up to 300") {
  for (const DotSchedule s : {DotSchedule::sequential(), DotSchedule::two_lane(), DotSchedule::blocked(7),
                              DotSchedule::blocked(32), DotSchedule::pairwise(1), DotSchedule::pairwise(8),
                              DotSchedule::tensor_core(4), DotSchedule::tensor_core(16, 3)}) {
    for (long n = 1; n <= 300; ++n) {
      INFO(schedule_name(s), " n=", n);
      CHECK(rounding_depth(s, n) == run(s, n).depth);
    }
  }
}

TEST_CASE("schedule names round-trip") {
  for (const DotSchedule s : {DotSchedule::sequential(), DotSchedule::two_lane(), DotSchedule::blocked(32), DotSchedule::pairwise(8),
                              DotSchedule::tensor_core(8), DotSchedule::tensor_core(16, 2)}) {
    DotSchedule parsed;
    REQUIRE(parse_schedule(schedule_name(s), parsed));
    CHECK(parsed == s);
  }
  DotSchedule ignored;
  CHECK_FALSE(parse_schedule("blocked-0", ignored));
  CHECK_FALSE(parse_schedule("pairwise", ignored));
  CHECK_FALSE(parse_schedule("sequentialx", ignored));
  CHECK_FALSE(parse_schedule("tensor-core-0", ignored));
  CHECK_FALSE(parse_schedule("tensor-core-8+", ignored));
  CHECK_FALSE(parse_schedule("tensor-core-8+9", ignored));
  CHECK_FALSE(parse_schedule("tensor-core-", ignored));
  DotSchedule bare;
  REQUIRE(parse_schedule("tensor-core", bare));
  CHECK(bare == DotSchedule::tensor_core(kDefaultTensorCoreBlock));
  CHECK(schedule_name(DotSchedule::tensor_core(16, 2)) == "tensor-core-16+2");
}
