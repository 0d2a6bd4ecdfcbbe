// Backward steps of the linear layers: Gemm (runtime A, constant B), Conv and ConvTranspose
// (constant weights); BatchNormalization's is in backward_normalization.cpp. Their secant Jacobian is their own matrix, taken with the
// exact network's constants (the model's values, exact in binary64), so gᵀJ is one transposed
// product; its binary64 rounding is bounded by γ_n(2^-53)·Σ|w||mid| (theory/margin-bound.md §3).
#include <algorithm>
#include <cmath>
#include <optional>

#include "bounds/interval.h"
#include "bounds/signed_sums.h"
#include "core/ops/conv.h"
#include "core/ops/window.h"
#include "shadow/margin/backward.h"
#include "shadow/margin/column_product.h"
#include "shadow/margin/rounding.h"
#include "shadow/margin/scaled_sums.h"
#include "shadow/margin/tap_sums.h"

namespace fpaudit::margin {

namespace {

/// Accumulators of one transposed product, per input element: Σ w·mid, Σ|w|·|mid|, Σ|w|·rad.
/// The storage is the thread's, reused from pass to pass (a backward pass runs per direction).
struct TransposedProduct {
  std::vector<double>& mid;
  std::vector<double>& abs_mid;
  std::vector<double>& rad;
  explicit TransposedProduct(std::size_t n) : mid(storage(0)), abs_mid(storage(1)), rad(storage(2)) {
    mid.assign(n, 0.0);
    abs_mid.assign(n, 0.0);
    rad.assign(n, 0.0);
  }
  static std::vector<double>& storage(int k) {
    thread_local std::vector<double> s[3];
    return s[k];
  }
  void add(long i, double w, const Cotangent& g, long j) {
    const double aw = std::fabs(w);
    mid[i] += w * g.mid[j];
    abs_mid[i] += aw * std::fabs(g.mid[j]);
    rad[i] += aw * g.rad[j];
  }
  /// in += (this sum of at most `terms` products per element) · scale, scale exact.
  void flush(long terms, Cotangent& in) const {
    for (std::size_t i = 0; i < mid.size(); ++i) {
      const double m = in.mid[i] + mid[i];
      // The rounded radius sum, its own roundings, the rounding of mid and of the addition.
      const double r = bounds::safe_sum(rad[i], 2 * terms, terms) + dot_rounding(terms, abs_mid[i]) + std::fabs(m) * 0x1p-53;
      in.mid[i] = m;
      in.rad[i] = inflate(in.rad[i] + r);
    }
    in.reached = true;
  }
};

/// d[i] += a[i] and d[i] += c·a[i] over a run (no aliasing between d and a).
void add_run(double* __restrict d, const double* __restrict a, long n) {
  for (long i = 0; i < n; ++i) d[i] += a[i];
}
void add_scaled_run(double* __restrict d, const double* __restrict a, double c, long n) {
  for (long i = 0; i < n; ++i) d[i] += c * a[i];
}

/// One output of BackwardStep::abs_sums from the binary64 sums over its n terms at the box's
/// midpoint (Σ w·mid, Σ |w·mid|) and radius (Σ |w|·rad) and its bias b: every x in the box has
/// Σ|w||x| ≤ Σ|w·mid| + Σ|w|·rad and |Σ w·x + b| ≤ |Σ w·mid + b| + Σ|w|·rad, each sum's own
/// binary64 rounding bounded as in Lemma 3 of theory/margin-bound.md.
void linear_sums(long n, double sig, double abs_mid, double spread, double b, BackwardStep::AbsSums& r, std::size_t o) {
  const double rounding = dot_rounding(n + 2, abs_mid + std::fabs(b));
  const double spread_up = bounds::safe_sum(spread, 2 * n, n);  // n products each: §1(a)
  r.S[o] = bounds::nan_to_inf(inflate(bounds::safe_sum(abs_mid, 2 * n, n) + spread_up));
  r.Y[o] = bounds::nan_to_inf(inflate(std::fabs(sig + b) + spread_up + rounding));
  r.B[o] = std::fabs(b);
}

/// Y = alpha·A'·B' + beta·C with A runtime, B constant (A' = Aᵀ when transA, likewise B).
class GemmBackward : public BackwardStep {
 public:
  explicit GemmBackward(const OpContext& ctx) : b_(ctx.const_inputs[1]), c_(ctx.has_input(2) ? ctx.const_inputs[2] : nullptr) {
    trans_a_ = ctx.node.attr_int("transA", 0) != 0;
    trans_b_ = ctx.node.attr_int("transB", 0) != 0;
    alpha_ = ctx.node.attr_float("alpha", 1.0);
    beta_ = ctx.node.attr_float("beta", 1.0);
    if (c_) c_shape_ = c_->shape;
    const Shape& a = ctx.input_shapes[0];
    m_ = trans_a_ ? a[1] : a[0];
    k_ = trans_a_ ? a[0] : a[1];
    n_ = ctx.output_shapes[0][1];
    for (double v : b_->values) abs_b_.push_back(std::fabs(v));
  }
  bool reads_boxes() const override { return false; }
  void apply(std::span<const TrajectoryBox>, const Cotangent& out, std::span<Cotangent* const> in) const override {
    if (!in[0]) return;
    TransposedProduct t(static_cast<std::size_t>(m_ * k_));
    const std::vector<double>& b = b_->values;
    double* tm = t.mid.data();
    double* ta = t.abs_mid.data();
    double* tr = t.rad.data();
    for (long m = 0; m < m_; ++m)
      for (long n = 0; n < n_; ++n) {
        const double gm = out.mid[static_cast<std::size_t>(m * n_ + n)], gr = out.rad[static_cast<std::size_t>(m * n_ + n)];
        if (gm == 0 && gr == 0) continue;
        const double agm = std::fabs(gm);
        if (trans_b_ && !trans_a_) {
          // B is [N, K]: row n is contiguous, and so is row m of the cotangent of A [M, K].
          const double* row = b.data() + n * k_;
          const double* arow = abs_b_.data() + n * k_;
          double *pm = tm + m * k_, *pa = ta + m * k_, *pr = tr + m * k_;
          for (long k = 0; k < k_; ++k) {
            pm[k] += row[k] * gm;
            pa[k] += arow[k] * agm;
            pr[k] += arow[k] * gr;
          }
          continue;
        }
        for (long k = 0; k < k_; ++k) {
          const std::size_t ib = static_cast<std::size_t>(trans_b_ ? n * k_ + k : k * n_ + n);
          const long ia = trans_a_ ? k * m_ + m : m * k_ + k;
          tm[ia] += b[ib] * gm;
          ta[ia] += abs_b_[ib] * agm;
          tr[ia] += abs_b_[ib] * gr;
        }
      }
    if (alpha_ == 1) {
      t.flush(n_, *in[0]);
      return;
    }
    Cotangent unscaled;
    unscaled.reset(static_cast<std::size_t>(m_ * k_));
    t.flush(n_, unscaled);
    add_scaled(unscaled, 0, alpha_, alpha_, *in[0], 0, m_ * k_);
  }

