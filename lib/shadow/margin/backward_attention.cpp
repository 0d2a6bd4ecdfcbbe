// Backward steps of attention's operators (theory/margin-bound-nonlinear.md §5–§6).
//
// MatMul C = A·B (numpy batch broadcasting; either operand constant or run-time). With both
// run-time, AB − A'B' = ΔA·½(B + B') + ½(A + A')·ΔB: the secant Jacobian multiplies by an
// operand *somewhere in its box*, so g_A = g·Bᵀ and g_B = Aᵀ·g are interval matrix products
// over the boxes. The bilinear term ΔA·ΔB is inside them: it is what the boxes' widths cost.
// A constant operand is exact (the model's value).
//
// Softmax along an axis: softmax(x̂) − softmax(x̄) = ∫ J(ξ) dξ·(x̂ − x̄) over the segment, with
// J = diag(p) − p·pᵀ symmetric, so gJ = p ∘ (g − ⟨g, p⟩). Over the box each p_i lies in
// [e^{lo_i}/(e^{lo_i} + Σ_{k≠i} e^{hi_k}), e^{hi_i}/(e^{hi_i} + Σ_{k≠i} e^{lo_k})]; the step
// evaluates p ∘ (g − ⟨g, p⟩) in interval arithmetic over those ranges.
#include <algorithm>
#include <cmath>

#include "bounds/interval.h"
#include "bounds/transfer.h"
#include "core/ops/broadcast.h"
#include "core/ops/softmax.h"
#include "shadow/margin/backward.h"
#include "shadow/margin/rounding.h"

