// Backward steps of the layers that select, average or move values: ReLU and LeakyRelu, MaxPool,
// AveragePool, GlobalAveragePool, and the pure data movements (Flatten, Reshape, ...).
//
// ReLU (theory/margin-bound.md §4): relu(a) − relu(b) = s·(a − b) with s = 1 when a, b ≥ 0,
// s = 0 when a, b ≤ 0, and s ∈ [0, 1] otherwise. With a and b in the box [lo, hi], a unit is
// stable when lo ≥ 0 or hi ≤ 0; only an unstable unit takes the interval slope.
// MaxPool (§5): max(a) − max(b) lies between a_i − b_i and a_k − b_k for the argmaxes i of a and
// k of b, so it is a convex combination of the entries of a − b at the window positions that can
// hold a maximum, those with hi ≥ max over the window of lo. One such position: slope exactly 1.
#include <cmath>

#include "bounds/transfer.h"
#include "core/ops/window.h"
#include "shadow/margin/backward.h"

namespace fpaudit::margin {

namespace {

class ReluBackward : public BackwardStep {
 public:
  explicit ReluBackward(double negative_slope) : alpha_(negative_slope) {}
  void apply(std::span<const TrajectoryBox> boxes, const Cotangent& out, std::span<Cotangent* const> in) const override {
    if (!in[0]) return;
    const TrajectoryBox& b = boxes[0];
    const long n = static_cast<long>(out.mid.size());
    if (alpha_ == 0) {
      add_relu(b.lo, b.hi, out, *in[0]);
      return;
    }
    for (long i = 0; i < n; ++i) {
      if (b.lo[i] >= 0) {
        add_exact(out, i, *in[0], i);
      } else if (b.hi[i] <= 0) {
        add_scaled(out, i, alpha_, alpha_, *in[0], i, 1);
      } else {
        // Secant slope in [min(α, 1), max(α, 1)].
        add_scaled(out, i, bounds::min_num(alpha_, 1.0), bounds::max_num(alpha_, 1.0), *in[0], i, 1);
      }
    }
  }

  bool carries_terms() const override { return true; }
  /// Off (hi ≤ 0): the error times α, on (lo ≥ 0): itself, both with fixed slopes; a unit that
  /// straddles 0 has |e'| ≤ max(1, |α|)·|e|, charged at its bound (a where v = 0, else e_in).
  void carry_terms(const CarryIn& c, const std::vector<double>& v, const std::vector<double>& a, std::vector<double>& v_out,
                   std::vector<double>& a_out) const override {
    const double s = bounds::max_num(1.0, std::fabs(alpha_)), a2 = bounds::up(alpha_ * alpha_);
    v_out.resize(v.size());
    a_out.resize(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (c.lo[i] >= 0) {
        v_out[i] = v[i];
        a_out[i] = a[i];
      } else if (c.hi[i] <= 0) {
        v_out[i] = alpha_ == 0 ? 0.0 : bounds::up(a2 * v[i]);
        a_out[i] = alpha_ == 0 ? 0.0 : bounds::up(std::fabs(alpha_) * a[i]);
      } else {
        v_out[i] = 0;
        const double e = v[i] == 0 ? bounds::min_num(a[i], c.e_in[i]) : c.e_in[i];
        a_out[i] = s == 1 ? e : bounds::up(s * e);  // ReLU: |e'| ≤ |e| exactly
      }
    }
  }