 public:
  bool has_constant_error() const override { return true; }
  /// Δ = α·A'·(B̂ − B)' + β·(Ĉ − C), each B̂ − B exact (Sterbenz: a rounding to nearest is within
  /// a factor 2 of its argument, or 0), the sums' binary64 rounding in the spread.
  void constant_error(const double* x, const double* xr, std::span<const Tensor* const> rounded, ConstantError& e) const override {
    const std::vector<double>& bh = rounded[1]->data;
    const std::vector<double>& b = b_->values;
    e.delta.assign(static_cast<std::size_t>(m_ * n_), 0.0);
    e.spread.assign(e.delta.size(), 0.0);
    const double aa = std::fabs(alpha_), ab = std::fabs(beta_);
    thread_local std::vector<double> sums, abs_sums, spreads;
    sums.resize(static_cast<std::size_t>(n_));
    abs_sums.resize(sums.size());
    spreads.resize(sums.size());
    for (long m = 0; m < m_; ++m) {
      // Row m of A' against every column of (B̂ − B)', k in order (scaled_sums.h).
      ScaledSums row;
      const long ia = trans_a_ ? m : m * k_;
      row.x = x + ia;
      row.r = xr ? xr + ia : nullptr;
      row.x_stride = trans_a_ ? m_ : 1;
      row.d = bh.data();
      row.d_minus = b.data();
      row.d_k = trans_b_ ? 1 : n_;
      row.d_n = trans_b_ ? k_ : 1;
      row.K = k_;
      row.N = n_;
      scaled_sums(row, sums.data(), abs_sums.data(), spreads.data());
      for (long n = 0; n < n_; ++n) {
        const double s = sums[static_cast<std::size_t>(n)], abs = abs_sums[static_cast<std::size_t>(n)];
        const double spread = spreads[static_cast<std::size_t>(n)];
        double dc = 0;
        if (c_ && rounded.size() > 2 && rounded[2]) {
          const std::size_t ic = c_index(m, n);
          dc = rounded[2]->data[ic] - c_->values[ic];
        }
        const double y = alpha_ * s + beta_ * dc;
        // abs takes its k_ products' underflow allowance before the scaling by |alpha|.
        const double total = aa * (abs + bounds::underflow_allowance(k_)) + ab * std::fabs(dc);
        const std::size_t o = static_cast<std::size_t>(m * n_ + n);
        e.delta[o] = y;
        // spread's k_ products and those of s take their underflow allowance (theory/bounds-
        // arithmetic.md §1(a)) before the scaling by |alpha|.
        e.spread[o] = bounds::nan_to_inf(inflate(aa * (spread + bounds::underflow_allowance(2 * k_)) * bounds::safety(2 * k_ + 2) +
                                                 dot_rounding(k_ + 4, total) + std::fabs(y) * 0x1p-52));
      }
    }
  }

