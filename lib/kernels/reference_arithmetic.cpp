#include "kernels/reference_arithmetic.h"

#include <mpfr.h>

#include <charconv>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "exact/dot.h"

namespace fpaudit {

// ---- ExactArithmetic --------------------------------------------------------------------

double ExactArithmetic::fma(double a, double b, double c, Target) const { return std::fma(a, b, c); }

namespace {
/// f(x) correctly rounded to binary64 by MPFR: 53 bits, binary64's exponent range and gradual
/// underflow (mpfr_subnormalize), so the one rounding is exactly binary64's.
double correctly_rounded(UnaryFn f, double x, double e = 0) {
  struct Scratch {
    mpfr_t in, out, tmp;
    Scratch() { mpfr_inits2(53, in, out, tmp, static_cast<mpfr_ptr>(nullptr)); }
    ~Scratch() { mpfr_clears(in, out, tmp, static_cast<mpfr_ptr>(nullptr)); }
  };
  thread_local Scratch s;
  mpfr_set_d(s.in, x, MPFR_RNDN);
  // Compute with MPFR's default (huge) exponent range, then narrow it to binary64's for the
  // range check and subnormal rounding, as MPFR documents for emulating IEEE formats.
  int inex = 0;
  switch (f) {
    case UnaryFn::Exp: inex = mpfr_exp(s.out, s.in, MPFR_RNDN); break;
    case UnaryFn::Log: inex = mpfr_log(s.out, s.in, MPFR_RNDN); break;
    case UnaryFn::Tanh: inex = mpfr_tanh(s.out, s.in, MPFR_RNDN); break;
    case UnaryFn::Erf: inex = mpfr_erf(s.out, s.in, MPFR_RNDN); break;
    case UnaryFn::Rsqrt: inex = mpfr_rec_sqrt(s.out, s.in, MPFR_RNDN); break;
    case UnaryFn::Sqrt: inex = mpfr_sqrt(s.out, s.in, MPFR_RNDN); break;
    case UnaryFn::Reciprocal: inex = mpfr_ui_div(s.out, 1, s.in, MPFR_RNDN); break;
    case UnaryFn::Sigmoid:
    case UnaryFn::Gelu: {
      // Composite functions: evaluated at 256 bits, whose error is far below half an ulp of
      // binary64 except in cases within 2^-200 of a rounding boundary (the ternary of the
      // final rounding is then MPFR's for the 256-bit value).
      mpfr_t hi, t;
      mpfr_inits2(256, hi, t, static_cast<mpfr_ptr>(nullptr));
      if (f == UnaryFn::Sigmoid) {  // 1 / (1 + e^-x)
        mpfr_neg(t, s.in, MPFR_RNDN);
        mpfr_exp(t, t, MPFR_RNDN);
        mpfr_add_ui(t, t, 1, MPFR_RNDN);
        mpfr_ui_div(hi, 1, t, MPFR_RNDN);
      } else {  // x/2 · erfc(-x/√2)
        mpfr_sqrt_ui(t, 2, MPFR_RNDN);
        mpfr_div(t, s.in, t, MPFR_RNDN);
        mpfr_neg(t, t, MPFR_RNDN);
        mpfr_erfc(t, t, MPFR_RNDN);
        mpfr_mul(hi, t, s.in, MPFR_RNDN);
        mpfr_div_2ui(hi, hi, 1, MPFR_RNDN);
      }
      inex = mpfr_set(s.out, hi, MPFR_RNDN);
      mpfr_clears(hi, t, static_cast<mpfr_ptr>(nullptr));
      break;
    }
  }
  if (e != 0) {  // pow
    mpfr_set_d(s.tmp, e, MPFR_RNDN);
    inex = mpfr_pow(s.out, s.in, s.tmp, MPFR_RNDN);
  }
  const mpfr_exp_t emin = mpfr_get_emin(), emax = mpfr_get_emax();
  mpfr_set_emin(-1073);
  mpfr_set_emax(1024);
  inex = mpfr_check_range(s.out, inex, MPFR_RNDN);
  mpfr_subnormalize(s.out, inex, MPFR_RNDN);
  mpfr_set_emin(emin);
  mpfr_set_emax(emax);
  return mpfr_get_d(s.out, MPFR_RNDN);
}
}  // namespace

double ExactArithmetic::unary(UnaryFn f, double x, Target) const {
  switch (f) {
    case UnaryFn::Sqrt: return std::sqrt(x);   // IEEE: correctly rounded
    case UnaryFn::Reciprocal: return 1.0 / x;  // IEEE: correctly rounded
    default: return correctly_rounded(f, x);
  }
}

double ExactArithmetic::pow(double x, double e, Target) const {
  if (e == 2.0) return x * x;
  if (e == 1.0) return x;
  if (e == 0.5) return std::sqrt(x);
  return correctly_rounded(UnaryFn::Exp, x, e);
}

double ExactArithmetic::sum(const double* x, std::ptrdiff_t inc, long n) const {
  static const double one = 1.0;
  return exact::dot_strided(x, inc, &one, 0, static_cast<std::size_t>(n), 0.0);
}

double ExactArithmetic::dot(const double* x, std::ptrdiff_t incx, const double* w, std::ptrdiff_t incw, long n) const {
  return exact::dot_strided(x, incx, w, incw, static_cast<std::size_t>(n), 0.0);
}

void ExactArithmetic::gemm(const GemmArgs& g) const {
  // Each output is one exact dot product with the bias inside it: a single rounding. X is
  // transposed first so that every dot product reads contiguous memory.
  std::vector<double> xt(static_cast<std::size_t>(g.N * g.K));
  for (long k = 0; k < g.K; ++k)
    for (long n = 0; n < g.N; ++n) xt[n * g.K + k] = g.X[k * g.ldx + n];
  for (long m = 0; m < g.M; ++m) {
    const std::span<const double> w(g.W + m * g.ldw, static_cast<std::size_t>(g.K));
    for (long n = 0; n < g.N; ++n)
      g.Y[m * g.ldy + n] = exact::dot(w, std::span<const double>(xt.data() + n * g.K, static_cast<std::size_t>(g.K)),
                                      g.bias ? g.bias[m] : 0.0);
  }
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
      g.Y[m * g.ldy + n] = dot_plus(g.W + m * g.ldw, 1, g.X + n, g.ldx, g.K, g.bias ? g.bias[m] : 0.0);
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
