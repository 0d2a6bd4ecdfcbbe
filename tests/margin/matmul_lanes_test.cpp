// MatMul's backward step (shadow/margin/backward_attention.cpp), whose interval products run in
// vector lanes across outputs, against the scalar form it replaces (one interval dot product per
// output, terms in order, a zero cotangent skipped), bit for bit: both operands at run time with
// batch broadcasting ([2,3,5,7]·[3,7,4] and [1,5,7]·[2,3,7,4]), an operand constant, x·x (both
// cotangents into one input, in the step's order), and data over the whole binary64 range with
// the special values (zero cotangents next to unbounded operands).
// A NaN may come out with the other sign (test::same_bits_or_nan).
#include <cmath>
#include <vector>

#include <doctest/doctest.h>

#include "../graph/model_builder.h"
#include "bounds/transfer.h"
#include "core/op_context.h"
#include "graph/loader.h"
#include "shadow/margin/backward.h"
#include "shadow/margin/rounding.h"
#include "cotangent_checks.h"
#include "support/test_values.h"

using namespace fpaudit;
using namespace fpaudit::margin;

namespace {

/// The step as it was: g_A[m, k] = Σ_n g[m, n]·B[k, n] and g_B[k, n] = Σ_m A[m, k]·g[m, n], one
/// interval dot product per output (theory/margin-bound.md Lemma 3), over the right-aligned batch
/// broadcast of two operands of rank 3 or 4 (batch offsets given per output matrix).
struct ScalarDot {
  double mid = 0, abs = 0, rad = 0;
  void add(double a, double ra, double b, double rb) {
    if (a == 0 && ra == 0) return;
    const double p = a * b;
    mid += p;
    abs += std::fabs(p);
    rad += std::fabs(a) * rb + ra * (std::fabs(b) + rb);
  }
  void flush(long terms, Cotangent& in, long i) const {
    const auto k = static_cast<std::size_t>(i);
    const double m = in.mid[k] + mid;
    const double r = bounds::safe_sum(rad, 2 * terms + 8, 2 * terms) + dot_rounding(terms, abs) + std::fabs(m) * 0x1p-53;
    in.mid[k] = m;
    in.rad[k] = bounds::nan_to_inf(inflate(in.rad[k] + r));
    in.reached = true;
  }
};

void midpoint_radius(double lo, double hi, double& m, double& r) {
  m = 0.5 * lo + 0.5 * hi;
  r = bounds::up(bounds::max_num(m - lo, hi - m));
  if (!std::isfinite(m) || !std::isfinite(r)) m = 0, r = INFINITY;
}

struct Case {
  std::vector<std::int64_t> a, b;  ///< operand shapes (the last two dimensions are the matrix)
  bool b_constant = false;
  bool same = false;  ///< b is a itself (x·x, square): both cotangents go to one input
};

}  // namespace