  bool prefix_variance(const Tensor& lo, const Tensor& hi, std::span<const Tensor* const> rounded, std::vector<double>& V) const override {
    // The operands as the dot-product rule reads them, k in the kernel's order; B the chain's
    // rounded weights, a point.
    const Tensor& w = *rounded[1];
    const bounds::Enclosure a{&lo, &hi, &lo, &lo}, b{&w, &w, &w, &w};
    const bounds::MatmulBound g = bounds::gemm_product(&a, &b, m_, k_, n_, trans_a_, trans_b_);
    // S: the binary64 sums Σ max|a|·|b| that signed_sum_variance finishes with safe_sum.
    thread_local std::vector<double> S, b_mid, b_rad;
    S.assign(static_cast<std::size_t>(m_ * n_), 0.0);
    for (long m = 0; m < m_; ++m)
      for (long n = 0; n < n_; ++n) {
        double sum = 0;
        for (long k = 0; k < k_; ++k) sum += a.magnitude(g.A.at(m, k)) * std::fabs(w.data[static_cast<std::size_t>(g.B.at(k, n))]);
        S[static_cast<std::size_t>(m * n_ + n)] = sum;
      }
    V.resize(S.size());
    bounds::signed_sum_variance(g, bounds::signed_b(g, b_mid, b_rad), 0, m_, S.data(), V.data());
    return true;
  }
  long abs_sums(const double* mid, const double* rad, std::span<const Tensor* const> rounded, AbsSums& r) const override {
    if (!plain()) return 0;
    const std::vector<double>& bh = rounded[1]->data;
    r.S.assign(static_cast<std::size_t>(m_ * n_), 0.0);
    r.Y.assign(r.S.size(), 0.0);
    r.B.assign(r.S.size(), 0.0);
    for (long m = 0; m < m_; ++m)
      for (long n = 0; n < n_; ++n) {
        double sig = 0, abs_mid = 0, spread = 0;
        for (long k = 0; k < k_; ++k) {
          const double w = bh[static_cast<std::size_t>(trans_b_ ? n * k_ + k : k * n_ + n)];
          const long ia = trans_a_ ? k * m_ + m : m * k_ + k;
          sig += w * mid[ia];
          abs_mid += std::fabs(w * mid[ia]);
          spread += std::fabs(w) * rad[ia];
        }
        const std::size_t o = static_cast<std::size_t>(m * n_ + n);
        const double b = c_ && rounded.size() > 2 && rounded[2] ? rounded[2]->data[c_index(m, n)] : 0.0;
        linear_sums(k_, sig, abs_mid, spread, b, r, o);
      }
    return k_;
  }

