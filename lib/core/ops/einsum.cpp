#include "core/ops/einsum.h"

#include <fmt/format.h>

#include "core/tensor.h"
#include "graph/einsum.h"

namespace fpaudit::ops {

namespace {

/// The offsets of every combination of `labels` (row-major, the last label fastest) in one
/// operand whose per-label stride is `stride` (0 for labels it lacks or broadcasts).
std::vector<std::int64_t> offsets_over(const std::vector<int>& labels, const EinsumSpec& s,
                                       const std::vector<std::int64_t>& stride) {
  std::vector<std::int64_t> out = {0};
  for (int l : labels) {
    const std::int64_t n = s.size[static_cast<std::size_t>(l)], st = stride[static_cast<std::size_t>(l)];
    std::vector<std::int64_t> next;
    next.reserve(out.size() * static_cast<std::size_t>(n));
    for (std::int64_t o : out)
      for (std::int64_t i = 0; i < n; ++i) next.push_back(o + i * st);
    out = std::move(next);
  }
  return out;
}

}  // namespace

EinsumGeometry::EinsumGeometry(const OpContext& ctx) {
  const std::size_t n = ctx.node.inputs.size();
  if (n < 1) ctx.fail("Einsum without operands");
  std::string problem;
  const EinsumSpec s = parse_einsum(ctx.node.attr_string("equation", ""), ctx.input_shapes, problem);
  if (!problem.empty()) ctx.fail(problem);
  for (int l : s.summed_labels) K_ *= s.size[static_cast<std::size_t>(l)];
  for (std::size_t k = 0; k < n; ++k) {
    // A label's stride in this operand: the sum of the strides of its axes (a repeated label
    // walks the diagonal), 0 where the operand lacks it or broadcasts it from extent 1.
    const Shape& shape = ctx.input_shapes[k];
    const std::vector<std::int64_t> axis_stride = strides_of(shape);
    std::vector<std::int64_t> stride(s.size.size(), 0);
    for (std::size_t d = 0; d < shape.size(); ++d) {
      const auto l = static_cast<std::size_t>(s.operand_labels[k][d]);
      if (shape[d] != 1 || s.size[l] == 1) stride[l] += axis_stride[d];
    }
    base_.push_back(offsets_over(s.output_labels, s, stride));
    terms_.push_back(offsets_over(s.summed_labels, s, stride));
  }
}

}  // namespace fpaudit::ops
