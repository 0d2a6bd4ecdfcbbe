// The backward steps of ReLU and MaxPool in vector lanes against the per-unit calls they replace.
//
// ReLU's backward step on whole tensors (margin::add_relu, vectorised) against the per-unit calls
// it replaces (add_exact where the box fixes slope 1, nothing where it fixes 0, add_unit_slope_hull
// elsewhere), bit for bit (a NaN's sign aside: test::same_bits_or_nan): the accumulated midpoints
// and radii and whether the input is reached, on boxes of every kind (stable on either side,
// straddling, touching 0, NaN bounds) and cotangents and earlier accumulations over the whole
// binary64 range with the special values. MaxPool's the same way: its lanes kernel on 2×2
// windows, and the whole step on every window geometry (2×2 stride 2, which takes the lanes;
// overlapping, padded and ceil_mode windows, which must not).
#include <cmath>
#include <cstdint>
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

/// The step as ReluBackward took it unit by unit before add_relu.
void per_unit(const std::vector<double>& lo, const std::vector<double>& hi, const Cotangent& g, Cotangent& in) {
  for (long i = 0; i < static_cast<long>(lo.size()); ++i) {
    const auto k = static_cast<std::size_t>(i);
    if (lo[k] >= 0)
      add_exact(g, i, in, i);
    else if (!(hi[k] <= 0))
      add_unit_slope_hull(g, i, in, i);
  }
}

}  // namespace

TEST_CASE("ReLU backward in lanes = unit by unit, bit for bit") {
  test::WideValues rng{91};
  const long widths[] = {1, 3, 8, 15, 16, 64, 129, 1000};
  int reached = 0, not_reached = 0;
  for (int trial = 0; trial < 40; ++trial)
    for (long n : widths) {
      CAPTURE(trial);
      CAPTURE(n);
      std::vector<double> lo(static_cast<std::size_t>(n)), hi(lo.size());
      Cotangent g, in_lanes, in_units;
      g.reset(lo.size());
      in_lanes.reset(lo.size());
      for (std::size_t i = 0; i < lo.size(); ++i) {
        // Boxes: trial 0 all stable negative (nothing added, the input not reached), else a mix.
        const double a = rng.next(), b = rng.next();
        const std::uint64_t kind = trial == 0 ? 0 : rng.bits() % 5;
        if (kind == 0) {
          lo[i] = -std::fabs(a) - 1;
          hi[i] = trial % 2 ? -0.0 : -std::fabs(b);
        } else if (kind == 1) {
          lo[i] = std::fabs(a);
          hi[i] = lo[i] + std::fabs(b);
        } else if (kind == 2) {
          lo[i] = -std::fabs(a);
          hi[i] = std::fabs(b);
        } else {
          lo[i] = a;  // anything, NaN and ±0 included
          hi[i] = b;
        }
        g.mid[i] = rng.next();
        g.rad[i] = std::fabs(rng.next());
        // An earlier consumer's accumulation (sometimes none).
        in_lanes.mid[i] = trial % 3 ? rng.next() : 0.0;
        in_lanes.rad[i] = trial % 3 ? std::fabs(rng.next()) : 0.0;
      }
      g.reached = true;
      in_units = in_lanes;
      add_relu(lo.data(), hi.data(), g, in_lanes);
      per_unit(lo, hi, g, in_units);
      test::check_same_cotangent(in_lanes, in_units);
      (in_units.reached ? reached : not_reached) += 1;
    }
  // Both outcomes of `reached` occur.
  CHECK(reached > 0);
  CHECK(not_reached > 0);
}

namespace {

/// MaxPool's step for one output y whose window holds the input units `taps` (in tap order,
/// padding left out), as MaxPoolBackward took it before the lanes: the floor max lo, the
/// candidates hi ≥ floor in tap order, add_exact for a single one and add_unit_slope_hull for
/// each otherwise. Returns the number of candidates.
template <class Index>
long window_per_unit(const std::vector<Index>& taps, long y, const std::vector<double>& lo, const std::vector<double>& hi,
                     const Cotangent& g, Cotangent& in) {
  double floor = -INFINITY;
  for (Index t : taps) floor = bounds::max_num(floor, lo[static_cast<std::size_t>(t)]);
  long count = 0, first = 0;
  for (Index t : taps)
    if (hi[static_cast<std::size_t>(t)] >= floor && count++ == 0) first = t;
  if (count == 1) {
    add_exact(g, y, in, first);
    return count;
  }
  for (Index t : taps)
    if (hi[static_cast<std::size_t>(t)] >= floor) add_unit_slope_hull(g, y, in, t);
  return count;
}

}  // namespace