  long weight_sums(const double* a, const double* v, std::span<const Tensor* const> rounded, std::vector<double>& A,
                   std::vector<double>& Q) const override {
    if (!plain()) return 0;
    const std::vector<double>& bh = rounded[1]->data;
    A.assign(static_cast<std::size_t>(m_ * n_), 0.0);
    Q.assign(v ? A.size() : 0, 0.0);
    for (long m = 0; m < m_; ++m)
      for (long n = 0; n < n_; ++n) {
        double sa = 0, sq = 0;
        for (long k = 0; k < k_; ++k) {
          const double w = bh[static_cast<std::size_t>(trans_b_ ? n * k_ + k : k * n_ + n)];
          const long ia = trans_a_ ? k * m_ + m : m * k_ + k;
          sa += std::fabs(w) * a[ia];
          // w·w + kUnderflowFloor ≥ w² even where w·w underflows: one undirected product per
          // term reaches the sum, the one by v (theory/bounds-arithmetic.md §1(a)).
          if (v) sq += (w * w + kUnderflowFloor) * v[ia];
        }
        const std::size_t o = static_cast<std::size_t>(m * n_ + n);
        A[o] = bounds::nan_to_inf(bounds::safe_sum(sa, 2 * k_ + 2, k_));
        if (v) Q[o] = bounds::nan_to_inf(bounds::safe_sum(sq, 3 * k_ + 3, k_));
      }
    return k_;
  }

