// Backward steps of the elementwise operators and of the averaging reductions
// (theory/margin-bound-nonlinear.md §1–§3).
//
// Binary operators with numpy broadcasting: Add, Sub (slopes ±1), Mul (a·b − a'·b' =
// ½(b + b')Δa + ½(a + a')Δb, so each slope lies in the other operand's box), Div
// (a/b − a'/b' = Δa/b − a'Δb/(b·b'), finite while the divisor's box excludes 0) and Pow with a
// constant exponent 2 (x² − x'² = (x + x')Δx). A broadcast operand's cotangent is the sum over
// the outputs it feeds.
// Smooth unary functions (Erf, Tanh, Sigmoid, Exp, Sqrt, Reciprocal, Neg, HardSwish): f(x̂) −
// f(x̄) = ∫ f'(ξ) dξ / (x̂ − x̄) over the segment, so the secant slope lies in the range of f' over
// the box, enclosed here with outward rounding (the libm allowance of bounds::up_libm).
// ReduceMean and ReduceSum are linear: slope 1/n or 1 per reduced element.
#include <cmath>

#include "bounds/interval.h"
#include "bounds/transfer.h"
#include "core/ops/broadcast.h"
#include "core/ops/reduction_layout.h"
#include "shadow/margin/backward.h"

namespace fpaudit::margin {

namespace {

using bounds::Interval;

constexpr Interval kWhole{-INFINITY, INFINITY};

/// 1/[lo, hi] rounded outward; the whole line when the interval holds 0 (or is not finite).
Interval reciprocal(Interval b) {
  if (!(b.lo > 0 || b.hi < 0)) return kWhole;
  return {bounds::down(1.0 / b.hi), bounds::up(1.0 / b.lo)};
}

/// An operand's value as an interval: its trajectory box (runtime) or its exact constant.
struct Operand {
  const Constant* constant = nullptr;
  Interval at(const TrajectoryBox& box, std::int64_t i) const {
    if (constant) return Interval::point(constant->values[static_cast<std::size_t>(i)]);
    return {box.lo[i], box.hi[i]};
  }
};

enum class BinaryOp { Add, Sub, Mul, Div, Square };

class BinaryBackward : public BackwardStep {
 public:
  BinaryBackward(const OpContext& ctx, BinaryOp op)
      : op_(op), bc_({ctx.input_shapes[0], ctx.input_shapes[1]}, ctx.output_shapes[0]) {
    operands_[0].constant = ctx.const_inputs[0];
    operands_[1].constant = ctx.const_inputs[1];
    for (int side = 0; side < 2; ++side) dense_[side] = ctx.input_shapes[static_cast<std::size_t>(side)] == ctx.output_shapes[0];
  }
  void apply(std::span<const TrajectoryBox> boxes, const Cotangent& out, std::span<Cotangent* const> in) const override {
    if (!in[0] && !in[1]) return;
    const TrajectoryBox none{};
    const TrajectoryBox& ba = in[0] || !operands_[0].constant ? boxes[0] : none;
    const TrajectoryBox& bb = in[1] || !operands_[1].constant ? boxes[1] : none;
    // Add, Sub and Mul where every side that takes a cotangent has the output's shape (each of
    // its elements takes one output's term) and the two sides are different values: the slopes
    // first, then each side in lanes (add_scaled_slopes), the same bits as below.
    const bool lanes = (op_ == BinaryOp::Add || op_ == BinaryOp::Sub || op_ == BinaryOp::Mul) && in[0] != in[1] &&
                       (!in[0] || dense_[0]) && (!in[1] || dense_[1]);
    if (lanes) {
      thread_local std::vector<double> lo, hi;
      const std::size_t n = out.mid.size();
      lo.resize(n);
      hi.resize(n);
      for (int side = 0; side < 2; ++side) {
        if (!in[side]) continue;
        bc_.for_each([&](std::int64_t o, const std::int64_t* off) {
          const Interval s = slope(side, ba, bb, off);
          lo[static_cast<std::size_t>(o)] = s.lo;
          hi[static_cast<std::size_t>(o)] = s.hi;
        });
        Cotangent& g = *in[side];
        if (add_scaled_slopes(out.mid.data(), out.rad.data(), lo.data(), hi.data(), g.mid.data(), g.rad.data(), static_cast<long>(n)))
          g.reached = true;
      }
      return;
    }
    bc_.for_each([&](std::int64_t o, const std::int64_t* off) {
      if (out.mid[static_cast<std::size_t>(o)] == 0 && out.rad[static_cast<std::size_t>(o)] == 0) return;
      for (int side = 0; side < 2; ++side) {
        if (!in[side]) continue;
        const Interval s = slope(side, ba, bb, off);
        add_scaled(out, o, s.lo, s.hi, *in[side], off[side], 1);
      }
    });
  }