TEST_CASE("MaxPool backward in lanes (disjoint windows of 4) = unit by unit, bit for bit") {
  test::WideValues rng{33};
  int reached = 0, not_reached = 0, single = 0, several = 0;
  for (int trial = 0; trial < 60; ++trial) {
    CAPTURE(trial);
    // A plane of 2h × 2w units pooled 2×2 with stride 2: output (i, j) reads rows 2i, 2i+1 and
    // columns 2j, 2j+1 in that order (the tap order of a Windows table).
    const long h = 1 + static_cast<long>(rng.bits() % 5), w = 1 + static_cast<long>(rng.bits() % 9);
    const long P = h * w, n = 4 * P;
    std::vector<std::int32_t> tap;
    for (long i = 0; i < h; ++i)
      for (long j = 0; j < w; ++j)
        for (long di = 0; di < 2; ++di)
          for (long dj = 0; dj < 2; ++dj) tap.push_back(static_cast<std::int32_t>((2 * i + di) * 2 * w + 2 * j + dj));
    std::vector<double> lo(static_cast<std::size_t>(n)), hi(lo.size());
    for (std::size_t i = 0; i < lo.size(); ++i) {
      const std::uint64_t kind = trial == 0 ? 4 : rng.bits() % 4;
      // Narrow boxes (one candidate), equal boxes (ties), wide ones (several), anything (NaN).
      const double a = kind == 3 ? rng.next() : std::ldexp(1.0 + static_cast<double>(rng.bits() % 8), -2);
      lo[i] = a;
      hi[i] = kind == 0 ? a : kind == 1 ? a + 0.25 : kind == 2 ? a + 4 : kind == 3 ? rng.next() : NAN;
    }
    Cotangent g, lanes, units;
    g.reset(static_cast<std::size_t>(P));
    lanes.reset(lo.size());
    for (std::size_t i = 0; i < g.mid.size(); ++i) {
      g.mid[i] = rng.next();
      g.rad[i] = std::fabs(rng.next());
    }
    for (std::size_t i = 0; i < lanes.mid.size(); ++i) {
      lanes.mid[i] = trial % 3 ? rng.next() : 0.0;
      lanes.rad[i] = trial % 3 ? std::fabs(rng.next()) : 0.0;
    }
    units = lanes;
    std::vector<double> next(static_cast<std::size_t>(2 * n));
    if (add_max_pool4(tap.data(), P, lo.data(), hi.data(), g.mid.data(), g.rad.data(), lanes.mid.data(), lanes.rad.data(), next.data(),
                      next.data() + n))
      lanes.reached = true;
    for (long e = 0; e < n; ++e) {
      lanes.mid[static_cast<std::size_t>(tap[static_cast<std::size_t>(e)])] = next[static_cast<std::size_t>(e)];
      lanes.rad[static_cast<std::size_t>(tap[static_cast<std::size_t>(e)])] = next[static_cast<std::size_t>(n + e)];
    }
    for (long p = 0; p < P; ++p) {
      const long count = window_per_unit(std::vector<std::int32_t>(tap.begin() + 4 * p, tap.begin() + 4 * p + 4), p, lo, hi, g, units);
      single += count == 1;
      several += count > 1;
    }
    test::check_same_cotangent(lanes, units);
    (units.reached ? reached : not_reached) += 1;
  }
  // Every path is taken: one candidate, several, none (NaN boxes: the input not reached).
  CHECK(reached > 0);
  CHECK(not_reached > 0);
  CHECK(single > 50);
  CHECK(several > 50);
}

namespace {

struct PoolCase {
  std::vector<std::int64_t> input, kernel, strides, pads;
  std::int64_t ceil_mode = 0;
};

}  // namespace

