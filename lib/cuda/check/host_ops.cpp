#include "cuda/check/host_ops.h"

#include <cmath>

#include "format/binary16.h"
#include "format/format.h"

namespace fpaudit::cuda::check {

namespace {
double value(std::uint16_t h) { return b16::to_float(h); }
/// A chain's binary16 result (exact) back to its bit pattern; NaN as the quiet NaN.
std::uint16_t bits(double v) { return b16::from_float(static_cast<float>(v)); }
}  // namespace

ChainSpec chain_of(const Reduction& r) {
  const bool half = r.policy == kernels::AccPolicy::Binary16Fma;
  ChainSpec spec = parse_chain(half ? "fp16" : "fp16-acc32");
  spec.schedule = r.schedule;
  spec.name.append("@").append(schedule_name(r.schedule));
  return spec;
}

std::uint16_t host_activation(Activation act, std::uint16_t x) {
  static const std::unique_ptr<Arithmetic> fp16 = make_chain_arithmetic(parse_chain("fp16"));
  const double v = value(x);
  switch (act) {
    case Activation::None: return x;
    case Activation::Relu: return std::isnan(v) ? x : bits(v > 0 ? v : 0.0);  // ops/elementwise_unary.cpp's relu
    case Activation::Gelu: return bits(fp16->unary(UnaryFn::Gelu, v));
    case Activation::Sigmoid: return bits(fp16->unary(UnaryFn::Sigmoid, v));
    case Activation::Tanh: return bits(fp16->unary(UnaryFn::Tanh, v));
  }
  return x;
}

std::vector<std::uint16_t> host_softmax(const Arithmetic& a, const std::vector<std::uint16_t>& x, long rows, long length) {
  std::vector<std::uint16_t> y(x.size());
  std::vector<double> d(static_cast<std::size_t>(length)), e(d.size());
  for (long r = 0; r < rows; ++r) {
    const std::uint16_t* xr = x.data() + r * length;
    double m = -INFINITY;
    bool nan = false;
    for (long j = 0; j < length; ++j) {
      nan = nan || std::isnan(value(xr[j]));
      m = value(xr[j]) > m ? value(xr[j]) : m;
    }
    for (long j = 0; j < length && nan; ++j) y[r * length + j] = b16::kQuietNaN;
    if (nan) continue;
    for (long j = 0; j < length; ++j) {
      d[j] = a.sub(value(xr[j]), m);
      e[j] = a.unary(UnaryFn::Exp, d[j]);
    }
    const double s = a.sum(e.data(), 1, length);
    for (long j = 0; j < length; ++j) y[r * length + j] = bits(a.div(e[j], s));
  }
  return y;
}

std::vector<std::uint16_t> host_layernorm(const Arithmetic& a, const std::vector<std::uint16_t>& x, const std::vector<std::uint16_t>& gamma,
                                          const std::vector<std::uint16_t>& beta, double epsilon, long rows, long length) {
  constexpr Target acc = Target::Accumulator;
  std::vector<std::uint16_t> y(x.size());
  std::vector<double> xo(static_cast<std::size_t>(length)), d(xo.size());
  const auto n = static_cast<double>(length);
  for (long r = 0; r < rows; ++r) {
    for (long j = 0; j < length; ++j) xo[j] = value(x[r * length + j]);
    const double mean = a.div(a.sum(xo.data(), 1, length), n, acc);
    for (long j = 0; j < length; ++j) d[j] = a.sub(xo[j], mean, acc);
    const double variance = a.div(a.dot(d.data(), 1, d.data(), 1, length), n, acc);
    const double inv_std = a.unary(UnaryFn::Rsqrt, a.add(variance, epsilon, acc), acc);
    for (long j = 0; j < length; ++j) {
      const double p = a.mul(d[j], inv_std, acc);
      const double g = gamma.empty() ? 1.0 : value(gamma[j]);
      y[r * length + j] = bits(beta.empty() ? a.mul(p, g) : a.fma(p, g, value(beta[j])));
    }
  }
  return y;
}

std::vector<std::uint16_t> host_max_pool(const PoolProblem& p, const std::vector<std::uint16_t>& x) {
  const long OH = p.OH(), OW = p.OW();
  std::vector<std::uint16_t> y(static_cast<std::size_t>(p.planes * OH * OW));
  for (long plane = 0; plane < p.planes; ++plane)
    for (long oh = 0; oh < OH; ++oh)
      for (long ow = 0; ow < OW; ++ow) {
        std::uint16_t best = 0xFC00;  // −Inf
        bool nan = false;
        for (long h = oh * p.stride_h - p.pad_h; h < oh * p.stride_h - p.pad_h + p.KH && !nan; ++h)
          for (long w = ow * p.stride_w - p.pad_w; w < ow * p.stride_w - p.pad_w + p.KW && !nan; ++w) {
            if (h < 0 || h >= p.H || w < 0 || w >= p.W) continue;
            const std::uint16_t v = x[(plane * p.H + h) * p.W + w];
            if (std::isnan(value(v))) nan = true, best = v;
            else if (value(v) > value(best)) best = v;
          }
        y[(plane * OH + oh) * OW + ow] = best;
      }
  return y;
}

std::vector<std::uint16_t> host_average_pool(const Arithmetic& a, const PoolProblem& p, const std::vector<std::uint16_t>& x) {
  const long OH = p.OH(), OW = p.OW();
  std::vector<std::uint16_t> y(static_cast<std::size_t>(p.planes * OH * OW));
  std::vector<double> window;
  for (long plane = 0; plane < p.planes; ++plane)
    for (long oh = 0; oh < OH; ++oh)
      for (long ow = 0; ow < OW; ++ow) {
        window.clear();
        for (long h = oh * p.stride_h - p.pad_h; h < oh * p.stride_h - p.pad_h + p.KH; ++h)
          for (long w = ow * p.stride_w - p.pad_w; w < ow * p.stride_w - p.pad_w + p.KW; ++w)
            if (h >= 0 && h < p.H && w >= 0 && w < p.W) window.push_back(value(x[(plane * p.H + h) * p.W + w]));
        const double s = a.sum(window.data(), 1, static_cast<long>(window.size()));
        const double count = static_cast<double>(p.count_include_pad ? p.KH * p.KW : static_cast<long>(window.size()));
        y[(plane * OH + oh) * OW + ow] = bits(a.div(s, count));
      }
  return y;
}

std::vector<float> host_im2col(const ConvProblem& c, const float* x_group) {
  const long OH = c.OH(), OW = c.OW(), P = OH * OW, K = c.K();
  std::vector<float> col(static_cast<std::size_t>(K * P), 0.0f);
  for (long ch = 0; ch < c.C / c.groups; ++ch)
    for (long kh = 0; kh < c.KH; ++kh)
      for (long kw = 0; kw < c.KW; ++kw)
        for (long oh = 0; oh < OH; ++oh)
          for (long ow = 0; ow < OW; ++ow) {
            const long ih = oh * c.stride_h - c.pad_h + kh * c.dilation_h, iw = ow * c.stride_w - c.pad_w + kw * c.dilation_w;
            if (ih < 0 || ih >= c.H || iw < 0 || iw >= c.W) continue;
            col[((ch * c.KH + kh) * c.KW + kw) * P + oh * OW + ow] = x_group[(ch * c.H + ih) * c.W + iw];
          }
  return col;
}

}  // namespace fpaudit::cuda::check
