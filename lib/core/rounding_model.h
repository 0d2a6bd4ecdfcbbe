// What the bounds need to know about an arithmetic: how each kind of operation rounds, the
// underflow terms, the schedule of its sums, and what its elementary functions are assumed to
// cost. Every Arithmetic reports its own (Arithmetic::rounding_model, lib/core/arithmetic.h), so
// the bounds read the very formats and schedule the kernels run. theory/rounding-model.md states
// and proves the facts used. (Namespace bounds: the bound rules are its only readers.)
#pragma once

#include "core/schedule.h"
#include "format/format.h"

namespace fpaudit {
class Arithmetic;
class MixedArithmetic;
enum class UnaryFn : std::uint8_t;
}  // namespace fpaudit

namespace fpaudit::bounds {

/// std::fmax and std::fmin, inline: the same results as glibc's (a NaN operand gives the other
/// one; of two equal operands, ±0 included, the first), without a library call per element.
inline double max_num(double a, double b) { return a >= b || b != b ? a : b; }
inline double min_num(double a, double b) { return a <= b || b != b ? a : b; }

/// One rounding into a format, to nearest: for every real z whose rounding ẑ is finite,
///   |ẑ - z| ≤ u·|z| + η                    (no overflow: the standard model with underflow)
///   |ẑ - z| = |z| - max_finite             (saturating formats, |z| beyond the threshold)
struct RoundingTarget {
  double u = 0;                  ///< unit roundoff 2^-p (0: the operation is exact)
  double eta = 0;                ///< half the smallest subnormal spacing: the underflow term
  double max_finite = 0;         ///< largest finite value (+Inf when irrelevant)
  bool saturates = false;        ///< overflow gives ±max_finite (E4M3) rather than ±Inf
  /// A bound on |round(z) - z| over every z with |z| ≤ magnitude: +Inf when such a z may
  /// overflow a non-saturating format (beyond max_finite), so that a rule's finite bound also
  /// proves its output finite (theory/rounding-model.md, Lemma 1). Inline: every bound rule calls
  /// it per element. The factor covers its own binary64 roundings (theory/bounds-arithmetic.md §1).
  double error(double magnitude) const {
    if (u == 0 && eta == 0) return 0;
    if (!saturates && !(magnitude <= max_finite)) return __builtin_inf();
    const double e = saturates && magnitude > max_finite ? max_num(u * magnitude, magnitude - max_finite) + eta : u * magnitude + eta;
    return e * (1 + 0x1p-50) + 0x1p-1074;
  }
  /// A bound on |round(z)| given |z| ≤ magnitude.
  double rounded_magnitude(double magnitude) const { return magnitude + error(magnitude); }
};

struct ArithmeticModel {
  RoundingTarget storage;        ///< an operation rounded into storage (Target::Storage)
  RoundingTarget acc;            ///< an operation rounded into the accumulation format (Target::Accumulator)
  /// Each step of Arithmetic::sum/dot: acc = round(acc + x·w) (u_sum = 0: the sum is exact).
  double u_sum = 0;
  double eta_sum = 0;
  /// Arithmetic::sum/dot round their finished value once more, into storage (the references,
  /// whose sums end in binary64).
  bool sum_rounded_to_storage = false;
  /// ExactArithmetic: sums and dot products, a GEMM bias included, are exact and rounded once.
  bool exact_sums = false;
  /// A chain whose storage and accumulation formats differ: GEMM results (and the other
  /// accumulator-format results kernels store) are rounded once more, into storage.
  bool storage_differs = false;
  DotSchedule schedule;          ///< summation order of sums and dot products
  bool reference = false;
  /// A mixed chain (core/mixed_arithmetic.h): this is its base chain's model, and every node
  /// takes its own from here (model_at). Null otherwise.
  const MixedArithmetic* mixed = nullptr;

  /// ASSUMPTION (theory/elementwise.md): the binary64 value f_64(x) of exp, log, tanh, erf and
  /// erfc that the chains round from satisfies |f_64(x) - f(x)| ≤ libm_rel·|f(x)| + libm_abs.
  /// glibc's published accuracy tables list at most 2 ulps for these functions on x86_64, hence
  /// 2^-51; tests/bounds/unary_exhaustive_test.cpp checks it on every binary16 and bfloat16 input.
  double libm_rel = 0;
  double libm_abs = 0;
  /// Unit roundoff of the arithmetic that composite functions (sigmoid, GELU, rsqrt) are
  /// evaluated in before the final rounding: binary64 for the chains.
  double composite_u = 0;

  /// a.rounding_model(): what arithmetic a reports about itself.
  static ArithmeticModel of(const Arithmetic& a);
  /// A chain: every operation correctly rounded into `storage` or `accumulator`, sums by `schedule`.
  static ArithmeticModel chain(const Format& storage, const Format& accumulator, DotSchedule schedule);
  /// ExactArithmetic: every operation (sums, dot products, elementary functions) correctly
  /// rounded to binary64 once; sigmoid and GELU computed at 256 bits first.
  static ArithmeticModel exact_reference();
  /// MpfrArithmetic: every operation at `bits` ≥ 64 bits, then rounded to binary64; sums step
  /// by step at `bits`.
  static ArithmeticModel mpfr_reference(int bits);

  /// A bound on the relative error of the value f(x) is rounded from (before that rounding), for
  /// |x| ≤ x_magnitude: 0 for the correctly rounded sqrt and reciprocal, libm_rel for the plain
  /// libm functions, and the derived constants of theory/elementwise.md for the composites.
  double function_rel(UnaryFn f, double x_magnitude) const;
};

}  // namespace fpaudit::bounds