TEST_CASE("MaxPool backward step = unit by unit on every window geometry, bit for bit") {
  // 2×2 stride 2 (the lanes); windows of 9, 3, 3 and 1 taps (ceil_mode: 16 taps for 4 outputs,
  // which the lanes must not regroup by four); padded windows; overlapping 3×3 stride 2; 1-D.
  const PoolCase cases[] = {
      {{1, 3, 6, 8}, {2, 2}, {2, 2}, {0, 0, 0, 0}, 0}, {{1, 1, 4, 4}, {3, 3}, {3, 3}, {0, 0, 0, 0}, 1},
      {{1, 2, 4, 8}, {1, 5}, {1, 5}, {0, 2, 0, 2}, 0}, {{1, 2, 7, 7}, {3, 3}, {2, 2}, {1, 1, 1, 1}, 0},
      {{1, 2, 8}, {5}, {5}, {0, 0}, 1},                {{2, 1, 5, 5}, {2, 2}, {2, 2}, {0, 0, 0, 0}, 1},
  };
  test::WideValues rng{8};
  for (const PoolCase& c : cases) {
    CAPTURE(c.input.size());
    CAPTURE(c.kernel[0]);
    CAPTURE(c.ceil_mode);
    test::ModelBuilder mb;
    mb.input("x", test::kFloat, c.input);
    auto& node = mb.node("MaxPool", {"x"}, {"y"});
    test::set_attr(node, "kernel_shape", c.kernel);
    test::set_attr(node, "strides", c.strides);
    test::set_attr(node, "pads", c.pads);
    test::set_attr(node, "ceil_mode", c.ceil_mode);
    mb.output("y");
    Graph g = mb.parse();
    infer_shapes(g, std::vector<Shape>{Shape(c.input.begin(), c.input.end())});
    const OpContext ctx = context_of(g, g.nodes.at(0));
    const std::unique_ptr<BackwardStep> step = make_backward_step(ctx);
    REQUIRE(step);
    const Shape& in_shape = ctx.input_shapes[0];
    const Shape& out_shape = ctx.output_shapes[0];
    const std::size_t rank = in_shape.size() - 2;
    const long planes = in_shape[0] * in_shape[1];
    long in_plane = 1, out_plane = 1;
    for (std::size_t d = 0; d < rank; ++d) in_plane *= in_shape[2 + d], out_plane *= out_shape[2 + d];
    for (int trial = 0; trial < 10; ++trial) {
      CAPTURE(trial);
      const auto n = static_cast<std::size_t>(planes * in_plane);
      std::vector<double> lo(n), hi(n);
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t kind = rng.bits() % 4;
        const double a = kind == 3 ? rng.next() : std::ldexp(1.0 + static_cast<double>(rng.bits() % 8), -2);
        lo[i] = a;
        hi[i] = kind == 0 ? a : kind == 1 ? a + 0.25 : kind == 2 ? a + 4 : rng.next();
      }
      Cotangent out, step_in, units;
      out.reset(static_cast<std::size_t>(planes * out_plane));
      for (std::size_t i = 0; i < out.mid.size(); ++i) {
        out.mid[i] = rng.next();
        out.rad[i] = std::fabs(rng.next());
      }
      out.reached = true;
      step_in.reset(n);
      units.reset(n);
      const TrajectoryBox box{lo.data(), hi.data()};
      Cotangent* ins[1] = {&step_in};
      step->apply(std::span<const TrajectoryBox>(&box, 1), out, ins);

      // The oracle: outputs in row-major order, each window's taps in kernel order, those inside
      // the input (padding left out).
      for (long plane = 0; plane < planes; ++plane)
        for (long p = 0; p < out_plane; ++p) {
          std::vector<long> taps;
          std::vector<long> o(rank), k(rank, 0);
          long rest = p;
          for (std::size_t d = rank; d-- > 0;) o[d] = rest % out_shape[2 + d], rest /= out_shape[2 + d];
          for (bool more = true; more;) {
            long at = 0;
            bool inside = true;
            for (std::size_t d = 0; d < rank; ++d) {
              const long q = o[d] * c.strides[d] - c.pads[d] + k[d];
              inside = inside && q >= 0 && q < in_shape[2 + d];
              at = at * in_shape[2 + d] + q;
            }
            if (inside) taps.push_back(plane * in_plane + at);
            more = false;
            for (std::size_t d = rank; d-- > 0;) {
              if (++k[d] < c.kernel[d]) {
                more = true;
                break;
              }
              k[d] = 0;
            }
          }
          window_per_unit(taps, plane * out_plane + p, lo, hi, out, units);
        }
      test::check_same_cotangent(step_in, units);
    }
  }
}
