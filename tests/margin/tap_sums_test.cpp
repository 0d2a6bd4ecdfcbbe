// The blocked tap sums of Conv's constant_error and abs_sums (shadow/margin/tap_sums.h) against
// their definition, the plain loop over k in order with zero coefficients and padding taps
// skipped: the same bits on convolutions with padding, strides, groups and batches, with zero
// coefficients, cancelling and subnormal products, a non-finite coefficient (where adding 0·Inf
// for a padding tap would differ from skipping it) and non-finite inputs.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include <doctest/doctest.h>

#include "support/test_values.h"

#include "shadow/margin/tap_sums.h"

using namespace fpaudit::margin;

namespace {

using Lcg = fpaudit::test::SignedValues;

/// A 2-D convolution's tap table: input h × w, kernel k × k, stride, padding on every side.
struct Conv2d {
  long h, w, k, stride, pad;
  long oh() const { return (h + 2 * pad - k) / stride + 1; }
  long ow() const { return (w + 2 * pad - k) / stride + 1; }
  std::vector<std::int32_t> table() const {
    std::vector<std::int32_t> t;
    for (long ky = 0; ky < k; ++ky)
      for (long kx = 0; kx < k; ++kx)
        for (long y = 0; y < oh(); ++y)
          for (long x = 0; x < ow(); ++x) {
            const long iy = y * stride - pad + ky, ix = x * stride - pad + kx;
            t.push_back(iy < 0 || iy >= h || ix < 0 || ix >= w ? -1 : static_cast<std::int32_t>(iy * w + ix));
          }
    return t;
  }
};

/// The definition, written out for the test.
void reference(const TapGeometry& g, const double* a, const double* x, const double* r, std::vector<double>& s, std::vector<double>& ab,
               std::vector<double>& sp) {
  const long cg = g.channels / g.groups, mg = g.out_channels / g.groups, rows = cg * g.taps;
  for (long b = 0; b < g.batch; ++b)
    for (long m = 0; m < g.out_channels; ++m)
      for (long p = 0; p < g.out_plane; ++p) {
        double su = 0, as = 0, ss = 0;
        for (long k = 0; k < rows; ++k) {
          const double c = a[m * rows + k];
          const std::int32_t src = g.table[(k % g.taps) * g.out_plane + p];
          if (c == 0 || src < 0) continue;
          const long i = (b * g.channels + m / mg * cg + k / g.taps) * g.in_plane + src;
          su += x[i] * c;
          as += std::fabs(x[i] * c);
          if (r) ss += r[i] * std::fabs(c);
        }
        const std::size_t o = static_cast<std::size_t>((b * g.out_channels + m) * g.out_plane + p);
        s[o] = su, ab[o] = as, sp[o] = ss;
      }
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

}  // namespace

TEST_CASE("tap sums: blocked kernel = plain loop, bit for bit") {
  Lcg rng{7};
  // (conv, batch, channels, out channels, groups): output planes below, at and beyond the
  // block widths (32 columns), 1×1 planes, strides with runs of one, several column panels.
  struct Case {
    Conv2d conv;
    long batch, channels, out_channels, groups;
  };
  const Case cases[] = {{{5, 5, 3, 1, 1}, 1, 2, 3, 1},    {{8, 8, 3, 1, 1}, 2, 3, 4, 1},   {{7, 9, 3, 2, 1}, 1, 4, 4, 2},
                        {{14, 14, 5, 1, 2}, 1, 1, 6, 1},  {{3, 3, 3, 1, 0}, 2, 5, 5, 5},   {{1, 1, 1, 1, 0}, 1, 7, 3, 1},
                        {{12, 12, 3, 1, 1}, 1, 8, 16, 4}, {{6, 11, 2, 2, 0}, 3, 2, 2, 1},
                        // 1,152 rows: column panels of 32 (the cache blocking), 144 columns in 5.
                        {{12, 12, 3, 1, 1}, 1, 128, 3, 1}};
  for (const Case& c : cases) {
    const std::vector<std::int32_t> table = c.conv.table();
    const TapGeometry g{table.data(), c.conv.k * c.conv.k, c.conv.h * c.conv.w, c.conv.oh() * c.conv.ow(), c.batch, c.channels, c.out_channels, c.groups};
    const long rows = c.channels / c.groups * g.taps;
    std::vector<double> a(static_cast<std::size_t>(c.out_channels * rows)), x(static_cast<std::size_t>(c.batch * c.channels * g.in_plane)), r(x.size());
    for (double& v : a) v = rng.next();
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = rng.next(), r[i] = std::fabs(rng.next());
    // A subnormal product and its exact cancellation in the first output.
    x[0] = 0x1p-1070;
    a[0] = 1, a[1] = -1;
    if (x.size() > 1) x[1] = 0x1p-1070;
    for (int variant = 0; variant < 3; ++variant) {
      if (variant == 1) x[x.size() / 2] = INFINITY, r[r.size() / 3] = INFINITY;  // inputs the taps read
      if (variant == 2) a[a.size() - 1] = INFINITY;  // a coefficient: the plain loop for its row
      for (bool with_rad : {true, false}) {
        const std::size_t n = static_cast<std::size_t>(c.batch * c.out_channels * g.out_plane);
        std::vector<double> s(n, 1.0), ab(n, 1.0), sp(n, 1.0), es(n), ea(n), ep(n);
        reference(g, a.data(), x.data(), with_rad ? r.data() : nullptr, es, ea, ep);
        tap_sums(g, a.data(), x.data(), with_rad ? r.data() : nullptr, s.data(), ab.data(), sp.data());
        CAPTURE(c.conv.h);
        CAPTURE(c.conv.k);
        CAPTURE(c.groups);
        CAPTURE(variant);
        CAPTURE(with_rad);
        CHECK(same_bits(s, es));
        CHECK(same_bits(ab, ea));
        CHECK(same_bits(sp, ep));
      }
    }
  }
}
