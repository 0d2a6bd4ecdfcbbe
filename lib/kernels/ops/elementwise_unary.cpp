// Elementwise operators of one input. Each output element is the chain's rounding of the exact
// function value (Arithmetic::unary), or an exact selection (ReLU, Clip, Identity...).
#include <immintrin.h>

#include <cmath>
#include <functional>

#include "common/cpu_features.h"
#include "core/ops/elementwise.h"
#include "kernels/ops/ops.h"

namespace fpaudit::ops {

namespace {

/// y[i] = f(a, x[i]) for every element.
class Unary : public OpKernel {
 public:
  using Fn = std::function<double(const Arithmetic&, double)>;
  Unary(Fn f, bool exact) : f_(std::move(f)), exact_(exact) {}
  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const std::vector<double>& x = in[0]->data;
    std::vector<double>& y = out[0]->data;
    for (std::size_t i = 0; i < x.size(); ++i) y[i] = f_(a, x[i]);
  }
  bool exact() const override { return exact_; }
  bool elementwise_in_place() const override { return true; }

 private:
  Fn f_;
  bool exact_;
};

/// Preserves NaN; max(x, 0) with +0 for x ≤ 0. Written as one select (x != x: NaN), which the
/// compiler vectorises in ExactUnary's loop.
inline double relu(double x) { return x > 0 || x != x ? x : 0.0; }
inline double identity(double x) { return x; }

// relu on n values, 8 or 4 lanes at a time where the CPU has them (cpu::avx512f, cpu::avx2):
// one comparison "not x ≤ 0", which is true for x > 0 and for NaN (unordered), keeps x and
// zeroes the other lanes (+0, as relu gives for x ≤ 0, −0 included). Returns how many it did.
__attribute__((target("avx512f"))) std::size_t relu_avx512(const double* x, double* y, std::size_t n) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m512d v = _mm512_loadu_pd(x + i);
    _mm512_storeu_pd(y + i, _mm512_maskz_mov_pd(_mm512_cmp_pd_mask(v, _mm512_setzero_pd(), _CMP_NLE_UQ), v));
  }
  return i;
}
__attribute__((target("avx2"))) std::size_t relu_avx2(const double* x, double* y, std::size_t n) {
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256d v = _mm256_loadu_pd(x + i);
    _mm256_storeu_pd(y + i, _mm256_and_pd(_mm256_cmp_pd(v, _mm256_setzero_pd(), _CMP_NLE_UQ), v));
  }
  return i;
}

/// An exact function of one value, called inline in the loop rather than through Unary's
/// std::function per element: the same values, without a call per element.
template <double (*F)(double)>
class ExactUnary : public OpKernel {
 public:
  void run(const Arithmetic&, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const double* x = in[0]->data.data();
    double* y = out[0]->data.data();
    const std::size_t n = in[0]->data.size();
    std::size_t i = 0;
    if constexpr (F == relu) i = cpu::avx512f() ? relu_avx512(x, y, n) : cpu::avx2() ? relu_avx2(x, y, n) : 0;
    for (; i < n; ++i) y[i] = F(x[i]);
  }
  bool exact() const override { return true; }
  bool elementwise_in_place() const override { return true; }
};

template <double (*F)(double)>
std::unique_ptr<OpKernel> exact_inline(const OpContext&) {
  return std::make_unique<ExactUnary<F>>();
}
double clamp(double x, double lo, double hi) { return std::isnan(x) ? x : std::fmin(std::fmax(x, lo), hi); }

std::unique_ptr<OpKernel> unary_fn(UnaryFn fn) {
  return std::make_unique<Unary>([fn](const Arithmetic& a, double x) { return a.unary(fn, x); }, false);
}

std::unique_ptr<OpKernel> make_clip(const OpContext& ctx) {
  // The limits are tensors of the model's type: each chain clips at its own rounding of them.
  const ClipLimits c = clip_limits(ctx);
  return std::make_unique<Unary>([c](const Arithmetic& a, double x) { return clamp(x, a.round(c.lo), a.round(c.hi)); }, true);
}

std::unique_ptr<OpKernel> make_cast(const OpContext& ctx) {
  // Runtime values are floating point; a Cast between floating types keeps the chain's own
  // storage format (the chain decides the precision), so it is the identity here. Casts to
  // integers of runtime data cannot be audited.
  const auto to = ctx.node.attr_int("to", 0);
  const bool to_float = to == 1 || to == 10 || to == 11 || to == 16;  // float, float16, double, bfloat16
  if (!to_float) ctx.fail("casting runtime data to a non-floating type is not supported");
  // Runtime integers (ArgMax's indices) and bools become values of the chain's storage: one
  // rounding (exact for 0/1 and small indices; fp8 holds integers only up to 16 exactly).
  const ValueInfo* from = ctx.graph.value(ctx.node.inputs.at(0));
  if (from != nullptr && !is_float(from->dtype))
    return std::make_unique<Unary>([](const Arithmetic& a, double x) { return a.round(x); }, false);  // rule: bounds/rules/elementwise.cpp
  return std::make_unique<Unary>([](const Arithmetic&, double x) { return x; }, true);
}

}  // namespace

void register_unary_ops(std::vector<OpRegistration>& r) {
  auto fn = [](UnaryFn f) { return [f](const OpContext&) { return unary_fn(f); }; };
  r.push_back({"Relu", exact_inline<relu>});
  r.push_back({"Identity", exact_inline<identity>});
  r.push_back({"Dropout", exact_inline<identity>});  // inference: identity (mask output unsupported)
  r.push_back({"Cast", make_cast});
  r.push_back({"Clip", make_clip});
  r.push_back({"Exp", fn(UnaryFn::Exp)});
  r.push_back({"Log", fn(UnaryFn::Log)});
  r.push_back({"Tanh", fn(UnaryFn::Tanh)});
  r.push_back({"Sigmoid", fn(UnaryFn::Sigmoid)});
  r.push_back({"Erf", fn(UnaryFn::Erf)});
  r.push_back({"Sqrt", fn(UnaryFn::Sqrt)});
  r.push_back({"Reciprocal", fn(UnaryFn::Reciprocal)});
  r.push_back({"LeakyRelu", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> {
                 const double alpha = leaky_relu_alpha(ctx);
                 return std::make_unique<Unary>(
                     [alpha](const Arithmetic& a, double x) { return std::isnan(x) || x >= 0 ? x : a.mul(alpha, x); }, false);
               }});
  r.push_back({"HardSigmoid", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> {
                 const HardSigmoidParams p = hard_sigmoid_params(ctx);
                 return std::make_unique<Unary>(
                     [p](const Arithmetic& a, double x) { return clamp(a.fma(p.alpha, x, p.beta), 0.0, 1.0); }, false);
               }});
  r.push_back({"HardSwish", [](const OpContext&) -> std::unique_ptr<OpKernel> {
                 // x · HardSigmoid(x) with alpha = 1/6 (its binary64 value), beta = 1/2.
                 return std::make_unique<Unary>(
                     [](const Arithmetic& a, double x) { return a.mul(x, clamp(a.fma(1.0 / 6.0, x, 0.5), 0.0, 1.0)); }, false);
               }});
  r.push_back({"Gelu", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> {
                 if (!gelu_tanh(ctx)) return unary_fn(UnaryFn::Gelu);
                 // The tanh form, evaluated in binary64 and rounded once.
                 return std::make_unique<Unary>([](const Arithmetic& a, double x) {
                   const double k = 0.79788456080286535588;  // sqrt(2/pi)
                   return a.round(0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x))));
                 }, false);
               }});
}

}  // namespace fpaudit::ops