 private:
  Interval slope(int side, const TrajectoryBox& ba, const TrajectoryBox& bb, const std::int64_t* off) const {
    switch (op_) {
      case BinaryOp::Add: return Interval::point(1.0);
      case BinaryOp::Sub: return Interval::point(side == 0 ? 1.0 : -1.0);
      case BinaryOp::Mul: return side == 0 ? operands_[1].at(bb, off[1]) : operands_[0].at(ba, off[0]);
      case BinaryOp::Div: {
        const Interval inv = reciprocal(operands_[1].at(bb, off[1]));
        if (side == 0) return inv;
        // −a'/(b·b') with a' in a's box and b, b' in b's box: −a·(1/b)².
        if (inv.lo == -INFINITY) return kWhole;
        const Interval a = operands_[0].at(ba, off[0]);
        const Interval q = a * (inv * inv);
        return {-q.hi, -q.lo};
      }
      case BinaryOp::Square: {
        const Interval a = operands_[0].at(ba, off[0]);
        return {bounds::down(2 * a.lo), bounds::up(2 * a.hi)};
      }
    }
    return kWhole;
  }

  BinaryOp op_;
  ops::Broadcast bc_;
  Operand operands_[2];
  bool dense_[2] = {false, false};  ///< the side has the output's shape (no broadcast)
};

enum class UnaryFn { Erf, Tanh, Sigmoid, Exp, Sqrt, Reciprocal, Neg, HardSwish };

/// The range of f' over [lo, hi], rounded outward.
Interval derivative_range(UnaryFn f, double lo, double hi) {
  if (!(lo <= hi) || !std::isfinite(lo) || !std::isfinite(hi)) return kWhole;
  const Interval x{lo, hi};
  const double mig = x.mignitude(), mag = x.magnitude();
  switch (f) {
    case UnaryFn::Erf: {
      // (2/√π)·exp(−ξ²): largest at the point nearest 0, smallest at the farthest.
      const double k = 1.1283791670955126;  // 2/√π rounded; one ulp of room either way below
      const double top = bounds::up(bounds::up(k) * bounds::up_libm(std::exp(-bounds::down(mig * mig))));
      const double bottom = bounds::down(bounds::down(k) * bounds::down_libm(std::exp(-bounds::up(mag * mag))));
      return {bounds::max_num(0.0, bottom), top};
    }
    case UnaryFn::Tanh: {
      // 1 − tanh², decreasing in |ξ|.
      const double t_small = bounds::max_num(0.0, bounds::down_libm(std::tanh(mig)));
      const double t_large = bounds::min_num(1.0, bounds::up_libm(std::tanh(mag)));
      return {bounds::max_num(0.0, bounds::down(1.0 - bounds::up(t_large * t_large))), bounds::up(1.0 - bounds::down(t_small * t_small))};
    }
    case UnaryFn::Sigmoid: {
      // σ(ξ)·σ(−ξ) = e/(1 + e)² with e = exp(−|ξ|) ∈ (0, 1], increasing in e: largest at the
      // point nearest 0, smallest at the farthest.
      const double e_top = bounds::min_num(1.0, bounds::up_libm(std::exp(-mig)));
      const double e_bottom = bounds::max_num(0.0, bounds::down_libm(std::exp(-mag)));
      const double d_top = bounds::down(1.0 + e_top), d_bottom = bounds::up(1.0 + e_bottom);
      return {bounds::down(e_bottom / bounds::up(d_bottom * d_bottom)), bounds::min_num(0.25, bounds::up(e_top / bounds::down(d_top * d_top)))};
    }
    case UnaryFn::Exp:
      return {bounds::max_num(0.0, bounds::down_libm(std::exp(lo))), bounds::up_libm(std::exp(hi))};
    case UnaryFn::Sqrt:
      // 1/(√a + √b) ∈ [1/(2√hi), 1/(2√lo)] for lo > 0 (√ is correctly rounded).
      if (!(lo > 0)) return kWhole;
      return {bounds::down(1.0 / bounds::up(2 * bounds::up(std::sqrt(hi)))), bounds::up(1.0 / bounds::down(2 * bounds::down(std::sqrt(lo))))};
    case UnaryFn::Reciprocal: {
      // 1/a − 1/b = −(a − b)/(a·b).
      const Interval r = reciprocal(x);
      if (r.lo == -INFINITY) return kWhole;
      const Interval q = r * r;
      return {-q.hi, -q.lo};
    }
    case UnaryFn::Neg: return Interval::point(-1.0);
    case UnaryFn::HardSwish: {
      // x·clip(x + 3, 0, 6)/6: f' = 0 below −3, (2x + 3)/6 on [−3, 3], 1 above 3; the range over
      // the box is the hull of f' at its ends and the one-sided limits at the kinks inside.
      auto d = [](double v, bool upper) {
        if (v <= -3) return 0.0;
        if (v >= 3) return 1.0;
        const double q = (2 * v + 3) / 6;
        return upper ? bounds::up(bounds::up(q)) : bounds::down(bounds::down(q));
      };
      double a = bounds::min_num(d(lo, false), d(hi, false)), b = bounds::max_num(d(lo, true), d(hi, true));
      if (lo < -3 && hi > -3) a = bounds::min_num(a, -0.5), b = bounds::max_num(b, 0.0);
      if (lo < 3 && hi > 3) a = bounds::min_num(a, 1.0), b = bounds::max_num(b, 1.5);
      if (lo < -3 && hi > 3) a = bounds::min_num(a, -0.5), b = bounds::max_num(b, 1.5);
      return {a, b};
    }
  }
  return kWhole;
}

class UnaryBackward : public BackwardStep {
 public:
  explicit UnaryBackward(UnaryFn f) : f_(f) {}
  void apply(std::span<const TrajectoryBox> boxes, const Cotangent& out, std::span<Cotangent* const> in) const override {
    if (!in[0]) return;
    const TrajectoryBox& b = boxes[0];
    const long n = static_cast<long>(out.mid.size());
    for (long i = 0; i < n; ++i) {
      if (out.mid[static_cast<std::size_t>(i)] == 0 && out.rad[static_cast<std::size_t>(i)] == 0) continue;
      const Interval s = f_ == UnaryFn::Neg ? Interval::point(-1.0) : derivative_range(f_, b.lo[i], b.hi[i]);
      add_scaled(out, i, s.lo, s.hi, *in[0], i, 1);
    }
  }

