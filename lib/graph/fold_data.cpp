// Folding of the fixed selections GatherElements and Trilu (exact copies, and zeros), and the
// selection maps they share with their runtime kernels (graph/selection.h).
#include <fmt/format.h>

#include "graph/dtype.h"
#include "graph/fold.h"
#include "graph/selection.h"

namespace fpaudit {

namespace {

std::vector<std::int64_t> row_strides(const Shape& s) {
  std::vector<std::int64_t> stride(s.size(), 1);
  for (std::size_t d = s.size(); d-- > 1;) stride[d - 1] = stride[d] * s[d];
  return stride;
}

/// out[k] = in[sources[k]], or 0 where sources[k] < 0.
Constant select(const Constant& in, const TensorType& out, const std::vector<std::int64_t>& sources) {
  Constant c = make_constant(out);
  for (std::size_t k = 0; k < sources.size(); ++k) {
    if (sources[k] < 0) continue;  // make_constant filled zeros
    const auto from = static_cast<std::size_t>(sources[k]);
    if (is_float(c.dtype)) c.values[k] = in.values[from];
    else c.ints[k] = in.ints[from];
  }
  return c;
}

std::optional<std::vector<Constant>> gather_elements(const ShapeContext& ctx, const std::vector<TensorType>& outputs) {
  const Shape& data = ctx.input(0).shape;
  const auto axis = static_cast<int>(ctx.axis(ctx.node().attr_int("axis", 0), static_cast<std::int64_t>(data.size())));
  std::string problem;
  const auto sources = gather_elements_sources(data, ctx.input(1).shape, ctx.int_values(1, "indices"), axis, problem);
  if (!problem.empty()) ctx.fail(problem);
  return std::vector<Constant>{select(*ctx.constant(0), outputs[0], sources)};
}

std::optional<std::vector<Constant>> trilu(const ShapeContext& ctx, const std::vector<TensorType>& outputs) {
  const std::int64_t k = ctx.has(1) ? ctx.int_values(1, "k").at(0) : 0;
  const bool upper = ctx.node().attr_int("upper", 1) != 0;
  return std::vector<Constant>{select(*ctx.constant(0), outputs[0], trilu_sources(ctx.input(0).shape, k, upper))};
}

constexpr FoldRuleEntry kRules[] = {
    {"GatherElements", gather_elements},
    {"Trilu", trilu},
};

}  // namespace

std::span<const FoldRuleEntry> data_fold_rules() { return kRules; }

std::vector<std::int64_t> gather_elements_sources(const Shape& data, const Shape& indices_shape,
                                                  const std::vector<std::int64_t>& indices, int axis, std::string& problem) {
  const std::vector<std::int64_t> in_stride = row_strides(data), idx_stride = row_strides(indices_shape);
  const std::int64_t dim = data[static_cast<std::size_t>(axis)];
  std::vector<std::int64_t> sources(indices.size());
  for (std::size_t o = 0; o < indices.size(); ++o) {
    std::int64_t k = indices[o];
    if (k < -dim || k >= dim) {
      problem = fmt::format("index {} is out of range for dimension {} of size {}", k, axis, dim);
      return {};
    }
    if (k < 0) k += dim;
    std::int64_t at = 0, rest = static_cast<std::int64_t>(o);
    for (std::size_t d = 0; d < data.size(); ++d) {
      const std::int64_t i = rest / idx_stride[d];
      rest %= idx_stride[d];
      at += (static_cast<int>(d) == axis ? k : i) * in_stride[d];
    }
    sources[o] = at;
  }
  return sources;
}

std::vector<std::int64_t> trilu_sources(const Shape& x, std::int64_t k, bool upper) {
  const std::int64_t rows = x[x.size() - 2], cols = x[x.size() - 1];
  std::vector<std::int64_t> sources(static_cast<std::size_t>(element_count(x)));
  for (std::size_t o = 0; o < sources.size(); ++o) {
    const auto at = static_cast<std::int64_t>(o);
    const std::int64_t i = (at / cols) % rows, j = at % cols;
    sources[o] = (upper ? j - i >= k : j - i <= k) ? at : -1;
  }
  return sources;
}

}  // namespace fpaudit
