#include "kernels/chain_arithmetic.h"

#include <cmath>
#include <stdexcept>
#include <vector>

#include "format/arithmetic.h"
#include "format/binary16_batch.h"
#include "kernels/accumulators.h"
#include "kernels/activation64.h"
#include "kernels/gemm_float.h"

namespace fpaudit {

namespace {

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

ChainArithmetic::ChainArithmetic(ChainSpec spec) : spec_(std::move(spec)), acc_kind_(acc_kind_of(spec_.accumulator)) {
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

double ChainArithmetic::round(double exact, Target t) const { return round_to(format(t), exact); }

void ChainArithmetic::round_storage(std::span<double> values) const {
  const Format& f = spec_.storage;
  const int kind = f == binary16() ? 16 : f == bfloat16() ? 8 : f == binary32() ? 32 : 0;
  for (double& v : values) {
    const auto single = static_cast<float>(v);
    if (kind != 0 && static_cast<double>(single) == v) {
      // v is a binary32 value, so rounding it from binary32 is the one and only rounding.
      v = kind == 16 ? b16::round_f(single) : kind == 8 ? bf16::round_f(single) : single;
    } else {
      v = round_to(f, v);
    }
  }
}

double ChainArithmetic::add(double a, double b, Target t) const { return fpaudit::add(format(t), a, b).value; }
double ChainArithmetic::sub(double a, double b, Target t) const { return fpaudit::sub(format(t), a, b).value; }
double ChainArithmetic::mul(double a, double b, Target t) const { return fpaudit::mul(format(t), a, b).value; }
double ChainArithmetic::div(double a, double b, Target t) const { return fpaudit::div(format(t), a, b).value; }
double ChainArithmetic::fma(double a, double b, double c, Target t) const {
  return fpaudit::fma(format(t), a, b, c).value;
}

double ChainArithmetic::unary(UnaryFn f, double x, Target t) const {
  switch (f) {
    case UnaryFn::Sqrt: return fpaudit::sqrt(format(t), x).value;        // correctly rounded
    case UnaryFn::Reciprocal: return fpaudit::div(format(t), 1.0, x).value;  // correctly rounded
    default: return round_to(format(t), unary_binary64(f, x));
  }
}

double ChainArithmetic::pow(double x, double e, Target t) const {
  if (e == 2.0) return mul(x, x, t);
  if (e == 1.0) return round(x, t);
  if (e == 0.5) return unary(UnaryFn::Sqrt, x, t);
  if (e == -1.0) return unary(UnaryFn::Reciprocal, x, t);
  return round_to(format(t), std::pow(x, e));
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

void ChainArithmetic::gemm(const GemmArgs& g) const {
  if (acc_kind_ == AccKind::Generic) return Arithmetic::gemm(g);
  // Operands are storage values (⊂ binary32): convert once, run the float kernel, round the
  // accumulator results (bias included) to storage.
  std::vector<float> w(static_cast<std::size_t>(g.M * g.K)), x(static_cast<std::size_t>(g.K * g.N)),
      y(static_cast<std::size_t>(g.M * g.N)), b(g.bias ? static_cast<std::size_t>(g.M) : 0);
  for (long m = 0; m < g.M; ++m)
    for (long k = 0; k < g.K; ++k) w[m * g.K + k] = static_cast<float>(g.W[m * g.ldw + k]);
  for (long k = 0; k < g.K; ++k)
    for (long n = 0; n < g.N; ++n) x[k * g.N + n] = static_cast<float>(g.X[k * g.ldx + n]);
  for (long m = 0; m < static_cast<long>(b.size()); ++m) b[m] = static_cast<float>(round(g.bias[m], Target::Accumulator));
  kernels::GemmFloat gf{g.M, g.N, g.K, w.data(), x.data(), g.bias ? b.data() : nullptr, y.data(), g.N, g.N};
  const auto policy = acc_kind_ == AccKind::Binary16Fma   ? kernels::AccPolicy::Binary16Fma
                      : acc_kind_ == AccKind::Bfloat16Fma ? kernels::AccPolicy::Bfloat16Fma
                                                          : kernels::AccPolicy::Binary32Fma;
  kernels::gemm_float(policy, spec_.schedule, gf);
  const bool same_format = spec_.storage == spec_.accumulator || !g.round_to_storage;
  for (long m = 0; m < g.M; ++m)
    for (long n = 0; n < g.N; ++n) {
      const double v = y[m * g.N + n];
      g.Y[m * g.ldy + n] = same_format ? v : round_to(spec_.storage, v);
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
