// What ScatterND works out at preparation, read by its kernel (lib/kernels/ops/data_select.cpp)
// and its bound rule (lib/bounds/rules/runtime_scan.cpp): for each update element, the output
// element it is written into; applied in the updates' order, as ONNX applies them (the order of
// the index tuples).
// The indices must be constant; data and updates may be runtime values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/op_context.h"
#include "core/tensor.h"

namespace fpaudit::ops {

enum class ScatterReduction : std::uint8_t { None, Add, Mul, Max, Min };

struct ScatterNdGeometry {
  explicit ScatterNdGeometry(const OpContext& ctx) {
    const std::string red = ctx.node.attr_string("reduction", "none");
    if (red == "none") reduction_ = ScatterReduction::None;
    else if (red == "add") reduction_ = ScatterReduction::Add;
    else if (red == "mul") reduction_ = ScatterReduction::Mul;
    else if (red == "max") reduction_ = ScatterReduction::Max;
    else if (red == "min") reduction_ = ScatterReduction::Min;
    else ctx.fail(fmt::format("reduction '{}' must be none, add, mul, max or min", red));
    if (ctx.const_inputs.size() < 2 || ctx.const_inputs[1] == nullptr)
      ctx.fail("the indices are computed at run time; fpaudit scatters only with constant indices");
    const Shape& data = ctx.input_shapes.at(0);
    const Shape& ishape = ctx.input_shapes.at(1);
    const std::vector<std::int64_t> idx = ctx.const_ints(1);
    if (ishape.empty()) ctx.fail("indices must have rank 1 or more");
    const auto q = static_cast<std::size_t>(ishape.back());
    if (q < 1 || q > data.size()) ctx.fail(fmt::format("the last axis of indices {} must be in [1, {}]", shape_string(ishape), data.size()));
    const std::vector<std::int64_t> stride = strides_of(data);
    std::int64_t slice = 1;
    for (std::size_t d = q; d < data.size(); ++d) slice *= data[d];
    const std::size_t tuples = idx.size() / q;
    for (std::size_t t = 0; t < tuples; ++t) {
      std::int64_t at = 0;
      for (std::size_t d = 0; d < q; ++d) {
        std::int64_t i = idx[t * q + d];
        if (i < 0) i += data[d];  // negative indices count from the end
        if (i < 0 || i >= data[d]) ctx.fail(fmt::format("index {} is out of range for axis {} of size {}", idx[t * q + d], d, data[d]));
        at += i * stride[d];
      }
      for (std::int64_t s = 0; s < slice; ++s) targets_.push_back(at + s);
    }
    prep_ = {1};
  }
  ScatterReduction reduction_ = ScatterReduction::None;
  /// targets_[k]: the output element update element k goes to.
  std::vector<std::int64_t> targets_;
  std::vector<std::size_t> prep_;
};

}  // namespace fpaudit::ops
