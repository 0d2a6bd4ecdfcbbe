// The backward step of Add, Sub and Mul where its sides take the output's shape, which runs in
// vector lanes (margin::add_scaled_slopes), against the per-output calls it replaces (an output
// whose cotangent is exactly zero skipped; otherwise add_scaled per side with the operator's
// slope), bit for bit (a NaN's sign aside: test::same_bits_or_nan): two run-time operands, a
// constant broadcast one on either side (Sub(c, x): only side 1 takes a cotangent), the same
// value on both sides (x·x: the per-output path), on boxes and
// cotangents over the whole binary64 range with the special values.
#include <cmath>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "../graph/model_builder.h"
#include "core/op_context.h"
#include "graph/loader.h"
#include "shadow/margin/backward.h"
#include "cotangent_checks.h"
#include "support/test_values.h"

using namespace fpaudit;
using namespace fpaudit::margin;

namespace {

struct Case {
  std::string op;
  std::vector<std::int64_t> a, b;
  bool b_constant = false;
  bool same = false;  ///< b is a itself (x op x)
  bool swap = false;  ///< the node reads (b, a): a constant first operand, e.g. Sub(c, x)
};

}  // namespace

TEST_CASE("Add, Sub and Mul backward in lanes = per output, bit for bit") {
  const Case cases[] = {
      {"Add", {2, 3, 37}, {2, 3, 37}},       {"Sub", {2, 3, 37}, {2, 3, 37}},     {"Mul", {2, 3, 37}, {2, 3, 37}},
      {"Mul", {4, 33}, {33}, true},          {"Add", {4, 33}, {1, 33}, true},     {"Sub", {1, 9}, {1, 9}, true},
      {"Mul", {5, 8}, {5, 8}, false, true},  {"Add", {5, 8}, {5, 8}, false, true},
      {"Sub", {3, 17}, {17}, true, false, true}, {"Mul", {3, 17}, {3, 17}, true, false, true},
  };
  test::WideValues rng{71};
  for (const Case& c : cases) {
    CAPTURE(c.op);
    CAPTURE(c.b_constant);
    CAPTURE(c.same);
    test::ModelBuilder mb;
    mb.input("a", test::kFloat, c.a);
    std::vector<float> bw;
    if (c.b_constant) {
      for (std::int64_t i = 0; i < element_count(c.b); ++i)
        bw.push_back(i % 5 == 0 ? 0.0f : static_cast<float>(std::ldexp(1.0 + static_cast<double>(i % 7), static_cast<int>(i % 9) - 4)));
      mb.initializer(test::float_tensor("b", c.b, bw));
    } else if (!c.same) {
      mb.input("b", test::kFloat, c.b);
    }
    if (c.swap)
      mb.node(c.op, {"b", "a"}, {"y"});
    else
      mb.node(c.op, {"a", c.same ? "a" : "b"}, {"y"});
    mb.output("y");
    Graph g = mb.parse();
    std::vector<Shape> inputs{Shape(c.a.begin(), c.a.end())};
    if (!c.b_constant && !c.same) inputs.emplace_back(c.b.begin(), c.b.end());
    infer_shapes(g, inputs);
    const OpContext ctx = context_of(g, g.nodes.at(0));
    const std::unique_ptr<BackwardStep> step = make_backward_step(ctx);
    REQUIRE(step);
    const auto na = static_cast<std::size_t>(element_count(ctx.input_shapes[c.swap ? 1 : 0]));
    const auto nb = static_cast<std::size_t>(element_count(ctx.input_shapes[c.swap ? 0 : 1]));
    const auto ny = static_cast<std::size_t>(element_count(ctx.output_shapes[0]));
    for (int trial = 0; trial < 8; ++trial) {
      CAPTURE(trial);
      std::vector<double> alo(na), ahi(na), blo(nb), bhi(nb);
      for (std::size_t i = 0; i < na; ++i) {
        alo[i] = rng.next();
        ahi[i] = trial % 2 ? alo[i] : alo[i] + std::fabs(rng.next());
      }
      for (std::size_t i = 0; i < nb; ++i) {
        blo[i] = c.b_constant ? static_cast<double>(bw[i]) : c.same ? alo[i] : rng.next();
        bhi[i] = c.b_constant ? blo[i] : c.same ? ahi[i] : blo[i] + std::fabs(rng.next());
      }
      Cotangent out;
      out.reset(ny);
      for (std::size_t i = 0; i < ny; ++i) {
        const bool zero = rng.bits() % 3 == 0;  // outputs that do not reach c
        out.mid[i] = zero ? 0.0 : rng.next();
        out.rad[i] = zero ? 0.0 : std::fabs(rng.next());
      }
      out.reached = true;
      Cotangent ga, gb;
      ga.reset(na);
      gb.reset(nb);
      for (std::size_t i = 0; i < na; ++i) ga.mid[i] = trial % 3 ? rng.next() : 0.0, ga.rad[i] = trial % 3 ? std::fabs(rng.next()) : 0.0;
      Cotangent ga_ref = ga, gb_ref = gb;
      // Node input k (side k) is operand a or b.
      const TrajectoryBox box_a{alo.data(), ahi.data()}, box_b{blo.data(), bhi.data()};
      Cotangent* in_b = c.b_constant ? nullptr : c.same ? &ga : &gb;
      const TrajectoryBox boxes[2] = {c.swap ? box_b : box_a, c.swap ? box_a : box_b};
      Cotangent* ins[2] = {c.swap ? in_b : &ga, c.swap ? &ga : in_b};
      step->apply(boxes, out, ins);

      // The oracle: per output in order, both sides, the operator's secant slope (for Mul the
      // other side's box: a constant's box is its value).
      Cotangent* ref_b = c.b_constant ? nullptr : c.same ? &ga_ref : &gb_ref;
      Cotangent* refs[2] = {c.swap ? ref_b : &ga_ref, c.swap ? &ga_ref : ref_b};
      const std::vector<double>* lo_of[2] = {c.swap ? &blo : &alo, c.swap ? &alo : &blo};
      const std::vector<double>* hi_of[2] = {c.swap ? &bhi : &ahi, c.swap ? &ahi : &bhi};
      const std::size_t size_of[2] = {c.swap ? nb : na, c.swap ? na : nb};
      for (std::size_t o = 0; o < ny; ++o) {
        if (out.mid[o] == 0 && out.rad[o] == 0) continue;
        // Offsets of a broadcast operand of fewer elements: its innermost dimensions repeat.
        const std::size_t at[2] = {o % size_of[0], o % size_of[1]};
        for (int side = 0; side < 2; ++side) {
          if (!refs[side]) continue;
          double lo = 1, hi = 1;
          if (c.op == "Sub" && side == 1) lo = hi = -1;
          if (c.op == "Mul") {
            const int other = 1 - side;
            lo = (*lo_of[other])[at[other]];
            hi = (*hi_of[other])[at[other]];
          }
          add_scaled(out, static_cast<long>(o), lo, hi, *refs[side], static_cast<long>(at[side]), 1);
        }
      }
      test::check_same_cotangent(ga, ga_ref);
      test::check_same_cotangent(gb, gb_ref);
    }
  }
}