 private:
  /// The kernel's plain epilogue (y = round(ŝ + c) per feature), α = 1: what Gemm::simple() takes.
  bool plain() const {
    const bool per_feature = c_ && element_count(c_shape_) == n_ && (c_shape_.size() == 1 || (c_shape_.size() == 2 && c_shape_[0] == 1));
    return alpha_ == 1 && !(c_ && (beta_ != 1 || !per_feature));
  }
  /// C's element for output (m, n) under unidirectional broadcasting.
  std::size_t c_index(long m, long n) const {
    if (c_shape_.empty()) return 0;
    if (c_shape_.size() == 1) return c_shape_[0] == 1 ? 0 : static_cast<std::size_t>(n);
    const long cm = c_shape_[0] == 1 ? 0 : m, cn = c_shape_[1] == 1 ? 0 : n;
    return static_cast<std::size_t>(cm * c_shape_[1] + cn);
  }
  const Constant* b_;
  const Constant* c_;
  Shape c_shape_;
  std::vector<double> abs_b_;
  bool trans_a_ = false, trans_b_ = false;
  double alpha_ = 1, beta_ = 1;
  long m_ = 0, k_ = 0, n_ = 0;
};

/// Conv with constant weights W [M, C/group, taps...]: gx[c, s] += Σ W[m, c', t]·gy[m, p] over
/// the taps t of output p that read input s. ConvTranspose is the same step on its equivalent
/// Conv (lib/core/ops/conv.h: the zero-upsampled input, the transposed and flipped kernel), whose
/// tap table and weight matrix its kernel and bound rule use too; the upsampling zeros are
/// padding taps, which are never propagated to.
class ConvBackward : public BackwardStep {
 public:
  ConvBackward(const OpContext& ctx, bool transposed) : bias_(ctx.has_input(2) ? ctx.const_inputs[2] : nullptr) {
    const ops::GroupedConvolution* conv = nullptr;
    if (transposed) {
      transposed_.emplace(ctx);
      conv = &transposed_->conv_;
      rearranged_w_ = transposed_->rearranged(ctx.const_inputs[1]->values);
      w_ = &rearranged_w_;
    } else {
      forward_.emplace(ctx);
      conv = &forward_->conv_;
      w_ = &ctx.const_inputs[1]->values;
    }
    taps_table_ = conv->table_;
    taps_ = conv->taps_;
    in_plane_ = conv->in_plane_;
    out_plane_ = conv->out_plane_;
    batch_ = conv->batch_;
    channels_ = conv->channels_;
    groups_ = conv->groups_;
    out_channels_ = conv->group_outputs_ * conv->groups_;
    // Per group and column k = (c, tap): Σ_m |W[m, k]| over the group's output channels,
    // rounded up (every term nonnegative).
    const long cg = channels_ / groups_, mg = out_channels_ / groups_, rows = cg * taps_;
    group_colsum_.assign(static_cast<std::size_t>(groups_ * rows), 0.0);
    for (long group = 0; group < groups_; ++group)
      for (long m = group * mg; m < (group + 1) * mg; ++m)
        for (long k = 0; k < rows; ++k) group_colsum_[static_cast<std::size_t>(group * rows + k)] += std::fabs((*w_)[static_cast<std::size_t>(m * rows + k)]);
    for (double& v : group_colsum_) v = inflate(v * bounds::safety(2 * mg));
    // Per tap, the maximal runs of outputs p, p + 1, ... that read inputs s, s + 1, ...
    run_begin_.push_back(0);
    for (long tap = 0; tap < taps_; ++tap) {
      const std::int32_t* row = taps_table_.data() + tap * out_plane_;
      for (long p = 0; p < out_plane_; ++p) {
        if (row[p] == ops::kPadding) continue;
        if (runs_.size() > run_begin_.back() && runs_.back().p + runs_.back().n == p && runs_.back().s + runs_.back().n == row[p])
          ++runs_.back().n;
        else
          runs_.push_back({static_cast<std::int32_t>(p), row[p], 1});
      }
      run_begin_.push_back(runs_.size());
    }
  }
  bool reads_boxes() const override { return false; }
  void apply(std::span<const TrajectoryBox>, const Cotangent& out, std::span<Cotangent* const> in) const override {
    if (!in[0]) return;
    const long cg = channels_ / groups_, mg = out_channels_ / groups_, rows = cg * taps_;
    TransposedProduct t(static_cast<std::size_t>(batch_ * channels_ * in_plane_));
    // Per group: the column cotangent col[(c, tap), p] = Σ_m W[m, c, tap]·g[m, p] (a dense
    // product, contiguous in p), then scattered to the input positions the taps read.
    thread_local std::vector<double> col_mid, col_rad, top;
    // Rows k in chunks whose column cotangents stay in cache between the product and the
    // scatter (about 256 KiB for both); the chunking changes no element's operations.
    const long chunk = out_plane_ == 1 ? rows : std::clamp(16384 / out_plane_ / 4 * 4, 4L, rows);
    col_mid.resize(static_cast<std::size_t>(chunk * out_plane_));
    col_rad.resize(col_mid.size());
    for (long b = 0; b < batch_; ++b)
      for (long group = 0; group < groups_; ++group) {
        // Σ_m |W[m, k]|·|g[m, p]| only feeds the binary64 rounding term γ·Σ|w||mid| (~1e-16
        // relative): bounded by colsum_k·max_m |g[m, p]| instead of a third accumulation.
        top.assign(static_cast<std::size_t>(out_plane_), 0.0);
        for (long m = group * mg; m < (group + 1) * mg; ++m) {
          const double* gm = out.mid.data() + (b * out_channels_ + m) * out_plane_;
          for (long p = 0; p < out_plane_; ++p) top[static_cast<std::size_t>(p)] = bounds::max_num(top[static_cast<std::size_t>(p)], std::fabs(gm[p]));
        }
        const long y_base = b * out_channels_ * out_plane_;
        for (long k0 = 0; k0 < rows; k0 += chunk) {
          const long k1 = std::min(rows, k0 + chunk);
          std::fill(col_mid.begin(), col_mid.end(), 0.0);
          std::fill(col_rad.begin(), col_rad.end(), 0.0);
          // The group's rows of W and G, shifted so that m indexes them as in the whole
          // tensors; W's columns k0 .. k1 − 1.
          const ColumnProduct product{w_->data() + k0, out.mid.data() + y_base, out.rad.data() + y_base,
                                      group * mg, (group + 1) * mg, k1 - k0, out_plane_, rows};
          add_column_product(product, col_mid.data(), col_rad.data());
          // Scattered run by run: a run's outputs read consecutive inputs, so it is a vector
          // addition; every input still takes its terms in the plain loop's order (k, then p).
          for (long k = k0; k < k1; ++k) {
            const long c = k / taps_, tap = k % taps_;
            const long x_base = (b * channels_ + group * cg + c) * in_plane_;
            const double cs = group_colsum_[static_cast<std::size_t>(group * rows + k)];
            double *pm = t.mid.data() + x_base, *pa = t.abs_mid.data() + x_base, *pr = t.rad.data() + x_base;
            const double *cm = col_mid.data() + (k - k0) * out_plane_, *cr = col_rad.data() + (k - k0) * out_plane_;
            for (std::size_t r = run_begin_[static_cast<std::size_t>(tap)]; r < run_begin_[static_cast<std::size_t>(tap) + 1]; ++r) {
              const Run& run = runs_[r];
              add_run(pm + run.s, cm + run.p, run.n);
              add_scaled_run(pa + run.s, top.data() + run.p, cs, run.n);
              add_run(pr + run.s, cr + run.p, run.n);
            }
          }
        }
      }
    t.flush(2 * mg * taps_, *in[0]);
  }

