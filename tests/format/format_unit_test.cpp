// Unit tests of lib/format: the limits table, validation, encodings of known patterns, and
// hand-worked roundings whose answers are written out in the comments.
#include <cmath>
#include <limits>

#include <doctest/doctest.h>

#include "format/arithmetic.h"
#include "format/encoding.h"
#include "format/format.h"
#include "format/inspect.h"
#include "format/round.h"

using namespace fpaudit;

namespace {
const double kInf = std::numeric_limits<double>::infinity();
}

TEST_CASE("derived limits match the formats' definitions") {
  CHECK(max_finite(binary16()) == 65504.0);
  CHECK(min_normal(binary16()) == std::ldexp(1.0, -14));
  CHECK(min_positive(binary16()) == std::ldexp(1.0, -24));
  CHECK(unit_roundoff(binary16()) == std::ldexp(1.0, -11));
  CHECK(overflow_threshold(binary16()) == 65520.0);
  CHECK(max_finite(bfloat16()) == std::ldexp(255.0, 120));  // 1.1111111b × 2^127
  CHECK(min_positive(bfloat16()) == std::ldexp(1.0, -133));
  CHECK(max_finite(binary32()) == static_cast<double>(std::numeric_limits<float>::max()));
  CHECK(min_positive(binary32()) == static_cast<double>(std::numeric_limits<float>::denorm_min()));
  CHECK(min_positive(tf32()) == std::ldexp(1.0, -136));
  CHECK(max_finite(e4m3()) == 448.0);
  CHECK(min_normal(e4m3()) == std::ldexp(1.0, -6));
  CHECK(min_positive(e4m3()) == std::ldexp(1.0, -9));
  CHECK(max_finite(e5m2()) == 57344.0);
  CHECK(min_positive(e5m2()) == std::ldexp(1.0, -16));
  CHECK(decimal_digits(binary16()) == doctest::Approx(3.311).epsilon(1e-3));
}

TEST_CASE("every named format validates; bad descriptions are refused with a reason") {
  for (const Format& f : named_formats()) {
    INFO(f.name);
    CHECK(validate(f).ok());
  }
  CHECK_FALSE(validate(generic_format(40, -10, 10, true)).ok());   // p > 26
  CHECK_FALSE(validate(generic_format(8, 10, -10, true)).ok());    // emin > emax
  CHECK_FALSE(validate(generic_format(8, -600, 10, true)).ok());   // below -480
  Format bad = binary16();
  bad.emax = 14;  // inconsistent with a 5-bit exponent field
  CHECK(validate(bad).errors.find("emax") != std::string::npos);
  CHECK(validate(generic_format(5, -6, 7, false)).ok());
  CHECK_FALSE(validate(generic_format(5, -6, 7, false)).warnings.empty());
}

TEST_CASE("names and aliases") {
  CHECK(format_by_name("fp16") == binary16());
  CHECK(format_by_name("bf16") == bfloat16());
  CHECK(format_by_name("e4m3fn") == e4m3());
  CHECK(format_by_name("tf32") == tf32());
  CHECK_FALSE(format_by_name("fp12").has_value());
}

TEST_CASE("known bit patterns") {
  CHECK(decode(binary16(), 0x3C00) == 1.0);
  CHECK(decode(binary16(), 0x7BFF) == 65504.0);
  CHECK(decode(binary16(), 0x0001) == std::ldexp(1.0, -24));
  CHECK(decode(binary16(), 0x7C00) == kInf);
  CHECK(std::isnan(decode(binary16(), 0x7E00)));
  CHECK(encode(binary16(), -0.0) == 0x8000);
  CHECK(decode(bfloat16(), 0x3F80) == 1.0);
  CHECK(decode(e4m3(), 0x7E) == 448.0);
  CHECK(std::isnan(decode(e4m3(), 0x7F)));
  CHECK(decode(e4m3(), 0x78) == 256.0);     // exponent field 15 is finite in E4M3
  CHECK(decode(e5m2(), 0x7B) == 57344.0);
  CHECK(decode(e5m2(), 0x7C) == kInf);
  CHECK(encode(e4m3(), std::nan("")) == 0x7F);
  CHECK(encode(binary16(), std::nan("")) == 0x7E00);
}

TEST_CASE("rounding worked by hand") {
  const Format h = binary16();
  // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to even gives 1.
  CHECK(round_to(h, 1.0 + std::ldexp(1.0, -11)) == 1.0);
  // 1 + 3·2^-11 is halfway between 1 + 2^-10 (odd) and 1 + 2^-9 (even): gives 1 + 2^-9.
  CHECK(round_to(h, 1.0 + 3 * std::ldexp(1.0, -11)) == 1.0 + std::ldexp(1.0, -9));
  CHECK(round_to(h, 1.0 + std::ldexp(1.0, -11), Round::Up) == 1.0 + std::ldexp(1.0, -10));
  CHECK(round_to(h, -1.0 - std::ldexp(1.0, -11), Round::Up) == -1.0);
  CHECK(round_to(h, -1.0 - std::ldexp(1.0, -11), Round::Down) == -1.0 - std::ldexp(1.0, -10));
  // Overflow threshold 65520 ties to even (2^16) and overflows; just below stays 65504.
  CHECK(round_to(h, 65520.0) == kInf);
  CHECK(round_to(h, std::nextafter(65520.0, 0.0)) == 65504.0);
  CHECK(round_to(h, 1e9, Round::TowardZero) == 65504.0);
  CHECK(round_to(h, -1e9, Round::Up) == -65504.0);
  CHECK(round_to(h, -1e9, Round::Down) == -kInf);
  // Subnormals: 2^-25 is halfway between 0 and 2^-24: ties to even 0, keeping the sign.
  CHECK(std::signbit(round_to(h, -std::ldexp(1.0, -25))));
  CHECK(round_to(h, std::ldexp(3.0, -26)) == std::ldexp(1.0, -24));
  // E4M3: 464 is halfway between 448 and 480 (not a value): even 448. 470 overflows: saturates.
  CHECK(round_to(e4m3(), 464.0) == 448.0);
  CHECK(round_to(e4m3(), 470.0) == 448.0);
  CHECK(std::isnan(round_to(e4m3_nosat(), 470.0)));
  CHECK(round_to(e4m3(), kInf) == 448.0);
  CHECK(round_to(e5m2(), 61440.0) == kInf);  // halfway 57344..65536 → even 65536 → Inf
  // No subnormals: below 2^emin only 0 and 2^emin exist; the midpoint ties to 0.
  const Format nosub = generic_format(5, -6, 7, false);
  CHECK(round_to(nosub, std::ldexp(1.0, -7)) == 0.0);
  CHECK(round_to(nosub, std::ldexp(1.5, -7)) == std::ldexp(1.0, -6));
  CHECK(round_to(nosub, std::ldexp(1.0, -20), Round::Up) == std::ldexp(1.0, -6));
}

