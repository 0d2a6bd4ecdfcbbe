// ChainArithmetic: a chain given by storage format, accumulation format and schedule. Every
// operation is correctly rounded through lib/format; dot products and GEMM take a fast path
// (binary32 operations following accumulators.h, vectorised where the CPU allows) when the
// accumulation format is binary16, bfloat16 or binary32, and the generic path otherwise.
#pragma once

#include <vector>

#include "common/aligned_vector.h"
#include "core/arithmetic.h"

namespace fpaudit {

class ChainArithmetic : public Arithmetic {
 public:
  explicit ChainArithmetic(ChainSpec spec);

  std::string_view name() const override { return spec_.name; }
  const Format& storage() const override { return spec_.storage; }
  const Format& accumulator() const override { return spec_.accumulator; }
  DotSchedule schedule() const override { return spec_.schedule; }
  bounds::ArithmeticModel rounding_model() const override {
    return bounds::ArithmeticModel::chain(spec_.storage, spec_.accumulator, spec_.schedule);
  }

  double round(double exact, Target t) const override;
  void round_storage(std::span<double> values) const override;
  double add(double a, double b, Target t) const override;
  double sub(double a, double b, Target t) const override;
  double mul(double a, double b, Target t) const override;
  double div(double a, double b, Target t) const override;
  double fma(double a, double b, double c, Target t) const override;
  void fma_scaled(const double* x, double scale, double shift, double* y, long n) const override;
  void binary(BinaryOp op, const double* x, std::ptrdiff_t incx, const double* w, std::ptrdiff_t incw, double* y,
              long n) const override;
  double unary(UnaryFn f, double x, Target t) const override;
  double pow(double x, double e, Target t) const override;
  double sum(const double* x, std::ptrdiff_t inc, long n) const override;
  double dot(const double* x, std::ptrdiff_t incx, const double* w, std::ptrdiff_t incw, long n) const override;
  void gemm(const GemmArgs& g) const override;
  bool gemm_batch_layouts() const override { return acc_kind_ != AccKind::Generic; }

  /// Which accumulator policy the fast paths use.
  enum class AccKind { Binary16Fma, Bfloat16Fma, Binary32Fma, Generic };

  /// Formats with a bit-level rounding path (binary16, bfloat16, binary32); the others take
  /// lib/format's generic one.
  enum class FastFormat : std::uint8_t { Binary16, Bfloat16, Binary32, None };

 private:
  const Format& format(Target t) const { return t == Target::Storage ? spec_.storage : spec_.accumulator; }
  FastFormat fast(Target t) const { return t == Target::Storage ? fast_storage_ : fast_accumulator_; }
  /// A rows×cols binary32 copy of the matrix whose element (i, j) is base[i·row_stride +
  /// j·col_stride]: from the constant tensor's packs, or converted into `scratch`.
  static const float* packed(const double* base, long rows, long cols, long row_stride, long col_stride,
                             OperandPacks* packs, CacheAlignedVector<float>& scratch);
  /// The same from a binary32 operand (GemmArgs::X32): the operand itself when it is already
  /// rows×cols contiguous, else a copy into `scratch`.
  static const float* packed(const float* base, long rows, long cols, long row_stride, long col_stride,
                             CacheAlignedVector<float>& scratch);

  ChainSpec spec_;
  AccKind acc_kind_;
  FastFormat fast_storage_, fast_accumulator_;
};

/// x correctly rounded to nearest even in `to`, for finite x: the same value as
/// round_to(format, x), by bit operations (binary64 → binary32 rounded to odd, then to the
/// format; the odd rounding keeps the one rounding correct). tests/kernels/chain_rounding_test.
double round_fast(ChainArithmetic::FastFormat to, double x);
/// a·b + c correctly rounded to nearest even in `to`, for binary32 values a, b, c with a
/// finite result: the same value as lib/format's fma. The product is exact in binary64 and
/// TwoSum gives the sum's exact residual, which decides the odd rounding at 53 bits.
double fma_fast(ChainArithmetic::FastFormat to, double a, double b, double c);


/// The value of f at x in binary64 (libm; sqrt and reciprocal correctly rounded).
double unary_binary64(UnaryFn f, double x);

}  // namespace fpaudit
