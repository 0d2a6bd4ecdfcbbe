#include "core/ops/loss.h"

#include <fmt/format.h>

namespace fpaudit::ops {

LossGeometry::LossGeometry(const OpContext& ctx) {
  const Shape& x = ctx.input_shapes.at(0);
  if (x.size() < 2) ctx.fail(fmt::format("input {} must be [N, C, ...]", shape_string(x)));
  outer_ = static_cast<long>(x[0]);
  classes_ = static_cast<long>(x[1]);
  for (std::size_t d = 2; d < x.size(); ++d) inner_ *= static_cast<long>(x[d]);
  const std::vector<std::int64_t> target = ctx.const_ints(1);
  prep_ = {1};
  std::vector<double> weight(static_cast<std::size_t>(classes_), 1.0);
  if (ctx.has_input(2)) {
    const Constant* w = ctx.const_inputs.size() > 2 ? ctx.const_inputs[2] : nullptr;
    if (w == nullptr) ctx.fail_not_constant(2, "the weights are computed at run time; fpaudit needs them constant");
    weight = w->values;
    prep_.push_back(2);
  }
  const bool ignoring = ctx.node.has_attr("ignore_index");
  const std::int64_t ignored = ctx.node.attr_int("ignore_index", 0);
  const std::string reduction = ctx.node.attr_string("reduction", "mean");
  // Per loss element: its source and -w[t], or no term when ignored.
  std::vector<std::int64_t> source;
  std::vector<double> coefficient;
  std::vector<bool> kept;
  double total_weight = 0;
  for (std::size_t i = 0; i < target.size(); ++i) {
    const std::int64_t t = target[i];
    if (ignoring && t == ignored) {
      kept.push_back(false);
      source.push_back(0);
      coefficient.push_back(0);
      continue;
    }
    if (t < 0 || t >= classes_) ctx.fail(fmt::format("target {} is not a class of {}", t, classes_));
    const auto n = static_cast<std::int64_t>(i) / inner_, d = static_cast<std::int64_t>(i) % inner_;
    kept.push_back(true);
    source.push_back((n * classes_ + t) * inner_ + d);
    coefficient.push_back(-weight[static_cast<std::size_t>(t)]);
    total_weight += weight[static_cast<std::size_t>(t)];
  }
  start_ = {0};
  if (reduction == "none") {
    for (std::size_t i = 0; i < source.size(); ++i) {
      if (kept[i]) {
        source_.push_back(source[i]);
        coefficient_.push_back(coefficient[i]);
      }
      start_.push_back(static_cast<std::int64_t>(source_.size()));
    }
    return;
  }
  if (reduction == "mean" && total_weight == 0) ctx.fail("the weights of the targets sum to 0: their mean is undefined");
  for (std::size_t i = 0; i < source.size(); ++i)
    if (kept[i]) {
      source_.push_back(source[i]);
      coefficient_.push_back(reduction == "mean" ? coefficient[i] / total_weight : coefficient[i]);
    }
  start_.push_back(static_cast<std::int64_t>(source_.size()));
}

}  // namespace fpaudit::ops