TEST_CASE("flags and ternary values") {
  const Format h = binary16();
  Rounded r = round_exact(h, 1.0 + std::ldexp(1.0, -12), 0, Round::NearestEven);
  CHECK(r.value == 1.0);
  CHECK(r.ternary == -1);
  CHECK((r.flags & kInexact));
  r = round_exact(h, 70000.0, 0, Round::NearestEven);
  CHECK((r.flags & kOverflow));
  CHECK(r.ternary == 1);
  r = round_exact(h, std::ldexp(1.0, -30), 0, Round::NearestEven);
  CHECK((r.flags & kFlushed));
  r = round_exact(h, std::ldexp(1.0, -20), 0, Round::NearestEven);
  CHECK((r.flags & kSubnormal));
  CHECK_FALSE((r.flags & kInexact));
  CHECK((sqrt(h, -1.0).flags & kInvalid));
  CHECK((add(h, kInf, -kInf).flags & kInvalid));
}

TEST_CASE("arithmetic hard cases") {
  const Format h = binary16();
  // fma: (1 + 2^-10)(1 - 2^-10) - 1 = -2^-20 exactly (a subnormal); an unfused multiply-add
  // rounds the product to 1 first and returns 0.
  const double a = 1.0 + std::ldexp(1.0, -10), b = 1.0 - std::ldexp(1.0, -10);
  CHECK(fma(h, a, b, -1.0).value == -std::ldexp(1.0, -20));
  CHECK(sub(h, mul(h, a, b).value, 1.0).value == 0.0);
  // Signed zeros: x - x = +0, except -0 when rounding down.
  CHECK_FALSE(std::signbit(sub(h, 1.0, 1.0).value));
  CHECK(std::signbit(sub(h, 1.0, 1.0, Round::Down).value));
  CHECK(std::signbit(add(h, -0.0, -0.0).value));
  // Division by zero gives a signed infinity, 0/0 a NaN.
  CHECK(div(h, -1.0, 0.0).value == -kInf);
  CHECK(std::isnan(div(h, 0.0, 0.0).value));
  // sqrt(2) in binary16 is 1.4140625 (RN) and 1.4150390625 (RU).
  CHECK(sqrt(h, 2.0).value == 1.4140625);
  CHECK(sqrt(h, 2.0, Round::Up).value == 1.4150390625);
}

TEST_CASE("ulp, neighbours, distance, class, store effect") {
  const Format h = binary16();
  CHECK(ulp(h, 1.0) == std::ldexp(1.0, -10));
  CHECK(ulp(h, 0.999) == std::ldexp(1.0, -11));
  CHECK(ulp(h, 0.0) == std::ldexp(1.0, -24));
  CHECK(ulp(h, 1e-7) == std::ldexp(1.0, -24));
  CHECK(next_up(h, 1.0) == 1.0 + std::ldexp(1.0, -10));
  CHECK(next_down(h, 1.0) == 1.0 - std::ldexp(1.0, -11));
  CHECK(next_up(h, -1.0) == -1.0 + std::ldexp(1.0, -11));
  CHECK(next_up(h, 65504.0) == kInf);
  CHECK(next_up(h, 0.0) == std::ldexp(1.0, -24));
  CHECK(next_up(h, 1.0001) == 1.0 + std::ldexp(1.0, -10));  // not representable: its neighbour
  CHECK(std::isnan(next_up(e4m3(), 448.0)));
  CHECK(ulp_distance(h, 1.0, 2.0) == 1024.0);
  CHECK(ulp_distance(h, -std::ldexp(1.0, -24), std::ldexp(1.0, -24)) == 2.0);
  CHECK(ulp_distance(h, 1.0, 1.0 + std::ldexp(1.0, -11)) == 0.5);
  CHECK(ulp_distance(h, 2.0, 1.0) == -1024.0);
  CHECK(classify(h, std::ldexp(1.0, -15)) == ValueClass::Subnormal);
  CHECK(classify(h, -0.0) == ValueClass::Zero);
  CHECK(store_effect(h, 0.1) == StoreEffect::Rounded);
  CHECK(store_effect(h, 0.5) == StoreEffect::Exact);
  CHECK(store_effect(h, 1e5) == StoreEffect::Overflow);
  CHECK(store_effect(h, 1e-9) == StoreEffect::UnderflowToZero);
  CHECK(store_effect(h, 1e-6) == StoreEffect::Subnormal);
  CHECK(store_effect(bfloat16(), 1e5) == StoreEffect::Rounded);
  CHECK(store_effect(e4m3(), 500.0) == StoreEffect::Overflow);
}