 public:
  bool has_constant_error() const override { return true; }
  /// Δ[m, p] = Σ_{c, tap} (Ŵ − W)[m, c, tap]·x[c, s(tap, p)] + (b̂ − b)[m]: the convolution with
  /// the weights' rounding (exact differences, as for Gemm), summed in binary64.
  void constant_error(const double* x, const double* xr, std::span<const Tensor* const> rounded, ConstantError& e) const override {
    const long rows = channels_ / groups_ * taps_;
    const std::vector<double>& wh = matrix(rounded[1]->data);
    const std::vector<double>& w = *w_;
    thread_local std::vector<double> dw, s, abs, spread;
    dw.resize(w.size());
    for (std::size_t i = 0; i < w.size(); ++i) dw[i] = wh[i] - w[i];
    const std::size_t plane = static_cast<std::size_t>(out_plane_);
    e.delta.assign(static_cast<std::size_t>(batch_ * out_channels_) * plane, 0.0);
    e.spread.assign(e.delta.size(), 0.0);
    sums(dw.data(), x, xr, s, abs, spread);
    for (long b = 0; b < batch_; ++b)
      for (long m = 0; m < out_channels_; ++m) {
        const double db = bias_ && rounded.size() > 2 && rounded[2] ? rounded[2]->data[static_cast<std::size_t>(m)] - bias_->values[static_cast<std::size_t>(m)] : 0.0;
        for (std::size_t p = 0; p < plane; ++p) {
          const std::size_t o = static_cast<std::size_t>(b * out_channels_ + m) * plane + p;
          const double y = s[o] + db;
          e.delta[o] = y;
          e.spread[o] = bounds::nan_to_inf(inflate(bounds::safe_sum(spread[o], 2 * rows + 2, rows) + dot_rounding(rows + 4, abs[o] + std::fabs(db)) +
                                                   std::fabs(y) * 0x1p-52));
        }
      }
  }

  long abs_sums(const double* mid, const double* rad, std::span<const Tensor* const> rounded, AbsSums& r) const override {
    const long rows = channels_ / groups_ * taps_;
    const std::vector<double>& wh = matrix(rounded[1]->data);
    const std::size_t plane = static_cast<std::size_t>(out_plane_);
    r.S.assign(static_cast<std::size_t>(batch_ * out_channels_) * plane, 0.0);
    r.Y.assign(r.S.size(), 0.0);
    r.B.assign(r.S.size(), 0.0);
    thread_local std::vector<double> sig, abs_mid, spread;
    sums(wh.data(), mid, rad, sig, abs_mid, spread);
    for (long b = 0; b < batch_; ++b)
      for (long m = 0; m < out_channels_; ++m) {
        const double bias = bias_ && rounded.size() > 2 && rounded[2] ? rounded[2]->data[static_cast<std::size_t>(m)] : 0.0;
        for (std::size_t p = 0; p < plane; ++p) {
          const std::size_t o = static_cast<std::size_t>(b * out_channels_ + m) * plane + p;
          linear_sums(rows, sig[o], abs_mid[o], spread[o], bias, r, o);
        }
      }
    return rows;
  }