 private:
  double alpha_;
};

/// The windows of MaxPool and AveragePool over one plane, from the kernels' tap table.
struct Windows {
  std::vector<std::int32_t> table;  ///< [tap · out_plane + p]: input offset or kPadding
  long taps = 0, in_plane = 0, out_plane = 0, planes = 0;
  std::vector<double> divisor;      ///< AveragePool: per output position
};

Windows read_windows(const OpContext& ctx, bool count_padding) {
  const std::vector<std::int64_t> kernel = ctx.node.attr_ints("kernel_shape", {});
  const ops::Window w = ops::read_conv_window(ctx, kernel);
  Windows r;
  r.table = ops::forward_taps(ctx, w);
  r.taps = w.taps();
  r.in_plane = w.in_plane();
  r.out_plane = w.out_plane();
  r.planes = ctx.input_shapes[0][0] * ctx.input_shapes[0][1];
  std::vector<std::int64_t> o(w.rank(), 0);
  for (long p = 0; p < r.out_plane; ++p) {
    double inside = 0;
    for (long t = 0; t < r.taps; ++t) inside += r.table[static_cast<std::size_t>(t * r.out_plane + p)] != ops::kPadding;
    double padded = 1;  // the taps inside the padded input along each axis (count_include_pad)
    for (std::size_t i = 0; i < w.rank(); ++i) {
      std::int64_t k = 0;
      for (std::int64_t t = 0; t < w.kernel[i]; ++t) {
        const std::int64_t q = o[i] * w.strides[i] - w.pad_begin[i] + t * w.dilations[i];
        k += q >= -w.pad_begin[i] && q < w.in[i] + w.pad_end[i];
      }
      padded *= static_cast<double>(k);
    }
    r.divisor.push_back(count_padding ? padded : inside);
    for (std::size_t i = w.rank(); i-- > 0;) {
      if (++o[i] < w.out[i]) break;
      o[i] = 0;
    }
  }
  return r;
}

class MaxPoolBackward : public BackwardStep {
 public:
  explicit MaxPoolBackward(const OpContext& ctx) : w_(read_windows(ctx, false)) {
    // The taps of each output together, padding left out: [p] holds taps_of_[first_[p] ..
    // first_[p + 1]), in tap order.
    const long P = w_.out_plane;
    first_.push_back(0);
    for (long p = 0; p < P; ++p) {
      for (long t = 0; t < w_.taps; ++t)
        if (const std::int32_t s = w_.table[static_cast<std::size_t>(t * P + p)]; s != ops::kPadding) taps_of_.push_back(s);
      first_.push_back(static_cast<std::int32_t>(taps_of_.size()));
    }
    // Every output's window of exactly 4 taps, no input shared by two outputs (2×2 with stride 2,
    // no padding): the lanes. Counted per output: with ceil_mode or padding, windows of 9, 3, 3
    // and 1 taps also add up to 4 per output, and the lanes would regroup them.
    std::vector<char> seen(static_cast<std::size_t>(w_.in_plane), 0);
    disjoint4_ = true;
    for (long p = 0; p < P; ++p) disjoint4_ = disjoint4_ && first_[static_cast<std::size_t>(p) + 1] - first_[static_cast<std::size_t>(p)] == 4;
    for (std::int32_t t : taps_of_) {
      disjoint4_ = disjoint4_ && !seen[static_cast<std::size_t>(t)];
      seen[static_cast<std::size_t>(t)] = 1;
    }
  }
  void apply(std::span<const TrajectoryBox> boxes, const Cotangent& out, std::span<Cotangent* const> in) const override {
    if (!in[0]) return;
    const TrajectoryBox& b = boxes[0];
    const long P = w_.out_plane;
    if (disjoint4_) {
      thread_local std::vector<double> next;
      next.resize(static_cast<std::size_t>(8 * P));
      Cotangent& g = *in[0];
      for (long plane = 0; plane < w_.planes; ++plane) {
        const long xb = plane * w_.in_plane, yb = plane * P;
        double *im = g.mid.data() + xb, *ir = g.rad.data() + xb;
        if (add_max_pool4(taps_of_.data(), P, b.lo + xb, b.hi + xb, out.mid.data() + yb, out.rad.data() + yb, im, ir, next.data(),
                          next.data() + 4 * P))
          g.reached = true;
        for (long e = 0; e < 4 * P; ++e) {
          im[taps_of_[static_cast<std::size_t>(e)]] = next[static_cast<std::size_t>(e)];
          ir[taps_of_[static_cast<std::size_t>(e)]] = next[static_cast<std::size_t>(4 * P + e)];
        }
      }
      return;
    }
    for (long plane = 0; plane < w_.planes; ++plane) {
      const long xb = plane * w_.in_plane, yb = plane * P;
      const double *lo = b.lo + xb, *hi = b.hi + xb;
      for (long p = 0; p < P; ++p) {
        const std::int32_t* tap = taps_of_.data() + first_[static_cast<std::size_t>(p)];
        const long taps = first_[static_cast<std::size_t>(p) + 1] - first_[static_cast<std::size_t>(p)];
        double floor = -INFINITY;  // max over the window of lo: no maximum lies below it
        for (long t = 0; t < taps; ++t) floor = bounds::max_num(floor, lo[tap[t]]);
        // The candidates, in tap order: one alone takes the slope 1 exactly.
        long count = 0, first = 0;
        for (long t = 0; t < taps; ++t) {
          const bool candidate = hi[tap[t]] >= floor;
          first = count == 0 && candidate ? tap[t] : first;
          count += candidate;
        }
        if (count == 1) {
          add_exact(out, yb + p, *in[0], xb + first);
          continue;
        }
        for (long t = 0; t < taps; ++t)
          if (hi[tap[t]] >= floor) add_unit_slope_hull(out, yb + p, *in[0], xb + tap[t]);
      }
    }
  }

