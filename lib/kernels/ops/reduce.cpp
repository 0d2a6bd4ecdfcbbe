// ReduceSum and ReduceMean: each output is the sum, in the accumulation format by the chain's
// schedule, of the input elements that reduce onto it in row-major order; ReduceSum rounds it
// into storage, ReduceMean divides by the count with one rounding into storage.
#include <numeric>

#include "bounds/reductions.h"
#include "graph/params.h"
#include "kernels/ops/ops.h"

namespace fpaudit::ops {

namespace {

class Reduce : public OpKernel {
 public:
  Reduce(const OpContext& ctx, bool mean) : mean_(mean) {
    // Axes: an attribute before opset 13 (ReduceSum) or 18 (ReduceMean), an input since;
    // int_list_param reads whichever the node has.
    const std::vector<std::int64_t> given = int_list_param(ctx.graph, ctx.node, "axes", 1).value_or(std::vector<std::int64_t>{});
    if (ctx.has_input(1)) prep_ = {1};
    const Shape& x = ctx.input_shapes.at(0);
    const int rank = static_cast<int>(x.size());
    std::vector<bool> reduced(x.size(), given.empty());
    if (given.empty() && ctx.node.attr_int("noop_with_empty_axes", 0) != 0) {
      identity_ = true;
      return;
    }
    for (std::int64_t axis : given) {
      const int d = normalize_axis(ctx, axis, rank);
      if (reduced[d]) ctx.fail(fmt::format("axis {} is given twice", axis));
      reduced[d] = true;
    }
    // The offsets of one output's terms relative to its first (row-major over the reduced
    // axes), and the offset of each output's first term (row-major over the kept axes).
    const std::vector<std::int64_t> stride = strides_of(x);
    terms_ = {0};
    bases_ = {0};
    for (int d = 0; d < rank; ++d) {
      std::vector<std::int64_t>& list = reduced[d] ? terms_ : bases_;
      std::vector<std::int64_t> grown;
      grown.reserve(list.size() * static_cast<std::size_t>(x[d]));
      for (std::int64_t off : list)
        for (std::int64_t i = 0; i < x[d]; ++i) grown.push_back(off + i * stride[d]);
      list = std::move(grown);
    }
    // Terms at a constant spacing (one reduced axis, or trailing ones) are summed in place.
    step_ = terms_.size() > 1 ? terms_[1] - terms_[0] : 1;
    for (std::size_t j = 1; j < terms_.size() && strided_; ++j) strided_ = terms_[j] - terms_[j - 1] == step_;
  }

  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const std::vector<double>& x = in[0]->data;
    std::vector<double>& y = out[0]->data;
    if (identity_) {
      y = x;
      return;
    }
    const auto n = static_cast<long>(terms_.size());
    std::vector<double> gathered(strided_ ? 0 : terms_.size());
    for (std::size_t o = 0; o < bases_.size(); ++o) {
      const double* first = x.data() + bases_[o];
      double s = 0;
      if (n > 0 && strided_) {
        s = a.sum(first, step_, n);
      } else {
        for (long j = 0; j < n; ++j) gathered[static_cast<std::size_t>(j)] = first[terms_[static_cast<std::size_t>(j)]];
        s = a.sum(gathered.data(), 1, n);
      }
      y[o] = mean_ ? a.div(s, static_cast<double>(n)) : a.round(s, Target::Storage);
    }
  }
  bool exact() const override { return identity_; }
  std::vector<std::size_t> preparation_inputs() const override { return prep_; }
  void bound(const bounds::BoundRequest& r) const override {
    if (identity_) return OpKernel::bound(r);
    const auto n = static_cast<long>(terms_.size());
    double fail = 0;
    for (std::size_t o = 0; o < bases_.size(); ++o) {
      const bounds::ElementBound b = bounds::reduction_bound(r.model, r.lambda, r.inputs[0], static_cast<long>(bases_[o]), terms_.data(), n,
                                                             {mean_, static_cast<double>(n)});
      r.det[0]->data[o] = b.det;
      r.prob[0]->data[o] = b.prob;
      fail = std::fmax(fail, b.failure);
    }
    if (r.failure_probability) *r.failure_probability = fail;
  }

 private:
  bool mean_;
  bool identity_ = false, strided_ = true;
  std::vector<std::int64_t> terms_, bases_;
  std::int64_t step_ = 1;
  std::vector<std::size_t> prep_;
};

}  // namespace

void register_reduce_ops(std::vector<OpRegistration>& r) {
  r.push_back({"ReduceSum", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<Reduce>(ctx, false); }});
  r.push_back({"ReduceMean", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<Reduce>(ctx, true); }});
}

}  // namespace fpaudit::ops