TEST_CASE("MatMul backward in lanes = one interval dot product per output, bit for bit") {
  const Case cases[] = {
      {{2, 3, 5, 7}, {3, 7, 4}, false},
      {{1, 5, 7}, {2, 3, 7, 4}, false},
      {{2, 9, 33}, {2, 33, 17}, false},
      {{4, 6, 20}, {20, 12}, true},
      {{3, 6, 6}, {3, 6, 6}, false, true},
  };
  test::WideValues rng{5};
  for (const Case& c : cases) {
    CAPTURE(c.a.size());
    CAPTURE(c.b.size());
    test::ModelBuilder mb;
    mb.input("a", test::kFloat, c.a);
    std::vector<float> bw;
    if (c.b_constant) {
      for (std::int64_t i = 0; i < element_count(c.b); ++i) bw.push_back(static_cast<float>(std::ldexp(1.0 + static_cast<double>(i % 7), -3) * (i % 2 ? -1 : 1)));
      mb.initializer(test::float_tensor("b", c.b, bw));
    } else if (!c.same) {
      mb.input("b", test::kFloat, c.b);
    }
    mb.node("MatMul", {"a", c.same ? "a" : "b"}, {"y"});
    mb.output("y");
    Graph g = mb.parse();
    std::vector<Shape> inputs{Shape(c.a.begin(), c.a.end())};
    if (!c.b_constant && !c.same) inputs.emplace_back(c.b.begin(), c.b.end());
    infer_shapes(g, inputs);
    const Node& node = g.nodes.at(0);
    const OpContext ctx = context_of(g, node);
    const std::unique_ptr<BackwardStep> step = make_backward_step(ctx);
    REQUIRE(step);
    const Shape& ys = ctx.output_shapes.at(0);

    const long M = c.a[c.a.size() - 2], K = c.a.back(), N = c.b.back();
    const long na = static_cast<long>(element_count(ctx.input_shapes[0])), nb = static_cast<long>(element_count(ctx.input_shapes[1]));
    const long ny = static_cast<long>(element_count(ys));
    for (int trial = 0; trial < 6; ++trial) {
      CAPTURE(trial);
      // Boxes: lo ≤ hi mostly, special values anywhere (NaN, ±Inf make unbounded operands).
      std::vector<double> alo(static_cast<std::size_t>(na)), ahi(alo.size()), blo(static_cast<std::size_t>(nb)), bhi(blo.size());
      for (auto* v : {&alo, &blo})
        for (double& x : *v) x = rng.next();
      for (std::size_t i = 0; i < alo.size(); ++i) ahi[i] = alo[i] + std::fabs(trial % 2 ? rng.next() : 0.0);
      for (std::size_t i = 0; i < blo.size(); ++i) bhi[i] = c.b_constant ? blo[i] : blo[i] + std::fabs(rng.next());
      if (c.same) blo = alo, bhi = ahi;
      Cotangent out;
      out.reset(static_cast<std::size_t>(ny));
      for (std::size_t i = 0; i < out.mid.size(); ++i) {
        // One cotangent in three exactly zero (the skipped terms).
        const bool zero = rng.bits() % 3 == 0;
        out.mid[i] = zero ? 0.0 : rng.next();
        out.rad[i] = zero ? 0.0 : std::fabs(rng.next());
      }
      out.reached = true;
      Cotangent ga, gb, ga_ref, gb_ref;
      ga.reset(static_cast<std::size_t>(na));
      gb.reset(static_cast<std::size_t>(nb));
      ga_ref = ga;
      gb_ref = gb;
      const TrajectoryBox boxes[2] = {{alo.data(), ahi.data()}, {blo.data(), bhi.data()}};
      Cotangent* ins[2] = {&ga, c.b_constant ? nullptr : c.same ? &ga : &gb};
      step->apply(boxes, out, ins);

      // The oracle, on the operands' midpoint–radius forms (a constant: the model's values, radius 0).
      std::vector<double> am(alo.size()), ar(alo.size()), bm(blo.size()), br(blo.size(), 0.0);
      for (std::size_t i = 0; i < alo.size(); ++i) midpoint_radius(alo[i], ahi[i], am[i], ar[i]);
      for (std::size_t i = 0; i < blo.size(); ++i) {
        if (c.b_constant)
          bm[i] = static_cast<double>(bw[i]);
        else
          midpoint_radius(blo[i], bhi[i], bm[i], br[i]);
      }
      // Batch offsets, right-aligned broadcast over the output's batch dimensions.
      const std::size_t rank = ys.size() - 2;
      const Shape ab(c.a.begin(), c.a.end() - 2), bb(c.b.begin(), c.b.end() - 2);
      long batches = 1;
      for (std::size_t i = 0; i < rank; ++i) batches *= ys[i];
      for (long ob = 0; ob < batches; ++ob) {
        long rest = ob, aoff = 0, boff = 0, astride = 1, bstride = 1;
        for (std::size_t i = rank; i-- > 0;) {
          const long idx = rest % ys[i];
          rest /= ys[i];
          const std::size_t ai = i + ab.size(), bi = i + bb.size();
          if (ai >= rank) {
            const long d = ab[ai - rank];
            aoff += (d == 1 ? 0 : idx) * astride;
            astride *= d;
          }
          if (bi >= rank) {
            const long d = bb[bi - rank];
            boff += (d == 1 ? 0 : idx) * bstride;
            bstride *= d;
          }
        }
        const long ao = aoff * M * K, bo = boff * K * N, oo = ob * M * N;
        // One output's interval dot product: term t is the cotangent at out[g0 + t·g_step] times
        // the operand [x ± rx] at [x0 + t·x_step].
        auto dot = [&](long terms, long g0, long g_step, const std::vector<double>& x, const std::vector<double>& rx, long x0,
                       long x_step, Cotangent& into, long at) {
          ScalarDot d;
          for (long t = 0; t < terms; ++t) {
            const auto gi = static_cast<std::size_t>(g0 + t * g_step), xi = static_cast<std::size_t>(x0 + t * x_step);
            d.add(out.mid[gi], out.rad[gi], x[xi], rx[xi]);
          }
          d.flush(terms, into, at);
        };
        for (long m = 0; m < M; ++m)
          for (long k = 0; k < K; ++k) dot(N, oo + m * N, 1, bm, br, bo + k * N, 1, ga_ref, ao + m * K + k);
        if (!c.b_constant)
          for (long k = 0; k < K; ++k)
            for (long n = 0; n < N; ++n) dot(M, oo + n, N, am, ar, ao + k, K, c.same ? ga_ref : gb_ref, bo + k * N + n);
      }
      test::check_same_cotangent(ga, ga_ref);
      if (!c.b_constant) {
        test::check_same_cotangent(gb, gb_ref);
      }
    }
  }
}