namespace fpaudit::margin {

namespace {

/// [lo, hi] ⊆ [m ± r]: m rounded, r rounded up.
void midpoint_radius(double lo, double hi, double& m, double& r) {
  m = 0.5 * lo + 0.5 * hi;
  r = bounds::up(bounds::max_num(m - lo, hi - m));
  if (!std::isfinite(m) || !std::isfinite(r)) m = 0, r = INFINITY;
}

/// One operand of a MatMul as midpoint–radius matrices (radius 0 for a constant).
struct IntervalMatrix {
  std::vector<double> mid, rad;
  void load(const TrajectoryBox& box, const Constant* c, std::size_t n) {
    mid.resize(n);
    rad.assign(n, 0.0);
    if (c) {
      mid = c->values;
      return;
    }
    for (std::size_t i = 0; i < n; ++i) midpoint_radius(box.lo[i], box.hi[i], mid[i], rad[i]);
  }
};

/// Σ over `terms` products of intervals [a ± ra]·[b ± rb] into in[i]: mid Σ a·b, radius
/// Σ (|a|·rb + ra·(|b| + rb)) plus the binary64 roundings (theory/margin-bound.md Lemma 3).
struct IntervalDot {
  double mid = 0, abs = 0, rad = 0;
  void add(double a, double ra, double b, double rb) {
    if (a == 0 && ra == 0) return;  // a zero cotangent: nothing, even against an unbounded b
    const double p = a * b;
    mid += p;
    abs += std::fabs(p);
    rad += std::fabs(a) * rb + ra * (std::fabs(b) + rb);
  }
  void flush(long terms, Cotangent& in, long i) const {
    const double m = in.mid[static_cast<std::size_t>(i)] + mid;
    const double r = bounds::safe_sum(rad, 2 * terms + 8, 2 * terms) + dot_rounding(terms, abs) + std::fabs(m) * 0x1p-53;
    in.mid[static_cast<std::size_t>(i)] = m;
    in.rad[static_cast<std::size_t>(i)] = bounds::nan_to_inf(inflate(in.rad[static_cast<std::size_t>(i)] + r));
    in.reached = true;
  }
};

/// IntervalDot for a row of W outputs at once, each summing its terms in the same order as one
/// IntervalDot would.
struct RowDots {
  std::vector<double> mid, abs, rad;
  void reset(long width) {
    mid.assign(static_cast<std::size_t>(width), 0.0);
    abs.assign(mid.size(), 0.0);
    rad.assign(mid.size(), 0.0);
  }
  void flush(long w, long terms, Cotangent& in, long i) const {
    const auto k = static_cast<std::size_t>(w);
    IntervalDot{mid[k], abs[k], rad[k]}.flush(terms, in, i);
  }
};

/// Output w of the row sums, term t = 0, 1, ..., T−1 in order, IntervalDot::add of the
/// cotangent [a ± ra] at a[t] and the operand [b ± rb] at b[t·W + w]: the cotangent is
/// the same for the whole row, so its zero test skips a term for every output at once.
/// Vectorised across w, in AVX-512 or AVX2 lanes where the CPU has them; the same bits.
__attribute__((target_clones("avx512f", "avx2", "default")))
void row_dot_terms(const double* a, const double* ra, const double* __restrict b, const double* __restrict rb, long W,
                   long T, double* __restrict mid, double* __restrict abs, double* __restrict rad) {
  for (long t = 0; t < T; ++t) {
    const double x = a[t], rx = ra[t];
    if (x == 0 && rx == 0) continue;  // a zero cotangent: nothing, even against an unbounded operand
    const double ax = std::fabs(x);
    const double* bt = b + t * W;
    const double* rbt = rb + t * W;
    for (long w = 0; w < W; ++w) {
      const double p = x * bt[w];
      mid[w] += p;
      abs[w] += std::fabs(p);
      rad[w] += ax * rbt[w] + rx * (std::fabs(bt[w]) + rbt[w]);
    }
  }
}

/// Output w of the column sums, term t in order, IntervalDot::add of the cotangent [a ± ra] at
/// a[t·W + w] and the operand [b ± rb] at b[t·b_step], the same for the whole row: the zero test
/// differs per output, so it selects (the file is compiled with -fno-trapping-math, so that both
/// sides may be computed). The same bits as IntervalDot.
__attribute__((target_clones("avx512f", "avx2", "default")))
void column_dot_terms(const double* __restrict a, const double* __restrict ra, long W, const double* b, const double* rb,
                      long b_step, long T, double* __restrict mid, double* __restrict abs, double* __restrict rad) {
  for (long t = 0; t < T; ++t) {
    const double y = b[t * b_step], ry = rb[t * b_step], ay = std::fabs(y);
    const double* at = a + t * W;
    const double* rat = ra + t * W;
    for (long w = 0; w < W; ++w) {
      const bool skip = (at[w] == 0) & (rat[w] == 0);
      const double p = at[w] * y;
      const double m = mid[w] + p, s = abs[w] + std::fabs(p), r = rad[w] + (std::fabs(at[w]) * ry + rat[w] * (ay + ry));
      mid[w] = skip ? mid[w] : m;
      abs[w] = skip ? abs[w] : s;
      rad[w] = skip ? rad[w] : r;
    }
  }
}

class MatMulBackward : public BackwardStep {
 public:
  explicit MatMulBackward(const OpContext& ctx) : a_const_(ctx.const_inputs[0]), b_const_(ctx.const_inputs[1]) {
    Shape a = ctx.input_shapes[0], b = ctx.input_shapes[1];
    if (a.size() == 1) a.insert(a.begin(), 1);
    if (b.size() == 1) b.push_back(1);
    m_ = a[a.size() - 2];
    k_ = a[a.size() - 1];
    n_ = b[b.size() - 1];
    const Shape ab(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2);
    // The batch dimensions broadcast, aligned on the right.
    const std::size_t rank = std::max(ab.size(), bb.size());
    Shape ob(rank, 1);
    for (std::size_t i = 0; i < rank; ++i) {
      const std::int64_t da = i + ab.size() >= rank ? ab[i + ab.size() - rank] : 1;
      const std::int64_t db = i + bb.size() >= rank ? bb[i + bb.size() - rank] : 1;
      ob[i] = std::max(da, db);
    }
    batch_ = std::make_unique<ops::Broadcast>(std::vector<Shape>{ab, bb}, ob);
    a_size_ = static_cast<std::size_t>(element_count(ctx.input_shapes[0]));
    b_size_ = static_cast<std::size_t>(element_count(ctx.input_shapes[1]));
  }
  void apply(std::span<const TrajectoryBox> boxes, const Cotangent& out, std::span<Cotangent* const> in) const override {
    if (!in[0] && !in[1]) return;
    thread_local IntervalMatrix A, B;
    if (in[1]) A.load(boxes[0], a_const_, a_size_);
    if (in[0]) B.load(boxes[1], b_const_, b_size_);
    const long M = m_, K = k_, N = n_;
    thread_local std::vector<double> bt_mid, bt_rad;
    thread_local RowDots d;
    long transposed = -1;  // the B offset bt_mid/bt_rad hold
    batch_->for_each([&](std::int64_t ob, const std::int64_t* off) {
      const long ao = static_cast<long>(off[0]) * M * K, bo = static_cast<long>(off[1]) * K * N, oo = static_cast<long>(ob) * M * N;
      if (in[0]) {  // g_A[m, k] = Σ_n g[m, n]·B[k, n]
        if (bo != transposed) {  // B of this batch index as [n·K + k], once per distinct B
          bt_mid.resize(static_cast<std::size_t>(K * N));
          bt_rad.resize(bt_mid.size());
          for (long k = 0; k < K; ++k)
            for (long n = 0; n < N; ++n) {
              bt_mid[static_cast<std::size_t>(n * K + k)] = B.mid[static_cast<std::size_t>(bo + k * N + n)];
              bt_rad[static_cast<std::size_t>(n * K + k)] = B.rad[static_cast<std::size_t>(bo + k * N + n)];
            }
          transposed = bo;
        }
        for (long m = 0; m < M; ++m) {
          d.reset(K);
          row_dot_terms(out.mid.data() + oo + m * N, out.rad.data() + oo + m * N, bt_mid.data(), bt_rad.data(), K, N, d.mid.data(),
                        d.abs.data(), d.rad.data());
          for (long k = 0; k < K; ++k) d.flush(k, N, *in[0], ao + m * K + k);
        }
      }
      if (in[1])  // g_B[k, n] = Σ_m A[m, k]·g[m, n]
        for (long k = 0; k < K; ++k) {
          d.reset(N);
          column_dot_terms(out.mid.data() + oo, out.rad.data() + oo, N, A.mid.data() + ao + k, A.rad.data() + ao + k, K, M, d.mid.data(),
                           d.abs.data(), d.rad.data());
          for (long n = 0; n < N; ++n) d.flush(n, M, *in[1], bo + k * N + n);
        }
    });
  }

