// Folding of the fixed selections GatherElements and Trilu (exact copies, and zeros), Pad,
// OneHot and NonZero (constants only: its output shape depends on the values), and the
// selection maps they share with their runtime kernels (graph/selection.h).
#include <fmt/format.h>
#include <fmt/ranges.h>

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

/// Pad's pads: the input (opset 11 on) or the attribute (before).
std::vector<std::int64_t> pad_amounts(const ShapeContext& ctx) {
  if (ctx.opset() < 11) return ctx.node().attr_ints("pads", {});
  return ctx.int_values(1, "pads");
}

std::optional<std::vector<Constant>> pad(const ShapeContext& ctx, const std::vector<TensorType>& outputs) {
  std::string problem;
  const auto sources = pad_sources(ctx.input(0).shape, pad_amounts(ctx), ctx.node().attr_string("mode", "constant"), problem);
  if (!problem.empty()) ctx.fail(problem);
  Constant c = select(*ctx.constant(0), outputs[0], sources);
  const double fill = ctx.opset() < 11 ? ctx.node().attr_float("value", 0.0) : ctx.has(2) ? real_at(*ctx.constant(2), 0) : 0.0;
  for (std::size_t k = 0; k < sources.size(); ++k)
    if (sources[k] < 0) {
      if (is_float(c.dtype)) c.values[k] = fill;
      else c.ints[k] = static_cast<std::int64_t>(fill);
    }
  return std::vector<Constant>{c};
}

/// The real values of a constant input.
std::vector<double> reals(const Constant& c) {
  std::vector<double> v(static_cast<std::size_t>(c.size()));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = real_at(c, i);
  return v;
}

std::optional<std::vector<Constant>> one_hot(const ShapeContext& ctx, const std::vector<TensorType>& outputs) {
  const auto depth = static_cast<std::int64_t>(real_at(*ctx.constant(1), 0));
  const auto axis = static_cast<int>(ctx.axis(ctx.node().attr_int("axis", -1), ctx.input(0).rank() + 1));
  return std::vector<Constant>{
      select(*ctx.constant(2), outputs[0], one_hot_sources(ctx.input(0).shape, reals(*ctx.constant(0)), depth, axis))};
}

/// NonZero: the coordinates of the nonzero elements, one row per axis, in row-major order.
std::optional<std::vector<Constant>> non_zero(const ShapeContext& ctx, const std::vector<TensorType>& outputs) {
  const Constant& x = *ctx.constant(0);
  const std::vector<std::int64_t> stride = row_strides(x.shape);
  const std::int64_t count = outputs[0].shape.at(1);
  Constant c = make_constant(outputs[0]);
  std::int64_t k = 0;
  for (std::size_t i = 0; i < static_cast<std::size_t>(x.size()); ++i) {
    if (real_at(x, i) == 0) continue;
    std::int64_t rest = static_cast<std::int64_t>(i);
    for (std::size_t d = 0; d < stride.size(); ++d) {
      c.ints[static_cast<std::size_t>(static_cast<std::int64_t>(d) * count + k)] = rest / stride[d];
      rest %= stride[d];
    }
    ++k;
  }
  return std::vector<Constant>{c};
}

constexpr FoldRuleEntry kRules[] = {
    {"NonZero", non_zero},
    {"Pad", pad},
    {"OneHot", one_hot},
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

std::vector<std::int64_t> pad_sources(const Shape& x, const std::vector<std::int64_t>& pads, const std::string& mode,
                                      std::string& problem) {
  const std::size_t rank = x.size();
  if (pads.size() != 2 * rank) {
    problem = fmt::format("pads has {} values, {} expected for rank {}", pads.size(), 2 * rank, rank);
    return {};
  }
  if (mode != "constant" && mode != "edge" && mode != "reflect" && mode != "wrap") {
    problem = fmt::format("mode '{}' must be constant, edge, reflect or wrap", mode);
    return {};
  }
  Shape out(rank);
  for (std::size_t d = 0; d < rank; ++d) {
    out[d] = x[d] + pads[d] + pads[d + rank];
    if (out[d] < 0 || (x[d] == 0 && out[d] > 0 && mode != "constant")) {
      problem = fmt::format("pads {} do not fit axis {} of size {} in mode {}", fmt::join(pads, ", "), d, x[d], mode);
      return {};
    }
    if (mode == "reflect" && (pads[d] >= x[d] || pads[d + rank] >= x[d]) && (pads[d] > 0 || pads[d + rank] > 0)) {
      problem = fmt::format("reflect pads {} of axis {} must be less than its size {}", fmt::join(pads, ", "), d, x[d]);
      return {};
    }
    // Wrap repeats the axis periodically; a crop on one side would change the period (ONNX
    // crops first), which is not worth the ambiguity.
    if (mode == "wrap" && (pads[d] < 0 || pads[d + rank] < 0) && (pads[d] > 0 || pads[d + rank] > 0)) {
      problem = fmt::format("wrap pads {} of axis {} mix a crop with a pad", fmt::join(pads, ", "), d);
      return {};
    }
  }
  const std::vector<std::int64_t> in_stride = row_strides(x), out_stride = row_strides(out);
  std::vector<std::int64_t> sources(static_cast<std::size_t>(element_count(out)));
  for (std::size_t o = 0; o < sources.size(); ++o) {
    std::int64_t at = 0, rest = static_cast<std::int64_t>(o);
    for (std::size_t d = 0; d < rank && at >= 0; ++d) {
      std::int64_t i = rest / out_stride[d] - pads[d];
      rest %= out_stride[d];
      const std::int64_t n = x[d];
      if (i < 0 || i >= n) {
        if (mode == "constant") {
          at = -1;
          break;
        }
        if (mode == "edge") i = i < 0 ? 0 : n - 1;
        else if (mode == "wrap") i = ((i % n) + n) % n;  // periodic, pads of any size
        else i = i < 0 ? -i : 2 * (n - 1) - i;  // reflect: pads < n keep it inside
      }
      at += i * in_stride[d];
    }
    sources[o] = at;
  }
  return sources;
}

std::vector<std::int64_t> one_hot_sources(const Shape& indices_shape, const std::vector<double>& indices, std::int64_t depth,
                                          int axis) {
  // Output index = (outer, k, inner) with outer × inner the indices' positions split at axis.
  std::int64_t inner = 1;
  for (std::size_t d = static_cast<std::size_t>(axis); d < indices_shape.size(); ++d) inner *= indices_shape[d];
  std::vector<std::int64_t> sources(indices.size() * static_cast<std::size_t>(depth), 0);
  for (std::size_t p = 0; p < indices.size(); ++p) {
    auto k = static_cast<std::int64_t>(indices[p]);  // ONNX casts the index to an integer
    if (k < 0) k += depth;
    if (k < 0 || k >= depth) continue;  // out of range: all off
    const std::int64_t outer = static_cast<std::int64_t>(p) / inner, in = static_cast<std::int64_t>(p) % inner;
    sources[static_cast<std::size_t>((outer * depth + k) * inner + in)] = 1;
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
