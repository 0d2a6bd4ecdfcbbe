// The dot-product rule's epilogue (bounds/gemm_epilogue.h): finish_row_chain, the vectorised
// form a chain's Conv, Gemm and MatMul bounds take, against finish_row_scalar, the form of every
// case, bit for bit: det, prob and the failure probability of every element, in every chain
// rounding model (16-bit storage and accumulation, mixed, binary32, a saturating E4M3, a
// tensor-core schedule), with and without a bias, for sums of 1 to 10^6 terms and rows that fill
// whole vectors and leave remainders, on values over the whole binary64 range and the special ones
// (±0, subnormals, ±Inf, NaN, values beyond a format's largest).
#include <cmath>
#include <cstring>
#include <vector>

#include <doctest/doctest.h>

#include "bounds/gemm_epilogue.h"
#include "bounds/sums.h"
#include "support/test_values.h"

using namespace fpaudit;
using namespace fpaudit::bounds;

namespace {

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

/// A row's inputs: the three sums as the rule makes them (nonnegative, with the odd special value)
/// or any values at all (`wild`), and the bias columns.
struct Row {
  std::vector<double> S, Ed, Ep, cmag, ced, cep;
  Row(test::WideValues& rng, long n, bool bias, bool wild) {
    for (std::vector<double>* v : {&S, &Ed, &Ep, &cmag, &ced, &cep}) {
      const bool zeros = !bias && (v == &cmag || v == &ced || v == &cep);
      for (long i = 0; i < n; ++i) {
        const double x = rng.next();
        v->push_back(zeros ? 0.0 : wild ? x : std::fabs(x));
      }
    }
  }
};

}  // namespace

TEST_CASE("Dot-product epilogue: the vector form equals the scalar form, bit for bit") {
  const ArithmeticModel models[] = {
      ArithmeticModel::chain(binary16(), binary16(), DotSchedule::sequential()),
      ArithmeticModel::chain(binary16(), binary32(), DotSchedule::sequential()),
      ArithmeticModel::chain(bfloat16(), bfloat16(), DotSchedule::pairwise(8)),
      ArithmeticModel::chain(bfloat16(), binary32(), DotSchedule::blocked(32)),
      ArithmeticModel::chain(binary32(), binary32(), DotSchedule::sequential()),
      ArithmeticModel::chain(e4m3(), binary32(), DotSchedule::sequential()),
      ArithmeticModel::chain(binary16(), binary32(), DotSchedule::tensor_core(16)),
  };
  const long terms[] = {1, 9, 288, 4096, 1000000};
  const long widths[] = {1, 7, 8, 17, 64, 333};
  test::WideValues rng{17};
  Enclosure bias_enclosure;  // only whether there is a bias matters to the epilogue
  long elements = 0, infinite = 0, failing = 0;
  for (const ArithmeticModel& m : models) {
    CAPTURE(m.storage.u);
    CAPTURE(m.acc.u);
    for (long K : terms)
      for (int bias = 0; bias < 2; ++bias)
        for (int wild = 0; wild < 3; ++wild)
          for (long N : widths) {
            CAPTURE(K);
            CAPTURE(bias);
            CAPTURE(wild);
            CAPTURE(N);
            // wild == 2: the rows' own sums with a signed-partial-sum bound (bounds/signed_sums.h)
            // beside them, any value at all, so that it is taken where smaller and NaN never is.
            MatmulBound g;
            g.K = K;
            g.bias = bias ? &bias_enclosure : nullptr;
            const RowEpilogue a{m, g, sum_error_constants(m, K, 5.0)};
            REQUIRE(chain_epilogue(a));
            const Row r(rng, N, bias != 0, wild == 1);
            std::vector<double> alt;
            for (long i = 0; wild == 2 && i < N; ++i) alt.push_back(i % 3 == 0 ? r.S[static_cast<std::size_t>(i)] * 0x1p-20 : rng.next());
            const double* alt_row = alt.empty() ? nullptr : alt.data();
            std::vector<double> det_s(static_cast<std::size_t>(N)), prob_s(det_s.size()), fail_s(det_s.size());
            std::vector<double> det_v(det_s.size(), -1.0), prob_v(det_s.size(), -1.0), fail_v(det_s.size(), -1.0);
            finish_row_scalar(a, N, r.S.data(), r.Ed.data(), r.Ep.data(), r.cmag.data(), r.ced.data(), r.cep.data(), alt_row,
                              det_s.data(), prob_s.data(), fail_s.data());
            finish_row_chain(a, N, r.S.data(), r.Ed.data(), r.Ep.data(), r.cmag.data(), r.ced.data(), r.cep.data(), alt_row,
                             det_v.data(), prob_v.data(), fail_v.data());
            CHECK(same_bits(det_s, det_v));
            CHECK(same_bits(prob_s, prob_v));
            CHECK(same_bits(fail_s, fail_v));
            elements += N;
            for (long i = 0; i < N; ++i) {
              infinite += std::isinf(det_s[static_cast<std::size_t>(i)]);
              failing += fail_s[static_cast<std::size_t>(i)] > 0;
            }
          }
  }
  // The data reach both sides of every select: overflowed sums (Inf) and finite ones whose
  // probabilistic bound may fail.
  CHECK(elements > 50000);
  CHECK(infinite > elements / 10);
  CHECK(failing > elements / 10);
}

TEST_CASE("Dot-product epilogue: the references and Gemm's alpha/beta form keep the scalar form") {
  MatmulBound g;
  g.K = 64;
  const ArithmeticModel exact = ArithmeticModel::exact_reference();
  CHECK_FALSE(chain_epilogue({exact, g, sum_error_constants(exact, g.K, 5.0)}));
  const ArithmeticModel mpfr = ArithmeticModel::mpfr_reference(128);
  CHECK_FALSE(chain_epilogue({mpfr, g, sum_error_constants(mpfr, g.K, 5.0)}));
  const ArithmeticModel fp16 = ArithmeticModel::chain(binary16(), binary16(), DotSchedule::sequential());
  CHECK(chain_epilogue({fp16, g, sum_error_constants(fp16, g.K, 5.0)}));
  g.scaled = true;
  CHECK_FALSE(chain_epilogue({fp16, g, sum_error_constants(fp16, g.K, 5.0)}));
  g.scaled = false;
  g.K = 0;
  CHECK_FALSE(chain_epilogue({fp16, g, sum_error_constants(fp16, g.K, 5.0)}));
}
