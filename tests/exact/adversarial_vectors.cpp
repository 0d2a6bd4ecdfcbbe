#include "adversarial_vectors.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

#include <mpfr.h>

namespace fpaudit::testing {

namespace {

using Rng = std::mt19937_64;

double fmt(double v, bool f32) { return f32 ? static_cast<double>(static_cast<float>(v)) : v; }

double random_bits64(Rng& rng) {
  for (;;) {
    const double d = std::bit_cast<double>(rng());
    if (std::isfinite(d)) return d;
  }
}

double random_bits32(Rng& rng) {
  for (;;) {
    const float f = std::bit_cast<float>(static_cast<std::uint32_t>(rng()));
    if (std::isfinite(f)) return f;
  }
}

/// Uniform in ±[0.5, 1): a full 53-bit significand, never near zero.
double signed_unit(Rng& rng) {
  const double u = std::uniform_real_distribution<double>(0.5, 1.0)(rng);
  return (rng() & 1) ? -u : u;
}

/// ±[0.5, 1)·2^e with e uniform in [lo, hi].
double scaled(Rng& rng, int lo, int hi, bool f32) {
  return fmt(std::ldexp(signed_unit(rng), std::uniform_int_distribution<int>(lo, hi)(rng)), f32);
}

double gaussian(Rng& rng, double sigma, bool f32) { return fmt(std::normal_distribution<double>(0, sigma)(rng), f32); }

/// Half the spacing of binary64 numbers above |y|, with y's sign: y + half_ulp is a midpoint.
double half_ulp(double y) { return std::copysign(std::ldexp(1.0, std::ilogb(y) - 53), y); }

/// Appends k pairs whose products cancel exactly: (a, b) and (-a, b) or (b, -a).
void add_cancelling_pairs(DotCase& c, std::size_t k, int lo, int hi, bool f32, Rng& rng) {
  for (std::size_t j = 0; j < k; ++j) {
    const double a = scaled(rng, lo, hi, f32), b = scaled(rng, lo, hi, f32);
    c.x.push_back(a);
    c.w.push_back(b);
    if (rng() & 1) {
      c.x.push_back(-a);
      c.w.push_back(b);
    } else {
      c.x.push_back(b);
      c.w.push_back(-a);
    }
  }
}

void shuffle(DotCase& c, Rng& rng) {
  std::vector<std::size_t> p(c.x.size());
  std::iota(p.begin(), p.end(), 0);
  std::shuffle(p.begin(), p.end(), rng);
  DotCase out;
  out.bias = c.bias;
  for (const std::size_t i : p) {
    out.x.push_back(c.x[i]);
    out.w.push_back(c.w[i]);
  }
  c = std::move(out);
}

/// A midpoint y + half_ulp(y) hidden among huge cancelling pairs.
DotCase tie(std::size_t n, bool f32, Rng& rng) {
  DotCase c;
  const double y = scaled(rng, -50, 50, f32);
  const double h = (rng() & 1) ? half_ulp(y) : -half_ulp(y);
  c.x = {y, h};
  c.w = {1.0, 1.0};
  // Cancelling pairs of no, moderate or huge magnitude: the huge ones defeat the
  // certificate, the others leave it to decide right at its margin.
  switch (rng() % 3) {
    case 0: break;
    case 1: add_cancelling_pairs(c, n / 2, -20, 0, f32, rng); break;
    default: add_cancelling_pairs(c, n / 2, f32 ? 40 : 100, f32 ? 60 : 300, f32, rng);
  }
  return c;
}

}  // namespace

std::string family_name(Family f) {
  switch (f) {
    case Family::RandomBits64: return "random-bits-64";
    case Family::RandomBits32: return "random-bits-32";
    case Family::Typical: return "typical";
    case Family::UnderflowingProducts: return "underflowing-products";
    case Family::ExactZero: return "exact-zero";
    case Family::SingleSurvivor: return "single-survivor";
    case Family::Tie: return "tie";
    case Family::NearTie: return "near-tie";
    case Family::IllConditioned: return "ill-conditioned";
    case Family::SubnormalResult: return "subnormal-result";
    case Family::Overflowing: return "overflowing";
    case Family::Sparse: return "sparse";
  }
  return "?";
}

bool has_f32_variant(Family f) {
  return f != Family::RandomBits64 && f != Family::UnderflowingProducts && f != Family::SubnormalResult &&
         f != Family::Overflowing;
}

std::size_t draw_length(Rng& rng, std::size_t max_n) {
  static constexpr std::size_t kEdges[] = {7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257};
  const auto pick = rng() % 10;
  std::size_t n;
  if (pick < 4) n = 1 + rng() % 16;
  else if (pick < 8) n = static_cast<std::size_t>(std::exp2(std::uniform_real_distribution<double>(4, std::log2(double(max_n)))(rng)));
  else n = kEdges[rng() % std::size(kEdges)];
  return std::clamp<std::size_t>(n, 1, max_n);
}

DotCase gen_dot(std::size_t n, double log2_cond, bool f32, Rng& rng) {
  n = std::max<std::size_t>(n, 6);
  const std::size_t n2 = n / 2;
  const double half = log2_cond / 2;
  DotCase c;
  c.x.resize(n);
  c.w.resize(n);
  auto exponent = [&] { return static_cast<int>(std::round(std::uniform_real_distribution<double>(0, half)(rng))); };
  for (std::size_t i = 0; i < n2; ++i) {
    c.x[i] = fmt(std::ldexp(signed_unit(rng), exponent()), f32);
    c.w[i] = fmt(std::ldexp(signed_unit(rng), exponent()), f32);
  }
  // The largest and the smallest exponent both occur (as in the original algorithm).
  c.x[0] = fmt(std::ldexp(signed_unit(rng), static_cast<int>(std::round(half)) + 1), f32);
  c.x[n2 - 1] = fmt(signed_unit(rng), f32);
  // The exact running dot product: 4400 bits hold any sum of products of binary64 values.
  mpfr_t running, product;
  mpfr_init2(running, 4400);
  mpfr_init2(product, 106);
  mpfr_set_zero(running, 1);
  auto accumulate = [&](std::size_t i) {
    mpfr_set_d(product, c.x[i], MPFR_RNDN);
    mpfr_mul_d(product, product, c.w[i], MPFR_RNDN);
    if (mpfr_add(running, running, product, MPFR_RNDN) != 0) throw std::logic_error("gen_dot: inexact running sum");
  };
  for (std::size_t i = 0; i < n2; ++i) accumulate(i);
  // The second half drives the sum back toward zero with exponents falling from half to 0.
  const std::size_t rest = n - n2;
  for (std::size_t j = 0; j < rest; ++j) {
    const double frac = rest > 1 ? static_cast<double>(j) / static_cast<double>(rest - 1) : 1.0;
    const int e = static_cast<int>(std::round(half * (1 - frac)));
    const std::size_t i = n2 + j;
    c.x[i] = fmt(std::ldexp(signed_unit(rng), e), f32);
    const double target = std::ldexp(signed_unit(rng), e);
    c.w[i] = fmt((target - mpfr_get_d(running, MPFR_RNDN)) / c.x[i], f32);
    accumulate(i);
  }
  mpfr_clear(running);
  mpfr_clear(product);
  shuffle(c, rng);
  return c;
}

DotCase make_case(Family f, std::size_t n, bool f32, Rng& rng) {
  if (!has_f32_variant(f)) f32 = false;
  DotCase c;
  switch (f) {
    case Family::RandomBits64:
      for (std::size_t i = 0; i < n; ++i) {
        c.x.push_back(random_bits64(rng));
        c.w.push_back(random_bits64(rng));
      }
      c.bias = (rng() & 1) ? random_bits64(rng) : 0.0;
      break;
    case Family::RandomBits32:
      for (std::size_t i = 0; i < n; ++i) {
        c.x.push_back(random_bits32(rng));
        c.w.push_back(random_bits32(rng));
      }
      c.bias = (rng() & 1) ? random_bits32(rng) : 0.0;
      break;
    case Family::Typical:
      for (std::size_t i = 0; i < n; ++i) {
        c.x.push_back(gaussian(rng, 1.0, f32));
        c.w.push_back(gaussian(rng, 1.0 / std::sqrt(double(n)), f32));
      }
      c.bias = gaussian(rng, 0.1, f32);
      break;
    case Family::UnderflowingProducts:
      for (std::size_t i = 0; i < n; ++i) {
        c.x.push_back(scaled(rng, -560, -480, false));
        c.w.push_back(scaled(rng, -560, -480, false));
      }
      if (rng() & 1) add_cancelling_pairs(c, n / 4 + 1, -300, -250, false, rng);
      shuffle(c, rng);
      break;
    case Family::ExactZero:
      add_cancelling_pairs(c, (n + 1) / 2, f32 ? -60 : -400, f32 ? 60 : 400, f32, rng);
      shuffle(c, rng);
      break;
    case Family::SingleSurvivor:
      add_cancelling_pairs(c, n / 2, f32 ? 60 : 200, f32 ? 63 : 500, f32, rng);
      if (rng() & 1) {
        c.x.push_back(scaled(rng, -100, 100, f32));
        c.w.push_back(1.0);
      } else {
        c.bias = scaled(rng, -100, 100, f32);
      }
      shuffle(c, rng);
      break;
    case Family::Tie:
      c = tie(n, f32, rng);
      shuffle(c, rng);
      break;
    case Family::NearTie: {
      c = tie(n, f32, rng);
      const double h = c.x[1];
      if (!f32 && (rng() & 1)) {
        // A product far below 2^-1074 decides the tie; binary64 cannot even hold it.
        c.x.push_back(scaled(rng, -560, -540, false));
        c.w.push_back(scaled(rng, -560, -540, false));
      } else {
        // A representable nudge ±2^-k·h, k in [30, 70]: S sits just off the midpoint, on
        // either side of the certificate's own margin (it needs |S - y| ≤ h(1 - 2^-50)).
        const int k = std::uniform_int_distribution<int>(30, 70)(rng);
        const int k1 = std::min(k, 20);
        c.x.push_back(std::ldexp(h, -k1));
        c.w.push_back((rng() & 1) ? std::ldexp(1.0, k1 - k) : -std::ldexp(1.0, k1 - k));
      }
      shuffle(c, rng);
      break;
    }
    case Family::IllConditioned: {
      const double log2_cond = std::uniform_real_distribution<double>(17, f32 ? 200 : 1000)(rng);
      c = gen_dot(n, log2_cond, f32, rng);
      break;
    }
    case Family::SubnormalResult: {
      static constexpr double kFactors[] = {1.0, -1.0, 2.0, -2.0, 0.5, 3.0};
      for (std::size_t i = 0; i < n; ++i) {
        c.x.push_back(std::bit_cast<double>(rng() & 0x800FFFFFFFFFFFFFULL));  // subnormal or zero
        c.w.push_back(kFactors[rng() % std::size(kFactors)]);
      }
      add_cancelling_pairs(c, n / 4 + 1, -1010, -960, false, rng);
      shuffle(c, rng);
      break;
    }
    case Family::Overflowing: {
      const double big = std::numeric_limits<double>::max();
      for (std::size_t i = 0; i < n; ++i) {
        switch (rng() % 3) {
          case 0:
            c.x.push_back((rng() & 1) ? big : -big);
            c.w.push_back(std::uniform_real_distribution<double>(0.5, 1.0)(rng));
            break;
          case 1:  // a product beyond binary64's range
            c.x.push_back(scaled(rng, 500, 540, false));
            c.w.push_back(scaled(rng, 500, 540, false));
            break;
          default:
            c.x.push_back(scaled(rng, -10, 10, false));
            c.w.push_back(scaled(rng, -10, 10, false));
        }
      }
      // Half the cases cancel their huge terms: intermediate overflow, finite result.
      if (rng() & 1) {
        const std::size_t m = c.x.size();
        for (std::size_t i = 0; i < m; ++i) {
          if (std::fabs(c.x[i]) < 0x1p100) continue;
          c.x.push_back(-c.x[i]);
          c.w.push_back(c.w[i]);
        }
      }
      shuffle(c, rng);
      break;
    }
    case Family::Sparse: {
      const bool all_negative_zero = rng() % 8 == 0;  // every product -0 and bias -0: result -0
      for (std::size_t i = 0; i < n; ++i) {
        if (all_negative_zero) {
          c.x.push_back(0.0);
          c.w.push_back(-std::fabs(gaussian(rng, 0.1, f32)) - 0x1p-10);
          continue;
        }
        const bool zero = rng() % 10 < 7;
        c.x.push_back(zero ? ((rng() & 1) ? 0.0 : -0.0) : gaussian(rng, 1.0, f32));
        c.w.push_back(gaussian(rng, 0.1, f32));
      }
      c.bias = all_negative_zero ? -0.0 : ((rng() & 1) ? -0.0 : gaussian(rng, 0.1, f32));
      break;
    }
  }
  return c;
}

}  // namespace fpaudit::testing