 private:
  const Constant* a_const_;
  const Constant* b_const_;
  long m_ = 0, k_ = 0, n_ = 0;
  std::size_t a_size_ = 0, b_size_ = 0;
  std::unique_ptr<ops::Broadcast> batch_;
};

class SoftmaxBackward : public BackwardStep, private ops::SoftmaxGeometry {
 public:
  explicit SoftmaxBackward(const OpContext& ctx) : SoftmaxGeometry(ctx) {}
  void apply(std::span<const TrajectoryBox> boxes, const Cotangent& out, std::span<Cotangent* const> in) const override {
    if (!in[0]) return;
    const TrajectoryBox& b = boxes[0];
    const long L = length_;
    thread_local std::vector<double> e_lo, e_hi, pm, pr, pl, ph;
    thread_local Cotangent u;
    e_lo.resize(static_cast<std::size_t>(L));
    e_hi.resize(e_lo.size());
    pm.resize(e_lo.size());
    pr.resize(e_lo.size());
    pl.resize(e_lo.size());
    ph.resize(e_lo.size());
    u.reset(e_lo.size());
    for (long outer = 0; outer < outer_; ++outer)
      for (long inner = 0; inner < inner_; ++inner) {
        auto at = [&](long i) { return (outer * L + i) * inner_ + inner; };
        double top = -INFINITY;
        for (long i = 0; i < L; ++i) top = bounds::max_num(top, b.hi[at(i)]);
        // e^{x − top} over the box, rounded outward; their sums rounded down and up.
        double s_lo = 0, s_hi = 0;
        bool finite = std::isfinite(top);
        for (long i = 0; i < L && finite; ++i) {
          finite = std::isfinite(b.lo[at(i)]);
          e_lo[i] = bounds::max_num(0.0, bounds::down_libm(std::exp(bounds::down(b.lo[at(i)] - top))));
          e_hi[i] = bounds::up_libm(std::exp(bounds::up(b.hi[at(i)] - top)));
          s_lo = bounds::down(s_lo + e_lo[i]);
          s_hi = bounds::up(s_hi + e_hi[i]);
        }
        for (long i = 0; i < L; ++i) {
          if (!finite) {
            pl[i] = 0, ph[i] = 1;
          } else {
            const double rest_hi = bounds::up(s_hi - e_hi[i]);  // ≥ Σ_{k≠i} e^{hi_k − top}
            const double rest_lo = bounds::max_num(0.0, bounds::down(s_lo - e_lo[i]));
            pl[i] = bounds::max_num(0.0, bounds::down(e_lo[i] / bounds::up(e_lo[i] + rest_hi)));
            const double den = bounds::down(e_hi[i] + rest_lo);
            ph[i] = den > 0 ? bounds::min_num(1.0, bounds::up(e_hi[i] / den)) : 1.0;
          }
          midpoint_radius(pl[i], ph[i], pm[i], pr[i]);
        }
        // ⟨g, p⟩ as an interval, then u = g − ⟨g, p⟩, then p ∘ u.
        IntervalDot s;
        for (long i = 0; i < L; ++i) s.add(out.mid[static_cast<std::size_t>(at(i))], out.rad[static_cast<std::size_t>(at(i))], pm[i], pr[i]);
        const double s_rad = bounds::safe_sum(s.rad, 2 * L + 8, 2 * L) + dot_rounding(L, s.abs);
        for (long i = 0; i < L; ++i) {
          const double d = out.mid[static_cast<std::size_t>(at(i))] - s.mid;
          u.mid[static_cast<std::size_t>(i)] = d;
          u.rad[static_cast<std::size_t>(i)] = inflate(out.rad[static_cast<std::size_t>(at(i))] + s_rad + std::fabs(d) * 0x1p-53);
        }
        for (long i = 0; i < L; ++i) add_scaled(u, i, pl[i], ph[i], *in[0], at(i), 1);
      }
  }
};

}  // namespace

std::unique_ptr<BackwardStep> make_matmul_backward(const OpContext& ctx) {
  if (ctx.input_shapes.size() != 2 || ctx.input_shapes[0].empty() || ctx.input_shapes[1].empty()) return nullptr;
  if (ctx.const_inputs[0] && ctx.const_inputs[1]) return nullptr;
  return std::make_unique<MatMulBackward>(ctx);
}

std::unique_ptr<BackwardStep> make_softmax_backward(const OpContext& ctx) {
  if (ctx.const_inputs.empty() || ctx.const_inputs[0]) return nullptr;
  return std::make_unique<SoftmaxBackward>(ctx);
}

}  // namespace fpaudit::margin
