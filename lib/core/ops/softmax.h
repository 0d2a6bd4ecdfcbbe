// What Softmax and LogSoftmax work out at preparation, read by their kernel
// (lib/kernels/ops/softmax.cpp) and their bound rule (lib/bounds/rules/softmax.cpp).
#pragma once

#include "core/op_context.h"

namespace fpaudit::ops {

/// X as outer_ × length_ × inner_, normalised along the middle axis.
struct SoftmaxGeometry {
  explicit SoftmaxGeometry(const OpContext& ctx) {
    const Shape& s = ctx.input_shapes.at(0);
    const int rank = static_cast<int>(s.size());
    if (rank == 0) ctx.fail("softmax of a scalar");
    // Before opset 13 the input is coerced to 2-D at `axis` (default 1) and normalised over
    // the whole second dimension; since 13 it is normalised along `axis` alone (default -1).
    const bool coerced = ctx.graph.opset < 13;
    const int axis = normalize_axis(ctx, ctx.node.attr_int("axis", coerced ? 1 : -1), rank);
    outer_ = 1;
    for (int d = 0; d < axis; ++d) outer_ *= s[d];
    if (coerced) {
      length_ = 1;
      for (int d = axis; d < rank; ++d) length_ *= s[d];
      inner_ = 1;
    } else {
      length_ = s[axis];
      inner_ = 1;
      for (int d = axis + 1; d < rank; ++d) inner_ *= s[d];
    }
  }
  long outer_ = 1, length_ = 1, inner_ = 1;
};

}  // namespace fpaudit::ops
