// Bound rules of Conv and ConvTranspose: the dot-product rule (bounds::matmul_bound) on the same
// grouped im2col mapping the kernels run (lib/core/ops/conv.h), the input's enclosure and error
// bounds unrolled like its values (padding: exact zeros).
#include <cmath>

#include "bounds/linear.h"
#include "bounds/rules.h"
#include "core/ops/conv.h"

namespace fpaudit::bounds::rules {

namespace {

using ops::ConvGeometry;
using ops::ConvTransposeGeometry;
using ops::GroupedConvolution;

double grouped_bound(const GroupedConvolution& cv, const BoundRequest& r, const Enclosure& x, const Enclosure& w,
                     const Enclosure* bias, Tensor& det, Tensor& prob) {
  const long K = cv.depth(), P = cv.out_plane_;
  // One thread's unrolled matrices, kept between calls: every element is written before it is
  // read (unroll fills all K·P), and allocating K·P zeros per call cost more than the unrolling.
  thread_local Tensor lo, hi, err, err_prob;
  for (Tensor* t : {&lo, &hi, &err, &err_prob}) t->resize({K, P});
  // Point values (lo = hi) and equal deterministic/probabilistic bounds are common (every pass
  // but the a-priori one, resp. the reference's and the certificate's): unroll them once and
  // let the column enclosure share them, which also lets matmul_bound skip its third sum.
  const bool point = x.lo == x.hi, same_err = x.err == x.err_prob;
  const Enclosure col{&lo, point ? &lo : &hi, &err, same_err ? &err : &err_prob};
  double fail = 0;
  for (std::int64_t n = 0; n < cv.batch_; ++n)
    for (std::int64_t g = 0; g < cv.groups_; ++g) {
      const long x_offset = (n * cv.channels_ + g * cv.group_channels_) * cv.in_plane_;
      MatmulBound mb;
      mb.M = cv.group_outputs_;
      mb.K = K;
      mb.N = P;
      mb.A = {&w, g * cv.group_outputs_ * K, K, 1};
      if (cv.direct_) {
        mb.B = {&x, x_offset, P, 1};
      } else {
        cv.unroll(x.lo->data.data() + x_offset, lo.data.data());
        if (!point) cv.unroll(x.hi->data.data() + x_offset, hi.data.data());
        cv.unroll(x.err->data.data() + x_offset, err.data.data());
        if (!same_err) cv.unroll(x.err_prob->data.data() + x_offset, err_prob.data.data());
        mb.B = {&col, 0, P, 1};
      }
      if (bias) {
        mb.bias = bias;
        mb.bias_offset = g * cv.group_outputs_;
        mb.bias_stride_m = 1;
      }
      mb.out_offset = (n * cv.groups_ + g) * cv.group_outputs_ * P;
      mb.ldo = P;
      mb.prob_wanted = r.prob_wanted;
      mb.memo = r.memo;
      fail = std::fmax(fail, matmul_bound(r.model, r.lambda, mb, det, prob));
    }
  return fail;
}

const Enclosure* bias_of(const BoundRequest& r) { return r.inputs.size() > 2 && r.inputs[2].present() ? &r.inputs[2] : nullptr; }

class ConvRule : public BoundRule, private ConvGeometry {
 public:
  explicit ConvRule(const OpContext& ctx) : ConvGeometry(ctx) {}
  void bound(const BoundRequest& r) const override {
    const double fail = grouped_bound(conv_, r, r.inputs[0], r.inputs[1], bias_of(r), *r.det[0], *r.prob[0]);
    if (r.failure_probability) *r.failure_probability = fail;
  }
};

class ConvTransposeRule : public BoundRule, private ConvTransposeGeometry {
 public:
  explicit ConvTransposeRule(const OpContext& ctx) : ConvTransposeGeometry(ctx) {}
  void bound(const BoundRequest& r) const override {
    // The equivalent Conv's weight matrix, for its enclosure and error bounds alike.
    const Enclosure& w = r.inputs[1];
    Tensor lo(w.lo->shape), hi(w.hi->shape), err(w.err->shape), err_prob(w.err_prob->shape);
    lo.data = rearranged(w.lo->data);
    hi.data = rearranged(w.hi->data);
    err.data = rearranged(w.err->data);
    err_prob.data = rearranged(w.err_prob->data);
    const Enclosure matrix{&lo, &hi, &err, &err_prob};
    const double fail = grouped_bound(conv_, r, r.inputs[0], matrix, bias_of(r), *r.det[0], *r.prob[0]);
    if (r.failure_probability) *r.failure_probability = fail;
  }
};

}  // namespace

void register_conv_rules(std::vector<BoundRuleRegistration>& r) {
  r.push_back({"Conv", prepared<ConvRule>()});
  r.push_back({"ConvTranspose", prepared<ConvTransposeRule>()});
}

}  // namespace fpaudit::bounds::rules