  long weight_sums(const double* a, const double* v, std::span<const Tensor* const> rounded, std::vector<double>& A,
                   std::vector<double>& Q) const override {
    const long rows = channels_ / groups_ * taps_;
    const std::vector<double>& wh = matrix(rounded[1]->data);
    // Σ|Ŵ|·a and Σ (Ŵ·Ŵ + kUnderflowFloor)·v as tap_sums' Σ|coefficient·x| at the points x = a
    // (resp. v), nonnegative: |w·a| is |w|·a rounded. The square as in Gemm's weight_sums.
    thread_local std::vector<double> squares, s, unused;
    if (v) {
      squares.resize(wh.size());
      for (std::size_t i = 0; i < wh.size(); ++i) squares[i] = wh[i] * wh[i] + kUnderflowFloor;
    }
    sums(wh.data(), a, nullptr, s, A, unused);
    for (double& x : A) x = bounds::nan_to_inf(bounds::safe_sum(x, 2 * rows + 2, rows));
    if (!v) return rows;
    sums(squares.data(), v, nullptr, s, Q, unused);
    for (double& x : Q) x = bounds::nan_to_inf(bounds::safe_sum(x, 3 * rows + 3, rows));
    return rows;
  }

 private:
  /// Per output: Σ a·x, Σ |a·x| and Σ |a|·r over its taps (tap_sums.h), for coefficients a laid
  /// out as the weight matrix; the outputs sized here.
  void sums(const double* a, const double* x, const double* r, std::vector<double>& s, std::vector<double>& abs, std::vector<double>& spread) const {
    const std::size_t n = static_cast<std::size_t>(batch_ * out_channels_ * out_plane_);
    s.resize(n);
    abs.resize(n);
    spread.resize(n);
    const TapGeometry g{taps_table_.data(), taps_, in_plane_, out_plane_, batch_, channels_, out_channels_, groups_};
    tap_sums(g, a, x, r, s.data(), abs.data(), spread.data());
  }
  /// The chain's rounded weights as the M×K matrix of the (equivalent) Conv.
  const std::vector<double>& matrix(const std::vector<double>& w) const {
    if (!transposed_) return w;
    thread_local std::vector<double> m;
    m = transposed_->rearranged(w);
    return m;
  }
  std::optional<ops::ConvGeometry> forward_;
  std::optional<ops::ConvTransposeGeometry> transposed_;
  /// The exact weights as the M×K matrix: the graph's own (Conv) or rearranged_w_ (ConvTranspose).
  const std::vector<double>* w_ = nullptr;
  std::vector<double> rearranged_w_;
  const Constant* bias_;
  std::vector<double> group_colsum_;  ///< [group, k]: Σ_m |W[m, k]|, rounded up
  std::vector<std::int32_t> taps_table_;
  /// Runs of the tap table: outputs p .. p + n − 1 read inputs s .. s + n − 1; tap t's runs are
  /// runs_[run_begin_[t] .. run_begin_[t + 1]).
  struct Run {
    std::int32_t p, s, n;
  };
  std::vector<Run> runs_;
  std::vector<std::size_t> run_begin_;
  long taps_ = 0, in_plane_ = 0, out_plane_ = 0, batch_ = 0, channels_ = 0, out_channels_ = 0, groups_ = 1;
};

/// Only the operand layouts the shipped models use; anything else has no step (nullptr).
bool constants_at(const OpContext& ctx, std::initializer_list<std::size_t> idx) {
  for (std::size_t i : idx)
    if (i >= ctx.const_inputs.size() || !ctx.const_inputs[i]) return false;
  return true;
}

}  // namespace

std::unique_ptr<BackwardStep> make_gemm_backward(const OpContext& ctx) {
  if (ctx.const_inputs.at(0) || !constants_at(ctx, {1}) || (ctx.has_input(2) && !ctx.const_inputs[2])) return nullptr;
  return std::make_unique<GemmBackward>(ctx);
}

std::unique_ptr<BackwardStep> make_conv_backward(const OpContext& ctx) {
  if (ctx.const_inputs.at(0) || !constants_at(ctx, {1}) || (ctx.has_input(2) && !ctx.const_inputs[2])) return nullptr;
  return std::make_unique<ConvBackward>(ctx, false);
}

std::unique_ptr<BackwardStep> make_conv_transpose_backward(const OpContext& ctx) {
  if (ctx.const_inputs.at(0) || !constants_at(ctx, {1}) || (ctx.has_input(2) && !ctx.const_inputs[2])) return nullptr;
  return std::make_unique<ConvBackward>(ctx, true);
}


}  // namespace fpaudit::margin
