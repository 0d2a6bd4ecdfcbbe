// A floating-point format is data: precision, exponent range, subnormals, how NaN/Inf are
// encoded and what overflow does. Every derived limit (u, largest finite, ...) is computed in
// exactly one place below, so the kernels, the bounds and the reports cannot disagree on them.
#pragma once

#include <bit>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace fpaudit {

/// How the largest exponent field is used.
enum class Encoding : std::uint8_t {
  IEEE,           ///< all-ones exponent holds ±Inf (fraction 0) and NaN (fraction != 0)
  FiniteNanOnly,  ///< OCP E4M3: no infinities; only S.1111.111 is NaN, so the top binade
                  ///< holds finite values up to 1.110b × 2^emax (448 for E4M3)
};

/// What a result whose magnitude rounds beyond the largest finite value becomes.
/// Rounding toward zero never produces a value beyond the largest finite one: it returns
/// ±max_finite under every policy, as IEEE 754 §7.4 prescribes for directed rounding.
enum class OverflowPolicy : std::uint8_t {
  Infinity,  ///< IEEE 754: ±Inf (binary16, bfloat16, binary32, TF32, E5M2)
  Saturate,  ///< clamp to ±max_finite (E4M3 default: NVIDIA's __NV_SATFINITE conversions,
             ///< used by FP8 training stacks; the OCP spec allows it)
  NaN,       ///< the OCP "non-saturating" conversion for E4M3: overflow becomes NaN
};

/// A binary floating-point format: values ±m × 2^(e-p+1) with integer m < 2^p.
/// Normal numbers have 1 ≤ |x| / 2^e < 2 for emin ≤ e ≤ emax.
struct Format {
  std::string_view name;   ///< e.g. "binary16"; "generic" for user-described formats
  int precision = 0;       ///< p: significand bits, hidden bit included
  int emin = 0;            ///< exponent of the smallest normal number (2^emin)
  int emax = 0;            ///< exponent of the largest binade
  bool subnormals = true;  ///< gradual underflow; without it the values below 2^emin are 0 only
  Encoding encoding = Encoding::IEEE;
  OverflowPolicy overflow = OverflowPolicy::Infinity;
  int storage_bits = 0;    ///< width of the bit encoding; 0 when the format has none (generic)

  friend bool operator==(const Format&, const Format&) = default;
};

// ---- the named formats ------------------------------------------------------------------
// All of them have p ≤ 24 and exponents within binary32's, so every value of every format is
// a binary32 value and every product of two values is exact in binary64 (see round.h).

constexpr Format binary16() { return {"binary16", 11, -14, 15, true, Encoding::IEEE, OverflowPolicy::Infinity, 16}; }
constexpr Format bfloat16() { return {"bfloat16", 8, -126, 127, true, Encoding::IEEE, OverflowPolicy::Infinity, 16}; }
constexpr Format binary32() { return {"binary32", 24, -126, 127, true, Encoding::IEEE, OverflowPolicy::Infinity, 32}; }
/// TF32 as tensor cores read it: binary32's exponent range with 10 fraction bits. Storage
/// rounding keeps binary32's gradual underflow, so the smallest subnormal is 2^-136.
constexpr Format tf32() { return {"tf32", 11, -126, 127, true, Encoding::IEEE, OverflowPolicy::Infinity, 19}; }
/// OCP FP8 E4M3 (the "fn" variant): bias 7, emax 8, largest finite 448, NaN only.
constexpr Format e4m3() { return {"e4m3", 4, -6, 8, true, Encoding::FiniteNanOnly, OverflowPolicy::Saturate, 8}; }
/// E4M3 with the OCP non-saturating conversion: overflow gives NaN.
constexpr Format e4m3_nosat() { return {"e4m3-nosat", 4, -6, 8, true, Encoding::FiniteNanOnly, OverflowPolicy::NaN, 8}; }
/// OCP FP8 E5M2: IEEE-style, largest finite 57344, infinities.
constexpr Format e5m2() { return {"e5m2", 3, -14, 15, true, Encoding::IEEE, OverflowPolicy::Infinity, 8}; }

/// A format described only by its parameters (no bit encoding).
constexpr Format generic_format(int precision, int emin, int emax, bool subnormals) {
  return {"generic", precision, emin, emax, subnormals, Encoding::IEEE, OverflowPolicy::Infinity, 0};
}

/// Every named format, in the order `fpaudit formats` prints them.
std::span<const Format> named_formats();
/// Looks up a named format ("binary16", "fp16", "bf16", "e4m3", ...); nullopt if unknown.
std::optional<Format> format_by_name(std::string_view name);

// ---- derived limits: the one definition of each ------------------------------------------

/// 2^e as a double, exact for -1022 ≤ e ≤ 1023; usable in constant expressions.
constexpr double pow2(int e) {
  return std::bit_cast<double>(static_cast<std::uint64_t>(e + 1023) << 52);
}

/// Unit roundoff u = 2^-p: the largest relative error of rounding to nearest.
constexpr double unit_roundoff(const Format& f) { return pow2(-f.precision); }
/// Machine epsilon 2^(1-p): the gap between 1 and the next larger value.
constexpr double machine_epsilon(const Format& f) { return pow2(1 - f.precision); }
/// Smallest positive normal number 2^emin.
constexpr double min_normal(const Format& f) { return pow2(f.emin); }
/// Smallest positive value: 2^(emin-p+1) with subnormals, else 2^emin.
constexpr double min_positive(const Format& f) {
  return f.subnormals ? pow2(f.emin - f.precision + 1) : pow2(f.emin);
}
/// Largest finite value: (2 - 2^(1-p)) 2^emax for IEEE; one fraction step less when the top
/// fraction pattern of the top binade is NaN (E4M3: 1.110b × 2^8 = 448).
constexpr double max_finite(const Format& f) {
  const int steps = f.encoding == Encoding::FiniteNanOnly ? 2 : 1;
  return (2.0 - steps * pow2(1 - f.precision)) * pow2(f.emax);
}
/// Spacing of the values in the binade [2^e, 2^(e+1)) (e clamped to emin for subnormals).
constexpr double quantum_at_exponent(const Format& f, int e) {
  return pow2((e < f.emin ? f.emin : e) - f.precision + 1);
}
/// The smallest magnitude that rounds to infinity (or overflows) under round-to-nearest:
/// halfway between max_finite and the next value the format would have.
constexpr double overflow_threshold(const Format& f) {
  return max_finite(f) + 0.5 * quantum_at_exponent(f, f.emax);
}
/// Whether the format can represent ±Inf.
constexpr bool has_infinity(const Format& f) { return f.encoding == Encoding::IEEE; }
/// Significant decimal digits, p·log10(2).
double decimal_digits(const Format& f);

/// What is wrong with a format description. Errors make it unusable; warnings do not.
struct FormatDiagnostics {
  std::string errors;    ///< empty when the format is usable
  std::string warnings;  ///< e.g. "no subnormals: results below 2^emin round to 0 or 2^emin"
  bool ok() const { return errors.empty(); }
};
/// Checks the limits the arithmetic relies on: 2 ≤ p ≤ 26 (products of two values are exact
/// in binary64), -480 ≤ emin < emax ≤ 480 (no intermediate leaves binary64's normal range),
/// and, for encoded formats, that the bit layout is consistent with p, emin and emax.
FormatDiagnostics validate(const Format& f);

}  // namespace fpaudit
