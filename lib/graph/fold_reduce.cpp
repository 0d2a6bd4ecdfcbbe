// Folding the reductions exporters use in shape arithmetic: integer sums, products, minima and
// maxima, and float minima and maxima (exact). Float sums and means depend on the summation
// order, so they stay nodes for the engine to evaluate.
#include <cmath>
#include <numeric>

#include "graph/broadcast.h"
#include "graph/fold.h"

namespace fpaudit {

namespace {

using Outputs = std::optional<std::vector<Constant>>;
using Types = std::vector<TensorType>;
using Ints = std::vector<std::int64_t>;

Outputs reduce(const ShapeContext& ctx, const Types& out) {
  const std::string& op = ctx.node().op_type;
  const Constant& in = *ctx.constant(0);
  const bool extremum = op == "ReduceMin" || op == "ReduceMax";
  if (op == "ReduceMean" || (is_float(in.dtype) && !extremum)) return std::nullopt;

  // The output with the reduced axes kept as 1: each input element lands on the output element
  // with the same index outside the reduced axes.
  const Shape& s = in.shape;
  const Ints given = ctx.int_list("axes", 1).value_or(Ints{});
  Ints axes = ctx.axes(given, static_cast<std::int64_t>(s.size()));
  if (given.empty()) {
    if (ctx.node().attr_int("noop_with_empty_axes", 0) != 0) return std::vector<Constant>{in};
    axes.resize(s.size());
    std::iota(axes.begin(), axes.end(), 0);
  }
  Shape kept = s;
  for (std::int64_t a : axes) kept[static_cast<std::size_t>(a)] = 1;
  const Ints landing = broadcast_offsets(kept, s);  // for each input element, its output element

  Constant c = make_constant(out[0]);
  std::vector<bool> seen(static_cast<std::size_t>(c.size()), false);
  for (std::size_t k = 0; k < landing.size(); ++k) {
    const auto o = static_cast<std::size_t>(landing[k]);
    const bool first = !seen[o];
    seen[o] = true;
    if (is_float(in.dtype)) {
      const double v = in.values[k];
      double& r = c.values[o];
      r = first || std::isnan(v) ? v : std::isnan(r) ? r : op == "ReduceMax" ? std::max(r, v) : std::min(r, v);
      continue;
    }
    const std::int64_t v = in.ints[k];
    std::int64_t& r = c.ints[o];
    if (first) r = v;
    else if (op == "ReduceSum") r = static_cast<std::int64_t>(static_cast<std::uint64_t>(r) + static_cast<std::uint64_t>(v));
    else if (op == "ReduceProd") r = static_cast<std::int64_t>(static_cast<std::uint64_t>(r) * static_cast<std::uint64_t>(v));
    else r = op == "ReduceMax" ? std::max(r, v) : std::min(r, v);
  }
  // Reducing an empty axis: the sum is 0 and the product 1; a minimum or maximum is undefined.
  for (std::size_t o = 0; o < seen.size(); ++o)
    if (!seen[o]) {
      if (extremum) return std::nullopt;
      c.ints[o] = op == "ReduceProd" ? 1 : 0;
    }
  return std::vector<Constant>{std::move(c)};
}

constexpr FoldRuleEntry kRules[] = {
    {"ReduceMax", reduce}, {"ReduceMean", reduce}, {"ReduceMin", reduce}, {"ReduceProd", reduce}, {"ReduceSum", reduce},
};

}  // namespace

std::span<const FoldRuleEntry> reduce_fold_rules() { return kRules; }

}  // namespace fpaudit
