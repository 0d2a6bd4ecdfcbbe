#include "core/reference_arithmetic.h"

#include <mpfr.h>

#include <charconv>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "exact/dot.h"
#include "exact/elementary.h"
#include "exact/gemm.h"

namespace fpaudit {

// ---- ExactArithmetic --------------------------------------------------------------------

double ExactArithmetic::fma(double a, double b, double c, Target) const { return std::fma(a, b, c); }

double ExactArithmetic::unary(UnaryFn f, double x, Target) const {
  // Every function correctly rounded to binary64 (lib/exact: Ziv's strategy over MPFR);
  // remembered for 16-bit arguments, the local evaluations' (sixteen_bit_memo.h).
  return memo_[static_cast<int>(f)](x, [f](double v) { return unary_rn(f, v); });
}

double ExactArithmetic::unary_rn(UnaryFn f, double x) {
  switch (f) {
    case UnaryFn::Exp: return exact::exp_rn(x).value;
    case UnaryFn::Log: return exact::log_rn(x).value;
    case UnaryFn::Tanh: return exact::tanh_rn(x).value;
    case UnaryFn::Sigmoid: return exact::sigmoid_rn(x).value;
    case UnaryFn::Erf: return exact::erf_rn(x).value;
    case UnaryFn::Gelu: return exact::gelu_rn(x).value;
    case UnaryFn::Sqrt: return std::sqrt(x);   // IEEE: correctly rounded
    case UnaryFn::Reciprocal: return 1.0 / x;  // IEEE: correctly rounded
    case UnaryFn::Rsqrt: return exact::rsqrt_rn(x).value;
  }
  return NAN;
}

double ExactArithmetic::pow(double x, double e, Target) const {
  if (e == 2.0) return x * x;
  if (e == 1.0) return x;
  // pow, not sqrt, at the two points where they differ (C99 F.9.4.4, ONNX's Pow): +0 at -0, +Inf at -Inf.
  if (e == 0.5) return x == 0 ? 0.0 : x == -INFINITY ? INFINITY : std::sqrt(x);
  return exact::pow_rn(x, e).value;
}

double ExactArithmetic::sum(const double* x, std::ptrdiff_t inc, long n) const {
  static const double one = 1.0;
  return exact::dot_strided(x, inc, &one, 0, static_cast<std::size_t>(n), 0.0);
}

double ExactArithmetic::dot(const double* x, std::ptrdiff_t incx, const double* w, std::ptrdiff_t incw, long n) const {
  return exact::dot_strided(x, incx, w, incw, static_cast<std::size_t>(n), 0.0);
}

void ExactArithmetic::gemm(const GemmArgs& g) const {
  // Each output is one exact dot product with the bias inside it: a single rounding.
  // exact::gemm runs across output columns, so X must be contiguous along n and W along k:
  // strided operands (a transposed Gemm input) are copied once per call into thread scratch.
  thread_local std::vector<double> xs, ws;
  // rows × cols of at(r, c) into scratch, row-major; returns it (leading dimension cols).
  auto contiguous = [](std::vector<double>& scratch, long rows, long cols, auto at) {
    scratch.resize(static_cast<std::size_t>(rows * cols));
    for (long r = 0; r < rows; ++r)
      for (long c = 0; c < cols; ++c) scratch[r * cols + c] = at(r, c);
    return scratch.data();
  };
  const double* X = g.x_step == 1 ? g.X : contiguous(xs, g.K, g.N, [&](long k, long n) { return g.x_at(k, n); });
  const long ldx = g.x_step == 1 ? g.ldx : g.N;
  const double* W = g.w_step == 1 ? g.W : contiguous(ws, g.M, g.K, [&](long m, long k) { return g.w_at(m, k); });
  const long ldw = g.w_step == 1 ? g.ldw : g.K;
  exact::gemm(g.M, g.N, g.K, W, ldw, X, ldx, g.bias, g.Y, g.ldy);
}

// ---- MpfrArithmetic ---------------------------------------------------------------------

namespace {
/// Per-thread MPFR variables at the working precision (MPFR is thread-safe with per-thread
/// variables; Debian builds it with thread-local caches).
struct MpfrScratch {
  mpfr_t a, b, c, r, acc;
  int bits = 0;
  MpfrScratch() { mpfr_inits2(64, a, b, c, r, acc, static_cast<mpfr_ptr>(nullptr)); }
  ~MpfrScratch() { mpfr_clears(a, b, c, r, acc, static_cast<mpfr_ptr>(nullptr)); }
  void use(int p) {
    if (p == bits) return;
    // Operands hold binary64 values exactly (53 bits); results have the working precision.
    mpfr_set_prec(a, std::max(p, 53));
    mpfr_set_prec(b, std::max(p, 53));
    mpfr_set_prec(c, std::max(p, 53));
    mpfr_set_prec(r, p);
    mpfr_set_prec(acc, p);
    bits = p;
  }
};
MpfrScratch& scratch(int bits) {
  thread_local MpfrScratch s;
  s.use(bits);
  return s;
}
double result(mpfr_ptr r) { return mpfr_get_d(r, MPFR_RNDN); }
}  // namespace

MpfrArithmetic::MpfrArithmetic(int bits) : bits_(bits), name_("mpfr:" + std::to_string(bits)) {
  if (bits < 64 || bits > 4096) throw std::invalid_argument("mpfr precision must be 64..4096 bits, not " + std::to_string(bits));
}

#define FPAUDIT_MPFR_BINARY(NAME, CALL)                       \
  double MpfrArithmetic::NAME(double x, double y, Target) const { \
    MpfrScratch& s = scratch(bits_);                          \
    mpfr_set_d(s.a, x, MPFR_RNDN);                            \
    mpfr_set_d(s.b, y, MPFR_RNDN);                            \
    CALL(s.r, s.a, s.b, MPFR_RNDN);                           \
    return result(s.r);                                       \
  }
FPAUDIT_MPFR_BINARY(add, mpfr_add)
FPAUDIT_MPFR_BINARY(sub, mpfr_sub)
FPAUDIT_MPFR_BINARY(mul, mpfr_mul)
FPAUDIT_MPFR_BINARY(div, mpfr_div)
#undef FPAUDIT_MPFR_BINARY

double MpfrArithmetic::fma(double x, double y, double z, Target) const {
  MpfrScratch& s = scratch(bits_);
  mpfr_set_d(s.a, x, MPFR_RNDN);
  mpfr_set_d(s.b, y, MPFR_RNDN);
  mpfr_set_d(s.c, z, MPFR_RNDN);
  mpfr_fma(s.r, s.a, s.b, s.c, MPFR_RNDN);
  return result(s.r);
}

double MpfrArithmetic::unary(UnaryFn f, double x, Target) const {
  MpfrScratch& s = scratch(bits_);
  mpfr_set_d(s.a, x, MPFR_RNDN);
  switch (f) {
    case UnaryFn::Exp: mpfr_exp(s.r, s.a, MPFR_RNDN); break;
    case UnaryFn::Log: mpfr_log(s.r, s.a, MPFR_RNDN); break;
    case UnaryFn::Tanh: mpfr_tanh(s.r, s.a, MPFR_RNDN); break;
    case UnaryFn::Sigmoid:  // 1 / (1 + e^-x)
      mpfr_neg(s.b, s.a, MPFR_RNDN);
      mpfr_exp(s.r, s.b, MPFR_RNDN);
      mpfr_add_ui(s.r, s.r, 1, MPFR_RNDN);
      mpfr_ui_div(s.r, 1, s.r, MPFR_RNDN);
      break;
    case UnaryFn::Erf: mpfr_erf(s.r, s.a, MPFR_RNDN); break;
    case UnaryFn::Gelu:  // x/2 · erfc(-x/√2)
      mpfr_sqrt_ui(s.b, 2, MPFR_RNDN);
      mpfr_div(s.b, s.a, s.b, MPFR_RNDN);
      mpfr_neg(s.b, s.b, MPFR_RNDN);
      mpfr_erfc(s.r, s.b, MPFR_RNDN);
      mpfr_mul(s.r, s.r, s.a, MPFR_RNDN);
      mpfr_div_2ui(s.r, s.r, 1, MPFR_RNDN);
      break;
    case UnaryFn::Sqrt: mpfr_sqrt(s.r, s.a, MPFR_RNDN); break;
    case UnaryFn::Reciprocal: mpfr_ui_div(s.r, 1, s.a, MPFR_RNDN); break;
    case UnaryFn::Rsqrt: mpfr_rec_sqrt(s.r, s.a, MPFR_RNDN); break;
  }
  return result(s.r);
}

double MpfrArithmetic::pow(double x, double e, Target) const {
  MpfrScratch& s = scratch(bits_);
  mpfr_set_d(s.a, x, MPFR_RNDN);
  mpfr_set_d(s.b, e, MPFR_RNDN);
  mpfr_pow(s.r, s.a, s.b, MPFR_RNDN);
  return result(s.r);
}

double MpfrArithmetic::dot(const double* x, std::ptrdiff_t incx, const double* w, std::ptrdiff_t incw, long n) const {
  return dot_plus(x, incx, w, incw, n, 0.0);
}

double MpfrArithmetic::dot_plus(const double* x, std::ptrdiff_t incx, const double* w, std::ptrdiff_t incw, long n,
                                double c) const {
  // Sequential: every product and every partial sum rounded to the working precision.
  MpfrScratch& s = scratch(bits_);
  mpfr_set_zero(s.acc, 1);
  for (long i = 0; i < n; ++i) {
    mpfr_set_d(s.a, x[i * incx], MPFR_RNDN);
    mpfr_set_d(s.b, w[i * incw], MPFR_RNDN);
    mpfr_mul(s.r, s.a, s.b, MPFR_RNDN);
    mpfr_add(s.acc, s.acc, s.r, MPFR_RNDN);
  }
  if (c != 0) {
    mpfr_set_d(s.a, c, MPFR_RNDN);
    mpfr_add(s.acc, s.acc, s.a, MPFR_RNDN);
  }
  return result(s.acc);
}

void MpfrArithmetic::gemm(const GemmArgs& g) const {
  // The bias is one more term of the sum at the working precision, and the result is rounded
  // once, as ExactArithmetic::gemm does: the references agree bit for bit on Gemm and Conv.
  for (long m = 0; m < g.M; ++m)
    for (long n = 0; n < g.N; ++n)
      g.Y[m * g.ldy + n] = dot_plus(g.W + m * g.ldw, g.w_step, g.X + n * g.x_step, g.ldx, g.K, g.bias ? g.bias[m] : 0.0);
}

double MpfrArithmetic::sum(const double* x, std::ptrdiff_t inc, long n) const {
  static const double one = 1.0;
  return dot(x, inc, &one, 0, n);
}

// ---- factory ----------------------------------------------------------------------------

std::unique_ptr<Arithmetic> make_reference_arithmetic(std::string_view spec) {
  if (spec == "exact") return std::make_unique<ExactArithmetic>();
  if (spec.substr(0, 5) == "mpfr:") {
    int bits = 0;
    const std::string_view digits = spec.substr(5);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
    if (ec == std::errc{} && end == digits.data() + digits.size()) return std::make_unique<MpfrArithmetic>(bits);
  }
  throw std::invalid_argument("unknown reference '" + std::string(spec) + "' (expected exact or mpfr:BITS)");
}

}  // namespace fpaudit
