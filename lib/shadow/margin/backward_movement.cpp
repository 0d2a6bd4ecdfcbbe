// Backward step of the operators that only move values: Transpose, Gather (constant indices),
// Slice, Concat, Expand, Tile, DepthToSpace, SpaceToDepth, Split (one map per output). Each output element is one input
// element, so the Jacobian is a 0/1 selection and gᵀJ adds every output's cotangent to its
// source (theory/margin-bound-nonlinear.md §4).
//
// The source of every output element is read off the operator's own kernel rather than worked
// out a second time: the kernel runs once, at preparation, on inputs whose values are their own
// positions (runtime input k, element i holds k·2^32 + i + 1, exact in binary64; constant
// inputs hold 0), and what lands in each output position names its source.
#include <algorithm>

#include "core/reference_arithmetic.h"
#include "kernels/op.h"
#include "shadow/margin/backward.h"

namespace fpaudit::margin {

namespace {

struct Source {
  int input = -1;  ///< -1: a constant (or padding): nothing to propagate
  std::int64_t index = 0;
};

class MovementBackward : public BackwardStep {
 public:
  explicit MovementBackward(std::vector<std::vector<Source>> maps) : maps_(std::move(maps)) {}
  bool reads_boxes() const override { return false; }
  void apply(std::span<const TrajectoryBox>, const Cotangent& out, std::span<Cotangent* const> in) const override {
    add(maps_[0], out, in);
  }
  bool multiple_outputs() const override { return true; }
  void apply_outputs(std::span<const TrajectoryBox>, std::span<const Cotangent* const> outs, std::span<Cotangent* const> in) const override {
    for (std::size_t k = 0; k < outs.size() && k < maps_.size(); ++k)
      if (outs[k]) add(maps_[k], *outs[k], in);
  }

 private:
  static void add(const std::vector<Source>& map, const Cotangent& out, std::span<Cotangent* const> in) {
    for (std::size_t o = 0; o < map.size(); ++o) {
      const Source& s = map[o];
      if (s.input < 0 || !in[static_cast<std::size_t>(s.input)]) continue;
      add_exact(out, static_cast<long>(o), *in[static_cast<std::size_t>(s.input)], static_cast<long>(s.index));
    }
  }
  std::vector<std::vector<Source>> maps_;  ///< per output
};

}  // namespace

std::unique_ptr<BackwardStep> make_movement_backward(const OpContext& ctx) {
  if (ctx.output_shapes.empty()) return nullptr;
  const std::unique_ptr<OpKernel> kernel = make_op_kernel(ctx);
  if (!kernel->exact()) return nullptr;
  const std::vector<std::size_t> prep = kernel->preparation_inputs();
  constexpr double kInputStride = 0x1p32;
  std::vector<Tensor> inputs;
  inputs.reserve(ctx.input_shapes.size());
  std::vector<const Tensor*> in_ptrs;
  for (std::size_t k = 0; k < ctx.input_shapes.size(); ++k) {
    inputs.emplace_back(ctx.input_shapes[k]);
    Tensor& t = inputs.back();
    const bool prep_only = std::find(prep.begin(), prep.end(), k) != prep.end();
    if (!ctx.has_input(k) || prep_only) {
      in_ptrs.push_back(nullptr);
      continue;
    }
    if (t.data.size() >= static_cast<std::size_t>(kInputStride)) return nullptr;
    if (!ctx.const_inputs[k])
      for (std::size_t i = 0; i < t.data.size(); ++i) t.data[i] = static_cast<double>(k) * kInputStride + static_cast<double>(i) + 1;
    in_ptrs.push_back(&t);
  }
  std::vector<Tensor> outs;
  for (const Shape& shape : ctx.output_shapes) outs.emplace_back(shape);
  std::vector<Tensor*> out_ptrs;
  for (Tensor& t : outs) out_ptrs.push_back(&t);
  static const ExactArithmetic exact;
  kernel->run(exact, in_ptrs, out_ptrs);
  std::vector<std::vector<Source>> maps;
  for (const Tensor& out : outs) {
    std::vector<Source>& map = maps.emplace_back(out.data.size());
    for (std::size_t o = 0; o < out.data.size(); ++o) {
      const double v = out.data[o];
      if (v == 0) continue;
      const auto code = static_cast<std::int64_t>(v) - 1;
      map[o] = {static_cast<int>(code / static_cast<std::int64_t>(kInputStride)), code % static_cast<std::int64_t>(kInputStride)};
    }
  }
  return std::make_unique<MovementBackward>(std::move(maps));
}

}  // namespace fpaudit::margin