 private:
  UnaryFn f_;
};

/// GELU'(x) = Φ(x) + x·φ(x) over the interval x, by interval arithmetic: Φ(x) = ½(1 + erf(x/√2))
/// with erf increasing, φ(x) = exp(−x²/2)/√(2π) with exp increasing; libm values outward by
/// 2^-49 (theory/margin-bound-nonlinear.md §2), the constants as one-ulp intervals.
Interval gelu_slope(Interval x) {
  const Interval inv_sqrt2{bounds::down(0.7071067811865476), bounds::up(0.7071067811865476)};
  const Interval inv_sqrt2pi{bounds::down(0.3989422804014327), bounds::up(0.3989422804014327)};
  const Interval a = x * inv_sqrt2;
  const Interval erf{bounds::max_num(-1.0, bounds::down_libm(std::erf(a.lo))), bounds::min_num(1.0, bounds::up_libm(std::erf(a.hi)))};
  const Interval cdf = (Interval::point(1.0) + erf) * Interval::point(0.5);
  // x²/2 over x: from the mignitude to the magnitude (exact halving, rounded squares).
  const double mig = x.mignitude(), mag = x.magnitude();
  const double sq_lo = bounds::down(mig * mig) * 0.5, sq_hi = bounds::up(mag * mag) * 0.5;
  const Interval density = Interval{bounds::max_num(0.0, bounds::down_libm(std::exp(-sq_hi))), bounds::min_num(1.0, bounds::up_libm(std::exp(-sq_lo)))} * inv_sqrt2pi;
  return cdf + x * density;
}

/// GELU (approximate = "none") as one operator: GELU''(x) = φ(x)(2 − x²), so GELU' increases on
/// [−√2, √2] and decreases outside; its range over [lo, hi] is the hull of its values at the ends
/// and at ±√2 where they lie inside. By the integral form (Lemma 0) the secant slope lies in it.
class GeluBackward : public BackwardStep {
 public:
  void apply(std::span<const TrajectoryBox> boxes, const Cotangent& out, std::span<Cotangent* const> in) const override {
    if (!in[0]) return;
    const TrajectoryBox& b = boxes[0];
    const Interval root2{bounds::down(1.4142135623730951), bounds::up(1.4142135623730951)};
    const long n = static_cast<long>(out.mid.size());
    for (long i = 0; i < n; ++i) {
      if (out.mid[static_cast<std::size_t>(i)] == 0 && out.rad[static_cast<std::size_t>(i)] == 0) continue;
      const double lo = b.lo[i], hi = b.hi[i];
      Interval s = kWhole;
      if (lo <= hi && std::isfinite(lo) && std::isfinite(hi)) {
        const Interval a = gelu_slope(Interval::point(lo)), c = gelu_slope(Interval::point(hi));
        s = {bounds::min_num(a.lo, c.lo), bounds::max_num(a.hi, c.hi)};
        for (const Interval k : {root2, Interval{-root2.hi, -root2.lo}})
          if (lo <= k.hi && hi >= k.lo) {
            const Interval e = gelu_slope(k);
            s = {bounds::min_num(s.lo, e.lo), bounds::max_num(s.hi, e.hi)};
          }
      }
      add_scaled(out, i, s.lo, s.hi, *in[0], i, 1);
    }
  }
};

/// ReduceMean (mean = true) and ReduceSum: output o is Σ_j x[bases[o] + terms[j]] (÷ n).
class ReduceBackward : public BackwardStep {
 public:
  ReduceBackward(const ops::Reduction& r, bool mean) : r_(r), mean_(mean) {}
  bool reads_boxes() const override { return false; }
  void apply(std::span<const TrajectoryBox>, const Cotangent& out, std::span<Cotangent* const> in) const override {
    if (!in[0]) return;
    const double n = static_cast<double>(r_.terms.size());
    const double q = mean_ ? 1.0 / n : 1.0;
    const double lo = mean_ ? bounds::down(q) : 1.0, hi = mean_ ? bounds::up(q) : 1.0;
    for (std::size_t o = 0; o < r_.bases.size(); ++o)
      for (std::int64_t t : r_.terms) add_scaled(out, static_cast<long>(o), lo, hi, *in[0], static_cast<long>(r_.bases[o] + t), 1);
  }

