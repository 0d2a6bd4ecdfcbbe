// The backward pass of data movement, and the reader lists the other families share.
#include <algorithm>
#include <string>

#include "core/reference_arithmetic.h"
#include "kernels/op.h"
#include "train/backward_ops.h"

namespace fpaudit::train {

ReaderLists::ReaderLists(std::span<const std::int64_t> source, std::int64_t n) : start(static_cast<std::size_t>(n) + 1, 0) {
  for (std::int64_t s : source)
    if (s >= 0) ++start[static_cast<std::size_t>(s) + 1];
  for (std::size_t j = 1; j < start.size(); ++j) start[j] += start[j - 1];
  order.resize(static_cast<std::size_t>(start.back()));
  std::vector<std::int64_t> next(start.begin(), start.end() - 1);
  for (std::size_t o = 0; o < source.size(); ++o)
    if (source[o] >= 0) order[static_cast<std::size_t>(next[static_cast<std::size_t>(source[o])]++)] = static_cast<std::int64_t>(o);
}

double ReaderLists::norm() const {
  std::int64_t most = 0;
  for (std::size_t j = 0; j + 1 < start.size(); ++j) most = std::max(most, start[j + 1] - start[j]);
  return sqrt_up(static_cast<double>(most));
}

void gather_sums(const BackwardArithmetic& b, const ReaderLists& r, std::span<const double> dy, std::span<double> dx) {
  std::vector<double> terms;
  for (std::size_t j = 0; j < dx.size(); ++j) {
    const std::span<const std::int64_t> readers = r.of(static_cast<std::int64_t>(j));
    if (readers.size() <= 1) {
      dx[j] = readers.empty() ? 0.0 : dy[static_cast<std::size_t>(readers[0])];
      continue;
    }
    terms.clear();
    for (std::int64_t o : readers) terms.push_back(dy[static_cast<std::size_t>(o)]);
    dx[j] = checked_sum(b, terms);
  }
}

bool trains(const OpContext& ctx, std::size_t input) {
  const Constant* c = input < ctx.const_inputs.size() ? ctx.const_inputs[input] : nullptr;
  return c && is_float(c->dtype) && element_count(c->shape) > 1;
}

namespace {

/// Input k's element j is numbered k·2^40 + j + 1, exactly representable in binary64 for any
/// tensor fpaudit loads; 0 marks an output element that copies nothing.
constexpr double kInputStride = 0x1p40;

class MovementBackward : public LayerBackward {
 public:
  explicit MovementBackward(const OpContext& ctx) {
    const std::unique_ptr<OpKernel> kernel = make_op_kernel(ctx);
    const std::vector<std::size_t> prep = kernel->preparation_inputs();
    const std::size_t n_in = ctx.node.inputs.size();
    std::vector<Tensor> numbered(n_in);
    std::vector<const Tensor*> in(n_in, nullptr);
    data_.assign(n_in, false);
    for (std::size_t k = 0; k < n_in; ++k) {
      if (!ctx.has_input(k) || std::find(prep.begin(), prep.end(), k) != prep.end()) continue;
      const Constant* c = ctx.const_inputs[k];
      if (c && !is_float(c->dtype)) continue;  // integer data is moved, never differentiated
      data_[k] = true;
      numbered[k] = Tensor(ctx.input_shapes[k]);
      for (std::size_t j = 0; j < numbered[k].data.size(); ++j) numbered[k].data[j] = static_cast<double>(k) * kInputStride + static_cast<double>(j) + 1;
      in[k] = &numbered[k];
      if (trains(ctx, k)) params_.push_back(k);
    }
    Tensor out(ctx.output_shapes.at(0));
    Tensor* outs[] = {&out};
    static const ExactArithmetic exact;
    kernel->run(exact, in, outs);
    for (std::size_t k = 0; k < n_in; ++k) {
      if (!data_[k]) {
        readers_.emplace_back(std::span<const std::int64_t>{}, 0);
        continue;
      }
      std::vector<std::int64_t> source(out.data.size(), -1);
      for (std::size_t o = 0; o < out.data.size(); ++o) {
        const double v = out.data[o];
        if (v >= 1 && static_cast<std::size_t>((v - 1) / kInputStride) == k)
          source[o] = static_cast<std::int64_t>(v - 1 - static_cast<double>(k) * kInputStride);
      }
      readers_.emplace_back(source, element_count(ctx.input_shapes[k]));
    }
  }
  std::vector<std::size_t> parameters() const override { return params_; }
  double backward_norm(std::size_t i, std::span<const Tensor* const>, const Tensor&) const override {
    return readers_[i].norm();
  }
  bool differentiable(std::size_t i) const override { return i < data_.size() && data_[i]; }
  void run(const BackwardArithmetic& b, std::span<const Tensor* const>, const Tensor&, const Tensor& dy,
           std::span<Tensor* const> grads) const override {
    for (std::size_t k = 0; k < grads.size(); ++k)
      if (grads[k] && data_[k]) gather_sums(b, readers_[k], dy.data, grads[k]->data);
  }

 private:
  std::vector<bool> data_;
  std::vector<std::size_t> params_;
  std::vector<ReaderLists> readers_;
};

}  // namespace

std::unique_ptr<LayerBackward> make_movement_backward(const OpContext& ctx) {
  static const char* const kOps[] = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Transpose",
                                     "Concat",  "Slice",   "Gather",  "Expand",    "Tile"};
  const std::string& op = ctx.node.op_type;
  if (std::none_of(std::begin(kOps), std::end(kOps), [&](const char* k) { return op == k; })) return nullptr;
  if (ctx.output_shapes.size() != 1) return nullptr;
  return std::make_unique<MovementBackward>(ctx);
}

}  // namespace fpaudit::train