  bool carries_terms() const override { return true; }
  /// One candidate: the output is that input in both networks. Several: the difference of the
  /// maxima lies in the hull of the candidates' differences (§5 of theory/margin-bound.md), charged
  /// at their bounds. An input selected by k windows enters k outputs: v·k (Cauchy–Schwarz).
  void carry_terms(const CarryIn& c, const std::vector<double>& v, const std::vector<double>& a, std::vector<double>& v_out,
                   std::vector<double>& a_out) const override {
    const long P = w_.out_plane;
    v_out.assign(static_cast<std::size_t>(w_.planes * P), 0.0);
    a_out.assign(v_out.size(), 0.0);
    thread_local std::vector<std::int32_t> selected, uses;
    selected.assign(v_out.size(), -1);
    uses.assign(v.size(), 0);
    for (long plane = 0; plane < w_.planes; ++plane) {
      const long xb = plane * w_.in_plane, yb = plane * P;
      for (long p = 0; p < P; ++p) {
        const std::int32_t* tap = taps_of_.data() + first_[static_cast<std::size_t>(p)];
        const long taps = first_[static_cast<std::size_t>(p) + 1] - first_[static_cast<std::size_t>(p)];
        double floor = -INFINITY;
        for (long t = 0; t < taps; ++t) floor = bounds::max_num(floor, c.lo[xb + tap[t]]);
        long count = 0, first = 0;
        double worst = 0;
        for (long t = 0; t < taps; ++t) {
          const long j = xb + tap[t];
          if (!(c.hi[j] >= floor)) continue;
          first = count == 0 ? j : first;
          ++count;
          worst = bounds::max_num(worst, v[static_cast<std::size_t>(j)] == 0 ? a[static_cast<std::size_t>(j)] : c.e_in[j]);
        }
        const std::size_t o = static_cast<std::size_t>(yb + p);
        if (count == 1) {
          selected[o] = static_cast<std::int32_t>(first);
          ++uses[static_cast<std::size_t>(first)];
          a_out[o] = a[static_cast<std::size_t>(first)];
        } else {
          a_out[o] = count == 0 ? INFINITY : worst;  // no candidate: a NaN box
        }
      }
    }
    for (std::size_t o = 0; o < v_out.size(); ++o)
      if (selected[o] >= 0) {
        const std::size_t j = static_cast<std::size_t>(selected[o]);
        v_out[o] = uses[j] == 1 ? v[j] : bounds::up(static_cast<double>(uses[j]) * v[j]);
      }
  }

 private:
  Windows w_;
  std::vector<std::int32_t> taps_of_, first_;
  bool disjoint4_ = false;
};

class AveragePoolBackward : public BackwardStep {
 public:
  AveragePoolBackward(const OpContext& ctx, bool global) {
    if (global) {
      const Shape& x = ctx.input_shapes[0];
      w_.planes = x[0] * x[1];
      w_.in_plane = 1;
      for (std::size_t i = 2; i < x.size(); ++i) w_.in_plane *= x[i];
      w_.out_plane = 1;
      w_.taps = w_.in_plane;
      for (long t = 0; t < w_.taps; ++t) w_.table.push_back(static_cast<std::int32_t>(t));
      w_.divisor.push_back(static_cast<double>(w_.in_plane));
    } else {
      w_ = read_windows(ctx, ctx.node.attr_int("count_include_pad", 0) != 0);
    }
  }
  bool reads_boxes() const override { return false; }
  void apply(std::span<const TrajectoryBox>, const Cotangent& out, std::span<Cotangent* const> in) const override {
    if (!in[0]) return;
    for (long plane = 0; plane < w_.planes; ++plane) {
      const long xb = plane * w_.in_plane, yb = plane * w_.out_plane;
      for (long p = 0; p < w_.out_plane; ++p) {
        // 1/divisor, a real number: the correctly rounded quotient, one step outward.
        const double q = 1.0 / w_.divisor[static_cast<std::size_t>(p)];
        for (long t = 0; t < w_.taps; ++t)
          if (const std::int32_t s = w_.table[static_cast<std::size_t>(t * w_.out_plane + p)]; s != ops::kPadding)
            add_scaled(out, yb + p, bounds::down(q), bounds::up(q), *in[0], xb + s, 1);
      }
    }
  }