 private:
  ops::Reduction r_;
  bool mean_;
};

bool first_runtime(const OpContext& ctx) { return !ctx.const_inputs.empty() && !ctx.const_inputs[0]; }

}  // namespace

std::unique_ptr<BackwardStep> make_binary_backward(const OpContext& ctx) {
  if (ctx.const_inputs.size() != 2) return nullptr;
  const std::string& t = ctx.node.op_type;
  if (t == "Pow") {
    // Only x² (a constant exponent of exactly 2): what decomposed normalisations export.
    const Constant* e = ctx.const_inputs[1];
    if (!first_runtime(ctx) || !e || e->values.size() != 1 || e->values[0] != 2.0) return nullptr;
    return std::make_unique<BinaryBackward>(ctx, BinaryOp::Square);
  }
  const BinaryOp op = t == "Add" ? BinaryOp::Add : t == "Sub" ? BinaryOp::Sub : t == "Mul" ? BinaryOp::Mul : BinaryOp::Div;
  for (int i = 0; i < 2; ++i)
    if (ctx.const_inputs[i] && ctx.const_inputs[i]->values.size() != static_cast<std::size_t>(element_count(ctx.input_shapes[i])))
      return nullptr;  // an integer constant: not a float operand
  return std::make_unique<BinaryBackward>(ctx, op);
}

std::unique_ptr<BackwardStep> make_unary_backward(const OpContext& ctx) {
  if (!first_runtime(ctx)) return nullptr;
  const std::string& t = ctx.node.op_type;
  const UnaryFn f = t == "Erf" ? UnaryFn::Erf
                    : t == "Tanh" ? UnaryFn::Tanh
                    : t == "Sigmoid" ? UnaryFn::Sigmoid
                    : t == "Exp" ? UnaryFn::Exp
                    : t == "Sqrt" ? UnaryFn::Sqrt
                    : t == "Reciprocal" ? UnaryFn::Reciprocal
                    : t == "Neg" ? UnaryFn::Neg
                                 : UnaryFn::HardSwish;
  return std::make_unique<UnaryBackward>(f);
}

std::unique_ptr<BackwardStep> make_gelu_backward(const OpContext& ctx) {
  // The tanh approximation has another derivative; no step (nothing is guessed).
  if (!first_runtime(ctx) || ctx.node.attr_string("approximate", "none") != "none") return nullptr;
  return std::make_unique<GeluBackward>();
}

std::unique_ptr<BackwardStep> make_reduce_backward(const OpContext& ctx) {
  if (!first_runtime(ctx)) return nullptr;
  std::vector<std::size_t> prep;
  bool noop = false;
  const std::vector<bool> reduced = ops::reduced_axes(ctx, prep, noop);
  std::vector<bool> none(ctx.input_shapes[0].size(), false);
  return std::make_unique<ReduceBackward>(ops::Reduction(ctx.input_shapes[0], noop ? none : reduced),
                                          ctx.node.op_type == "ReduceMean");
}

}  // namespace fpaudit::margin
