// margin::scaled_sums (Gemm's constant_error: Σ x·D, Σ |x·D|, Σ r·|D| per column) against its
// scalar definition, bit for bit: column counts that leave every tail of 4- and 8-lane vectors,
// contiguous and strided columns of D, D given whole or as a difference, with and without radii,
// strided operands, signed zeros, subnormals and infinities. Registered once per ISA cap.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "common/cpu_features.h"
#include "shadow/margin/scaled_sums.h"

using namespace fpaudit;
using namespace fpaudit::margin;

namespace {

/// The same bits, or two NaNs (which NaN survives where two meet is the compiler's operand order).
bool same(double a, double b) {
  std::uint64_t x, y;
  std::memcpy(&x, &a, 8);
  std::memcpy(&y, &b, 8);
  return x == y || (a != a && b != b);
}

}  // namespace

TEST_CASE("scaled_sums: the vector lanes give the definition's bits") {
  MESSAGE("kernel level: " << std::string(cpu::level_name()));
  std::mt19937_64 rng(4242);
  std::normal_distribution<double> normal(0.0, 1.0);
  long compared = 0;
  for (const long N : {1L, 3L, 4L, 5L, 8L, 11L, 16L, 19L})
    for (const long K : {1L, 6L, 33L})
      for (int kind = 0; kind < 16; ++kind) {
        const bool strided_d = kind & 1, difference = kind & 2, radii = kind & 4, strided_x = kind & 8;
        const long x_stride = strided_x ? 3 : 1;
        std::vector<double> x(static_cast<std::size_t>(K * x_stride)), r(x.size()), d(static_cast<std::size_t>(K * N)),
            q(d.size());
        for (double& v : x) v = rng() % 7 == 0 ? -0.0 : normal(rng);
        for (double& v : r) v = std::fabs(normal(rng)) * 0x1p-20;
        for (std::size_t i = 0; i < d.size(); ++i) {
          const int pick = static_cast<int>(rng() % 16);
          d[i] = pick == 0 ? 0.0 : pick == 1 ? -0.0 : pick == 2 ? 0x1p-1070 : normal(rng);
          q[i] = pick < 3 ? d[i] : d[i] * (1 + 0x1p-11 * normal(rng));  // a rounding's neighbourhood
        }
        if (kind == 5) d[0] = INFINITY;  // an infinite coefficient: NaN where it meets −0
        ScaledSums a;
        a.x = x.data();
        a.r = radii ? r.data() : nullptr;
        a.x_stride = x_stride;
        a.d = d.data();
        a.d_minus = difference ? q.data() : nullptr;
        a.d_k = strided_d ? 1 : N;
        a.d_n = strided_d ? K : 1;
        a.K = K;
        a.N = N;
        std::vector<double> s(static_cast<std::size_t>(N)), ab(s.size()), sp(s.size()), s0(s.size()), ab0(s.size()), sp0(s.size());
        scaled_sums(a, s.data(), ab.data(), sp.data());
        scaled_sums_definition(a, s0.data(), ab0.data(), sp0.data());
        long differ = 0;
        for (long n = 0; n < N; ++n) differ += !same(s[n], s0[n]) || !same(ab[n], ab0[n]) || !same(sp[n], sp0[n]);
        CAPTURE(N);
        CAPTURE(K);
        CAPTURE(kind);
        CHECK(differ == 0);
        if (!radii) CHECK(sp0 == std::vector<double>(s.size(), 0.0));
        compared += N;
      }
  CHECK(compared == (1 + 3 + 4 + 5 + 8 + 11 + 16 + 19) * 3 * 16);
}
