#include "core/chain_arithmetic.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "common/cpu_features.h"
#include "format/arithmetic.h"
#include "format/binary16.h"
#include "core/accumulators.h"
#include "core/activation64.h"
#include "core/gemm_float.h"
#include "core/round_storage_avx2.h"
#include "core/round_storage_avx512.h"
#include "core/tensor.h"

namespace fpaudit {

namespace {

static_assert(static_cast<int>(ChainArithmetic::FastFormat::Binary16) == static_cast<int>(VectorRoundFormat::Binary16) &&
              static_cast<int>(ChainArithmetic::FastFormat::Bfloat16) == static_cast<int>(VectorRoundFormat::Bfloat16) &&
              static_cast<int>(ChainArithmetic::FastFormat::Binary32) == static_cast<int>(VectorRoundFormat::Binary32),
              "round_storage_avx512 numbers the formats as FastFormat does");

ChainArithmetic::FastFormat fast_format_of(const Format& f) {
  if (f == binary16()) return ChainArithmetic::FastFormat::Binary16;
  if (f == bfloat16()) return ChainArithmetic::FastFormat::Bfloat16;
  if (f == binary32()) return ChainArithmetic::FastFormat::Binary32;
  return ChainArithmetic::FastFormat::None;
}

bool is_binary32_value(double x) { return static_cast<double>(static_cast<float>(x)) == x; }

/// The vector lanes of round_storage, fma and div this CPU runs (FPAUDIT_ISA caps it): AVX-512,
/// else AVX2 with FMA and F16C, else none (every element through the scalar path). The same bits
/// whichever runs.
struct VectorLanes {
  std::size_t (*round_storage)(VectorRoundFormat, double*, std::size_t) = nullptr;
  std::size_t (*fma)(VectorRoundFormat, const double*, std::ptrdiff_t, const double*, std::ptrdiff_t, const double*,
                     std::ptrdiff_t, double*, std::size_t) = nullptr;
  std::size_t (*div)(VectorRoundFormat, const double*, std::ptrdiff_t, const double*, std::ptrdiff_t, double*,
                     std::size_t) = nullptr;
  explicit operator bool() const { return round_storage != nullptr; }
};
VectorLanes vector_lanes() {
  if (cpu::avx512f()) return {round_storage_avx512, fma_lanes_avx512, div_lanes_avx512};
  if (cpu::avx2() && cpu::fma() && cpu::f16c()) return {round_storage_avx2, fma_lanes_avx2, div_lanes_avx2};
  return {};
}

ChainArithmetic::AccKind acc_kind_of(const Format& acc) {
  if (acc == binary16()) return ChainArithmetic::AccKind::Binary16Fma;
  if (acc == bfloat16()) return ChainArithmetic::AccKind::Bfloat16Fma;
  if (acc == binary32()) return ChainArithmetic::AccKind::Binary32Fma;
  return ChainArithmetic::AccKind::Generic;
}

/// One rounded multiply-add per step in an arbitrary accumulation format (lib/format).
struct GenericFma {
  using value = double;
  Format f;
  double zero() const { return 0.0; }
  double step(double acc, std::pair<double, double> t) const { return fpaudit::fma(f, t.first, t.second, acc).value; }
  double combine(double a, double b) const { return fpaudit::add(f, a, b).value; }
};

template <class A>
double dot_with(const A& acc, const DotSchedule& s, const double* x, std::ptrdiff_t incx, const double* w,
                std::ptrdiff_t incw, long n) {
  return accumulate(acc, s, n, [&](long i) {
    return acc::Term{static_cast<float>(x[i * incx]), static_cast<float>(w[i * incw])};
  });
}

}  // namespace

namespace {
/// b16::round_f by the F16C instructions (the same bits: tests/format/binary16_fast_test).
__attribute__((target("f16c"))) float round_binary16_f16c(float x) {
  return _cvtsh_ss(_cvtss_sh(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
}  // namespace

double round_fast(ChainArithmetic::FastFormat to, double x) {
  static const bool f16c = cpu::f16c();
  switch (to) {
    case ChainArithmetic::FastFormat::Binary16: {
      const float odd = bf16::double_to_float_odd(x);
      return f16c ? round_binary16_f16c(odd) : b16::round_f(odd);
    }
    case ChainArithmetic::FastFormat::Bfloat16: return bf16::round_f(bf16::double_to_float_odd(x));
    case ChainArithmetic::FastFormat::Binary32: return static_cast<float>(x);  // IEEE: correctly rounded
    case ChainArithmetic::FastFormat::None: break;
  }
  return NAN;
}

double fma_fast(ChainArithmetic::FastFormat to, double a, double b, double c) {
  const double p = a * b;  // exact: 24 + 24 bits, far from binary64's range limits
  return round_fast(to, sum_to_odd53(p, c));
}

ChainArithmetic::ChainArithmetic(ChainSpec spec)
    : spec_(std::move(spec)),
      acc_kind_(acc_kind_of(spec_.accumulator)),
      fast_storage_(fast_format_of(spec_.storage)),
      fast_accumulator_(fast_format_of(spec_.accumulator)) {
  for (const Format* f : {&spec_.storage, &spec_.accumulator}) {
    const FormatDiagnostics d = validate(*f);
    if (!d.ok()) throw std::invalid_argument("chain " + spec_.name + ": " + d.errors);
  }
  // The tensor-core model (tensor_core_block.h) needs exact products in binary64 (storage of
  // at most 26 bits, inside binary32's range) and the accumulators tensor cores have.
  if (spec_.schedule.order == SumOrder::TensorCore &&
      (acc_kind_ == AccKind::Bfloat16Fma || acc_kind_ == AccKind::Generic || spec_.storage.precision > 24 ||
       spec_.storage.emax > 127))
    throw std::invalid_argument("chain " + spec_.name +
                                ": a tensor-core schedule needs binary32 or binary16 accumulation and storage "
                                "no wider than binary32 (tensor cores have no other)");
}

double ChainArithmetic::round(double exact, Target t) const {
  const FastFormat f = fast(t);
  return f != FastFormat::None && std::isfinite(exact) ? round_fast(f, exact) : round_to(format(t), exact);
}

void ChainArithmetic::round_storage(std::span<double> values) const {
  const VectorLanes lanes = vector_lanes();
  const FastFormat f = fast_storage_;
  auto one = [&](double& v) { v = f != FastFormat::None && std::isfinite(v) ? round_fast(f, v) : round_to(spec_.storage, v); };
  if (f == FastFormat::None || !lanes) {
    for (double& v : values) one(v);
    return;
  }
  // Whole vectors of finite values in AVX-512 or AVX2, the rest (a vector with NaN or Inf, the
  // tail) one by one; the same steps either way.
  for (std::size_t i = 0; i < values.size();) {
    i += lanes.round_storage(static_cast<VectorRoundFormat>(f), values.data() + i, values.size() - i);
    for (const std::size_t end = std::min(values.size(), i + 8); i < end; ++i) one(values[i]);
  }
}

// The fast paths below take binary32 operands (every chain value and constant of a fast format
// is one) and fall back to lib/format for anything else and for non-finite results:
//   a ± b   exact as a TwoSum pair, rounded to odd at 53 bits, then to the format (fma_fast)
//   a · b   exact in binary64 (24 + 24 bits), rounded once
//   a / b, √a  rounded to binary64 first: a second rounding to p ≤ 24 bits is innocuous, as
//           53 ≥ 2p + 2 (Figueroa, "When is double rounding innocuous?", 1995); the odd
//           rounding to binary32 on the way keeps the last step exact
// tests/kernels/chain_rounding_test.cpp compares each with lib/format.
double ChainArithmetic::add(double a, double b, Target t) const {
  const FastFormat f = fast(t);
  if (f != FastFormat::None && is_binary32_value(a) && is_binary32_value(b)) {
    const double r = fma_fast(f, a, 1.0, b);
    if (std::isfinite(r)) return r;
  }
  return fpaudit::add(format(t), a, b).value;
}
double ChainArithmetic::sub(double a, double b, Target t) const {
  const FastFormat f = fast(t);
  if (f != FastFormat::None && is_binary32_value(a) && is_binary32_value(b)) {
    const double r = fma_fast(f, b, -1.0, a);  // a - b = (-b) + a, signed zeros included
    if (std::isfinite(r)) return r;
  }
  return fpaudit::sub(format(t), a, b).value;
}
double ChainArithmetic::mul(double a, double b, Target t) const {
  const FastFormat f = fast(t);
  if (f != FastFormat::None && is_binary32_value(a) && is_binary32_value(b)) {
    const double r = round_fast(f, a * b);
    if (std::isfinite(r)) return r;
  }
  return fpaudit::mul(format(t), a, b).value;
}
double ChainArithmetic::div(double a, double b, Target t) const {
  const FastFormat f = fast(t);
  if (f != FastFormat::None && is_binary32_value(a) && is_binary32_value(b) && b != 0) {
    const double r = round_fast(f, a / b);
    if (std::isfinite(r)) return r;
  }
  return fpaudit::div(format(t), a, b).value;
}
double ChainArithmetic::fma(double a, double b, double c, Target t) const {
  const FastFormat f = fast(t);
  if (f != FastFormat::None && is_binary32_value(a) && is_binary32_value(b) && is_binary32_value(c)) {
    const double r = fma_fast(f, a, b, c);
    if (std::isfinite(r)) return r;  // overflow (and NaN operands): lib/format decides
  }
  return fpaudit::fma(format(t), a, b, c).value;
}

namespace {
/// y[i] for i < n: whole vectors through lanes(i) (a VectorLanes routine that fills y[i, i + k)
/// and returns k, stopping at the first vector it declines), that vector and the tail through
/// one(i), the scalar operation itself.
template <class Lanes, class One>
void lanes_then_scalar(double* y, long n, Lanes lanes, One one) {
  const auto count = static_cast<std::size_t>(n);
  for (std::size_t i = 0; i < count;) {
    i += lanes(i, count - i);
    for (const std::size_t end = std::min(count, i + 8); i < end; ++i) y[i] = one(static_cast<long>(i));
  }
}

/// y[i] = one(i) = fma_fast(f, x[i·incx], s[i·incs], t[i·inct]) where that is the fast path's
/// result (the lanes decline an operand that is not a finite binary32 value and an overflow).
/// Increments 0 or 1.
template <class One>
void fma_lanes(const VectorLanes& lanes, ChainArithmetic::FastFormat f, const double* x, std::ptrdiff_t incx, const double* s,
               std::ptrdiff_t incs, const double* t, std::ptrdiff_t inct, double* y, long n, One one) {
  lanes_then_scalar(y, n, [&](std::size_t i, std::size_t left) {
    const auto at = static_cast<std::ptrdiff_t>(i);
    return lanes.fma(static_cast<VectorRoundFormat>(f), x + at * incx, incx, s + at * incs, incs, t + at * inct, inct, y + i,
                     left);
  }, one);
}

}  // namespace

void ChainArithmetic::fma_scaled(const double* x, double scale, double shift, double* y, long n) const {
  const VectorLanes lanes = vector_lanes();
  if (fast_storage_ == FastFormat::None || !lanes) return Arithmetic::fma_scaled(x, scale, shift, y, n);
  fma_lanes(lanes, fast_storage_, x, 1, &scale, 0, &shift, 0, y, n, [&](long i) { return fma(x[i], scale, shift, Target::Storage); });
}

void ChainArithmetic::binary(BinaryOp op, const double* x, std::ptrdiff_t incx, const double* w, std::ptrdiff_t incw,
                             double* y, long n) const {
  const bool unit = (incx == 0 || incx == 1) && (incw == 0 || incw == 1);
  const VectorLanes lanes = vector_lanes();
  if (fast_storage_ == FastFormat::None || !lanes || !unit) return Arithmetic::binary(op, x, incx, w, incw, y, n);
  // The scalar fast paths as one fma_fast each: a + b = a·1 + b, a − b = b·(−1) + a, and
  // a·b = a·b + (−0), which adds nothing to any product, −0 included.
  static const double one = 1.0, minus_one = -1.0, minus_zero = -0.0;
  switch (op) {
    case BinaryOp::Add:
      return fma_lanes(lanes, fast_storage_, x, incx, &one, 0, w, incw, y, n,
                       [&](long i) { return add(x[i * incx], w[i * incw], Target::Storage); });
    case BinaryOp::Sub:
      return fma_lanes(lanes, fast_storage_, w, incw, &minus_one, 0, x, incx, y, n,
                       [&](long i) { return sub(x[i * incx], w[i * incw], Target::Storage); });
    case BinaryOp::Mul:
      return fma_lanes(lanes, fast_storage_, x, incx, w, incw, &minus_zero, 0, y, n,
                       [&](long i) { return mul(x[i * incx], w[i * incw], Target::Storage); });
    case BinaryOp::Div:  // div's fast path: a binary64 quotient rounded by round_fast
      return lanes_then_scalar(
          y, n,
          [&](std::size_t i, std::size_t left) {
            const auto at = static_cast<std::ptrdiff_t>(i);
            return lanes.div(static_cast<VectorRoundFormat>(fast_storage_), x + at * incx, incx, w + at * incw, incw, y + i,
                             left);
          },
          [&](long i) { return div(x[i * incx], w[i * incw], Target::Storage); });
  }
}

double ChainArithmetic::unary(UnaryFn f, double x, Target t) const {
  switch (f) {
    case UnaryFn::Sqrt: {  // correctly rounded; the fast path as for div
      const FastFormat fast_format = fast(t);
      if (fast_format != FastFormat::None && x > 0 && is_binary32_value(x)) {
        const double r = round_fast(fast_format, std::sqrt(x));
        if (std::isfinite(r)) return r;
      }
      return fpaudit::sqrt(format(t), x).value;
    }
    case UnaryFn::Reciprocal: return div(1.0, x, t);  // correctly rounded
    default: return round(unary_binary64(f, x), t);
  }
}

double ChainArithmetic::pow(double x, double e, Target t) const {
  if (e == 2.0) return mul(x, x, t);
  if (e == 1.0) return round(x, t);
  // pow, not sqrt, at the two points where they differ (C99 F.9.4.4, ONNX's Pow): +0 at -0, +Inf at -Inf.
  if (e == 0.5) return x == 0 ? round(0.0, t) : x == -INFINITY ? round(INFINITY, t) : unary(UnaryFn::Sqrt, x, t);
  if (e == -1.0) return unary(UnaryFn::Reciprocal, x, t);
  return round(std::pow(x, e), t);
}

double ChainArithmetic::sum(const double* x, std::ptrdiff_t inc, long n) const {
  static const double one = 1.0;
  return dot(x, inc, &one, 0, n);
}

double ChainArithmetic::dot(const double* x, std::ptrdiff_t incx, const double* w, std::ptrdiff_t incw, long n) const {
  const DotSchedule& s = spec_.schedule;
  switch (acc_kind_) {
    case AccKind::Binary16Fma: return dot_with(acc::Binary16Fma{}, s, x, incx, w, incw, n);
    case AccKind::Bfloat16Fma: return dot_with(acc::Bfloat16Fma{}, s, x, incx, w, incw, n);
    case AccKind::Binary32Fma: return dot_with(acc::Binary32Fma{}, s, x, incx, w, incw, n);
    case AccKind::Generic: break;
  }
  return accumulate(GenericFma{spec_.accumulator}, s, n, [&](long i) { return std::pair{x[i * incx], w[i * incw]}; });
}

const float* ChainArithmetic::packed(const double* base, long rows, long cols, long row_stride, long col_stride,
                                     OperandPacks* packs, CacheAlignedVector<float>& scratch) {
  if (packs) return packs->get(base, rows, cols, row_stride, col_stride);
  float* const matrix = scratch_of(scratch, static_cast<std::size_t>(rows * cols));
  for (long i = 0; i < rows; ++i) {
    float* out = matrix + i * cols;
    const double* in = base + i * row_stride;
    if (col_stride == 1) {  // contiguous rows (im2col, activations): a loop the compiler vectorises
      for (long j = 0; j < cols; ++j) out[j] = static_cast<float>(in[j]);
    } else {
      for (long j = 0; j < cols; ++j) out[j] = static_cast<float>(in[j * col_stride]);
    }
  }
  return matrix;
}

const float* ChainArithmetic::packed(const float* base, long rows, long cols, long row_stride, long col_stride,
                                     CacheAlignedVector<float>& scratch) {
  if (col_stride == 1 && row_stride == cols) return base;
  float* const matrix = scratch_of(scratch, static_cast<std::size_t>(rows * cols));
  for (long i = 0; i < rows; ++i)
    for (long j = 0; j < cols; ++j) matrix[i * cols + j] = base[i * row_stride + j * col_stride];
  return matrix;
}

void ChainArithmetic::gemm(const GemmArgs& g) const {
  if (acc_kind_ == AccKind::Generic) return Arithmetic::gemm(g);
  // Operands are storage values (⊂ binary32): convert (once, for constants), run the float
  // kernel, round the accumulator results (bias included) to storage. The float kernels
  // vectorise across output columns; when there are few columns and many rows (a batch-1
  // Gemm: N = 1), the problem is transposed, Yᵀ = Xᵀ·Wᵀ. Every output is then the same sum of
  // the same exact products in the same order (x·w = w·x exactly), so the bits do not change.
  const bool transpose = g.N < 8 && g.M >= 8;
  const long rows = transpose ? g.N : g.M, cols = transpose ? g.M : g.N;
  thread_local CacheAlignedVector<float> left_scratch, right_scratch, y;
  thread_local std::vector<float> bias;
  // X from its binary32 form when the caller gave one (the same floats packed() would make).
  auto x_packed = [&](long rows_, long cols_, long row_stride, long col_stride, CacheAlignedVector<float>& scratch) {
    return g.X32 ? packed(g.X32, rows_, cols_, row_stride, col_stride, scratch)
                 : packed(g.X, rows_, cols_, row_stride, col_stride, g.x_packs, scratch);
  };
  const float* left = transpose ? x_packed(g.N, g.K, g.x_step, g.ldx, left_scratch)
                                : packed(g.W, g.M, g.K, g.ldw, g.w_step, g.w_packs, left_scratch);
  const float* right = transpose ? packed(g.W, g.K, g.M, g.w_step, g.ldw, g.w_packs, right_scratch)
                                 : x_packed(g.K, g.N, g.ldx, g.x_step, right_scratch);
  scratch_of(y, static_cast<std::size_t>(rows * cols));
  bias.resize(g.bias ? static_cast<std::size_t>(g.M) : 0);
  for (long m = 0; m < static_cast<long>(bias.size()); ++m) bias[m] = static_cast<float>(round(g.bias[m], Target::Accumulator));
  const auto policy = acc_kind_ == AccKind::Binary16Fma   ? kernels::AccPolicy::Binary16Fma
                      : acc_kind_ == AccKind::Bfloat16Fma ? kernels::AccPolicy::Bfloat16Fma
                                                          : kernels::AccPolicy::Binary32Fma;
  const bool same_format = spec_.storage == spec_.accumulator || !g.round_to_storage;
  if (!transpose) {
    kernels::GemmFloat gf{rows, cols, g.K, left, right, g.bias ? bias.data() : nullptr, y.data(), cols, cols};
    kernels::gemm_float(policy, spec_.schedule, gf);
  } else {
    // The bias belongs to the rows of Y, i.e. the columns of Yᵀ: add it after the sums, with
    // the same rounding (acc.combine) the kernel would apply.
    kernels::GemmFloat gf{rows, cols, g.K, left, right, nullptr, y.data(), cols, cols};
    kernels::gemm_float(policy, spec_.schedule, gf);
    if (g.bias)
      for (long n = 0; n < rows; ++n)
        for (long m = 0; m < cols; ++m) y[n * cols + m] = kernels::combine(policy, y[n * cols + m], bias[m]);
  }
  // Back to binary64 a row of Y (or of one of its blocks) at a time, rounded into storage
  // (round_storage: round() per element, vectorised) where the sums were kept in a wider
  // accumulator.
  const long segment = g.Y_blocks ? g.y_block : g.N;
  for (long m = 0; m < g.M; ++m)
    for (long n0 = 0; n0 < g.N; n0 += segment) {
      const long length = std::min(segment, g.N - n0);
      double* out = g.y_row(m, n0);
      if (transpose) {
        for (long n = 0; n < length; ++n) out[n] = y[static_cast<std::size_t>((n0 + n) * cols + m)];
      } else {
        const float* row = y.data() + m * cols + n0;
        for (long n = 0; n < length; ++n) out[n] = row[n];
      }
      if (!same_format) round_storage({out, static_cast<std::size_t>(length)});
    }
}

double unary_binary64(UnaryFn f, double x) {
  switch (f) {
    case UnaryFn::Exp: return std::exp(x);
    case UnaryFn::Log: return std::log(x);
    case UnaryFn::Tanh: return tanh64(x);
    case UnaryFn::Sigmoid: return sigmoid64(x);  // the CUDA epilogues run the same formulas
    case UnaryFn::Erf: return std::erf(x);
    case UnaryFn::Gelu: return gelu64(x);
    case UnaryFn::Sqrt: return std::sqrt(x);
    case UnaryFn::Reciprocal: return 1.0 / x;
    case UnaryFn::Rsqrt: return 1.0 / std::sqrt(x);
  }
  return NAN;
}

}  // namespace fpaudit