  bool carries_terms() const override { return true; }
  bool carry_rounds() const override { return true; }
  /// The output is (1/n)·Σ of its window plus the pool's own rounding (`local`): v weighted by
  /// (1/n)², a by 1/n; an input in k windows enters k outputs: v·k (Cauchy–Schwarz).
  void carry_terms(const CarryIn& c, const std::vector<double>& v, const std::vector<double>& a, std::vector<double>& v_out,
                   std::vector<double>& a_out) const override {
    const long P = w_.out_plane;
    thread_local std::vector<std::int32_t> uses;
    uses.assign(static_cast<std::size_t>(w_.in_plane), 0);
    for (long p = 0; p < P; ++p)
      for (long t = 0; t < w_.taps; ++t)
        if (const std::int32_t s = w_.table[static_cast<std::size_t>(t * P + p)]; s != ops::kPadding) ++uses[static_cast<std::size_t>(s)];
    v_out.assign(static_cast<std::size_t>(w_.planes * P), 0.0);
    a_out.assign(v_out.size(), 0.0);
    for (long plane = 0; plane < w_.planes; ++plane) {
      const long xb = plane * w_.in_plane, yb = plane * P;
      for (long p = 0; p < P; ++p) {
        const double q = bounds::up(1.0 / w_.divisor[static_cast<std::size_t>(p)]), q2 = bounds::up(q * q);
        double sv = 0, sa = 0;
        long n = 0;
        for (long t = 0; t < w_.taps; ++t)
          if (const std::int32_t s = w_.table[static_cast<std::size_t>(t * P + p)]; s != ops::kPadding) {
            sv += static_cast<double>(uses[static_cast<std::size_t>(s)]) * v[static_cast<std::size_t>(xb + s)];
            sa += a[static_cast<std::size_t>(xb + s)];
            ++n;
          }
        // Sums of nonnegative terms (one product each for sv), finished by safe_sum.
        const std::size_t o = static_cast<std::size_t>(yb + p);
        v_out[o] = bounds::nan_to_inf(bounds::up(q2 * bounds::safe_sum(sv, n + 2, n)));
        a_out[o] = bounds::nan_to_inf(bounds::up(bounds::up(q * bounds::safe_sum(sa, n + 2, 0)) + c.local[o]));
      }
    }
  }

 private:
  Windows w_;
};

/// Flatten, Reshape, Identity, Dropout (inference), Squeeze, Unsqueeze: the same elements in
/// the same row-major order, so the Jacobian is the identity.
class CopyBackward : public BackwardStep {
 public:
  bool reads_boxes() const override { return false; }
  void apply(std::span<const TrajectoryBox>, const Cotangent& out, std::span<Cotangent* const> in) const override {
    if (!in[0]) return;
    for (long i = 0; i < static_cast<long>(out.mid.size()); ++i) add_exact(out, i, *in[0], i);
  }
  bool carries_terms() const override { return true; }
  /// The same elements in the same order: the terms unchanged.
  void carry_terms(const CarryIn&, const std::vector<double>& v, const std::vector<double>& a, std::vector<double>& v_out,
                   std::vector<double>& a_out) const override {
    v_out = v;
    a_out = a;
  }
};

bool runtime_input_only(const OpContext& ctx) { return !ctx.const_inputs.empty() && !ctx.const_inputs[0]; }

}  // namespace

std::unique_ptr<BackwardStep> make_relu_backward(const OpContext& ctx) {
  if (!runtime_input_only(ctx)) return nullptr;
  return std::make_unique<ReluBackward>(ctx.node.op_type == "LeakyRelu" ? ctx.node.attr_float("alpha", 0.01) : 0.0);
}

std::unique_ptr<BackwardStep> make_max_pool_backward(const OpContext& ctx) {
  if (!runtime_input_only(ctx) || ctx.node.attr_ints("kernel_shape", {}).empty()) return nullptr;
  return std::make_unique<MaxPoolBackward>(ctx);
}

std::unique_ptr<BackwardStep> make_average_pool_backward(const OpContext& ctx) {
  const bool global = ctx.node.op_type == "GlobalAveragePool";
  if (!runtime_input_only(ctx) || (!global && ctx.node.attr_ints("kernel_shape", {}).empty())) return nullptr;
  return std::make_unique<AveragePoolBackward>(ctx, global);
}

std::unique_ptr<BackwardStep> make_copy_backward(const OpContext& ctx) {
  if (!runtime_input_only(ctx)) return nullptr;
  return std::make_unique<CopyBackward>();
}

}  // namespace fpaudit::margin
