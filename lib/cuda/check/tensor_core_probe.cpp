#include "cuda/check/tensor_core_probe.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include <fmt/format.h>

#include "format/binary16.h"

namespace fpaudit::cuda::check {

namespace {

struct Variant {
  int block = 16;
  int extra_bits = 0;
  bool products_only_align = false;  ///< the running sum does not set the alignment exponent
  bool sum_after_block = false;      ///< the block's products are fused alone, then added to the sum in binary32
  bool nearest = false;              ///< the block result is normalised to nearest even, not toward zero
  std::string name() const {
    return fmt::format("B={} G={}{}{}{}", block, extra_bits, products_only_align ? " align-products" : "",
                       sum_after_block ? " sum-after-block" : "", nearest ? " RNE" : " RZ");
  }
};

/// ⌊log2 |x|⌋ for finite nonzero x.
int exponent_of(double x) { return std::ilogb(x); }

/// x (a multiple of 2^lsb below 2^(53+lsb) in magnitude) rounded to binary32 toward zero or
/// to nearest even.
float to_binary32(double x, bool nearest) {
  if (nearest) return static_cast<float>(x);
  float f = static_cast<float>(x);
  if (std::fabs(static_cast<double>(f)) > std::fabs(x)) f = std::nextafter(f, 0.0f);
  return f;
}

/// c + Σ products under the variant, or NaN when the inputs leave the range this search handles
/// (non-finite values, sums past 2^53 units): such outputs are not counted.
float fused(float c, const double* p, int count, const Variant& v) {
  int emax = INT32_MIN;
  for (int i = 0; i < count; ++i)
    if (p[i] != 0) emax = std::max(emax, exponent_of(p[i]));
  const bool c_aligned = !v.sum_after_block;
  if (c_aligned && !v.products_only_align && c != 0) emax = std::max(emax, exponent_of(c));
  if (emax == INT32_MIN) return c_aligned ? c : 0.0f;
  const int lsb = emax - 23 - v.extra_bits;
  long double sum = 0;  // 64-bit significand: the truncated addends are integers below 2^30 each
  for (int i = 0; i < count; ++i) sum += std::trunc(std::ldexp(static_cast<long double>(p[i]), -lsb));
  if (c_aligned) {
    const long double cs = std::ldexp(static_cast<long double>(c), -lsb);
    if (std::fabs(cs) > 0x1p62L) return std::nanf("");
    sum += std::trunc(cs);
  }
  if (std::fabs(sum) > 0x1p53L) return std::nanf("");
  const float block = to_binary32(std::ldexp(static_cast<double>(sum), lsb), v.nearest);
  return c_aligned ? block : c + block;
}

/// The variant's M×N result of one case (bias added in the accumulator, as the kernels do).
std::vector<float> variant_gemm(const GemmCase& g, const Variant& v, bool binary16_accumulator) {
  std::vector<float> y(static_cast<std::size_t>(g.M * g.N));
  std::vector<double> p(static_cast<std::size_t>(v.block));
  for (long m = 0; m < g.M; ++m)
    for (long n = 0; n < g.N; ++n) {
      float acc = 0.0f;
      for (long k0 = 0; k0 < g.K; k0 += v.block) {
        const int count = static_cast<int>(std::min<long>(v.block, g.K - k0));
        for (int i = 0; i < count; ++i) p[i] = static_cast<double>(g.W[m * g.K + k0 + i]) * g.X[(k0 + i) * g.N + n];
        acc = fused(acc, p.data(), count, v);
        if (binary16_accumulator) acc = b16::round_f(acc);
      }
      if (!g.bias.empty()) acc = binary16_accumulator ? b16::add_f(acc, g.bias[m]) : acc + g.bias[m];
      y[m * g.N + n] = acc;
    }
  return y;
}

}  // namespace

void probe_tensor_core_variants(const std::string& kernel, bool binary16_accumulator, const std::vector<GemmCase>& cases,
                                const std::vector<std::vector<float>>& y, CheckTable& table) {
  struct Score {
    Variant v;
    long missed = 0, counted = 0;
  };
  std::vector<Score> scores;
  for (const int b : {8, 16, 32})
    for (int g = 0; g <= 6; ++g)
      for (const bool products_only : {false, true})
        for (const bool after : {false, true})
          for (const bool nearest : {false, true}) {
            if (after && products_only) continue;  // the same variant: the sum is not aligned at all
            Score s{Variant{b, g, products_only, after, nearest}};
            for (std::size_t i = 0; i < cases.size(); ++i) {
              const std::vector<float> model = variant_gemm(cases[i], s.v, binary16_accumulator);
              for (std::size_t j = 0; j < model.size(); ++j) {
                if (!std::isfinite(model[j]) || !std::isfinite(y[i][j])) continue;
                ++s.counted;
                s.missed += !same_value(model[j], y[i][j]);
              }
            }
            scores.push_back(s);
          }
  std::stable_sort(scores.begin(), scores.end(), [](const Score& a, const Score& b) { return a.missed < b.missed; });
  for (std::size_t i = 0; i < std::min<std::size_t>(5, scores.size()); ++i)
    table.say(fmt::format("variant probe {}: {:<40} misses {} of {} outputs", kernel, scores[i].v.name(), scores[i].missed,
                          scores[i].counted));
}

}  // namespace fpaudit::cuda::check
