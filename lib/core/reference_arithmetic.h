// The reference arithmetics. Reference values are binary64 numbers: each operation is carried
// out on binary64 operands and its result rounded once to binary64, so a reference layer's
// error is certified to a few units of 2^-53 relative to the exact layer on the same inputs —
// some 2^40 times finer than binary16 and 2^29 times finer than binary32.
//   ExactArithmetic   sums and dot products exact, then rounded once (lib/exact); elementary
//                     functions correctly rounded (MPFR)
//   MpfrArithmetic    every operation, including each step of a sum, at a chosen MPFR precision
//                     (64..4096 bits; "mpfr:BITS"), then rounded to binary64: an independent
//                     implementation to cross-check the exact one with
#pragma once

#include "core/arithmetic.h"
#include "core/sixteen_bit_memo.h"

namespace fpaudit {

class ReferenceArithmetic : public Arithmetic {
 public:
  const Format& storage() const override { return binary64_; }
  const Format& accumulator() const override { return binary64_; }
  DotSchedule schedule() const override { return DotSchedule::sequential(); }
  bool is_reference() const override { return true; }
  double round(double exact, Target) const override { return exact; }
  void round_storage(std::span<double>) const override {}

 private:
  /// binary64 described as a Format, for reports (p = 53 lies outside the formats the
  /// low-precision arithmetic supports, which is fine: the reference never rounds through it).
  Format binary64_{"binary64", 53, -1022, 1023, true, Encoding::IEEE, OverflowPolicy::Infinity, 64};
};

class ExactArithmetic : public ReferenceArithmetic {
 public:
  std::string_view name() const override { return "exact"; }
  bounds::ArithmeticModel rounding_model() const override { return bounds::ArithmeticModel::exact_reference(); }
  double add(double a, double b, Target) const override { return a + b; }  // IEEE: correctly rounded
  double sub(double a, double b, Target) const override { return a - b; }
  double mul(double a, double b, Target) const override { return a * b; }
  double div(double a, double b, Target) const override { return a / b; }
  double fma(double a, double b, double c, Target) const override;
  double unary(UnaryFn f, double x, Target) const override;
  double pow(double x, double e, Target) const override;
  double sum(const double* x, std::ptrdiff_t inc, long n) const override;
  double dot(const double* x, std::ptrdiff_t incx, const double* w, std::ptrdiff_t incw, long n) const override;
  void gemm(const GemmArgs& g) const override;

 private:
  static double unary_rn(UnaryFn f, double x);
  SixteenBitMemo memo_[static_cast<int>(UnaryFn::Rsqrt) + 1];  ///< per UnaryFn (Rsqrt is the last)
};

class MpfrArithmetic : public ReferenceArithmetic {
 public:
  explicit MpfrArithmetic(int bits);
  std::string_view name() const override { return name_; }
  int bits() const { return bits_; }
  bounds::ArithmeticModel rounding_model() const override { return bounds::ArithmeticModel::mpfr_reference(bits_); }
  double add(double a, double b, Target) const override;
  double sub(double a, double b, Target) const override;
  double mul(double a, double b, Target) const override;
  double div(double a, double b, Target) const override;
  double fma(double a, double b, double c, Target) const override;
  double unary(UnaryFn f, double x, Target) const override;
  double pow(double x, double e, Target) const override;
  double sum(const double* x, std::ptrdiff_t inc, long n) const override;
  double dot(const double* x, std::ptrdiff_t incx, const double* w, std::ptrdiff_t incw, long n) const override;
  void gemm(const GemmArgs& g) const override;

 private:
  /// dot() with c added as a last term before the one rounding to binary64.
  double dot_plus(const double* x, std::ptrdiff_t incx, const double* w, std::ptrdiff_t incw, long n, double c) const;
  int bits_;
  std::string name_;
};

/// "exact" or "mpfr:BITS" (64 ≤ BITS ≤ 4096); throws std::invalid_argument otherwise.
std::unique_ptr<Arithmetic> make_reference_arithmetic(std::string_view spec);

}  // namespace fpaudit
