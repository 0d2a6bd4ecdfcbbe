#include "core/ops/linear.h"

#include <algorithm>

#include <fmt/format.h>

namespace fpaudit::ops {

GemmGeometry::GemmGeometry(const OpContext& ctx) {
  alpha_ = ctx.node.attr_float("alpha", 1.0);
  beta_ = ctx.node.attr_float("beta", 1.0);
  trans_a_ = ctx.node.attr_int("transA", 0) != 0;
  trans_b_ = ctx.node.attr_int("transB", 0) != 0;
  const Shape& a = ctx.input_shapes.at(0);
  const Shape& b = ctx.input_shapes.at(1);
  if (a.size() != 2 || b.size() != 2) ctx.fail("A and B must be matrices");
  M_ = trans_a_ ? a[1] : a[0];
  K_ = trans_a_ ? a[0] : a[1];
  N_ = trans_b_ ? b[0] : b[1];
  if ((trans_b_ ? b[1] : b[0]) != K_) ctx.fail(fmt::format("inner dimensions differ: A {} B {}", shape_string(a), shape_string(b)));
  if (ctx.has_input(2)) {
    const Shape& c = ctx.input_shapes[2];
    const std::int64_t count = element_count(c);
    // A bias per output feature ([N] or [1, N]) rides in the GEMM; anything else is added after.
    c_per_feature_ = count == N_ && (c.size() == 1 || (c.size() == 2 && c[0] == 1));
    c_shape_ = c;
    has_c_ = true;
  }
}

MatMulGeometry::MatMulGeometry(const OpContext& ctx) {
  Shape a = ctx.input_shapes.at(0), b = ctx.input_shapes.at(1);
  if (a.empty() || b.empty()) ctx.fail("MatMul of a scalar");
  if (a.size() == 1) a.insert(a.begin(), 1);
  if (b.size() == 1) b.push_back(1);
  M_ = a[a.size() - 2];
  K_ = a.back();
  N_ = b.back();
  if (b[b.size() - 2] != K_) ctx.fail(fmt::format("inner dimensions differ: {} x {}", shape_string(a), shape_string(b)));
  // Batch broadcasting: for each output batch index, the batch offsets into A and B.
  const Shape ab(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2);
  const std::size_t rank = std::max(ab.size(), bb.size());
  Shape batch(rank, 1);
  auto dim = [&](const Shape& s, std::size_t d) { return d + s.size() < rank ? 1 : s[d + s.size() - rank]; };
  for (std::size_t d = 0; d < rank; ++d) {
    const auto x = dim(ab, d), y = dim(bb, d);
    if (x != y && x != 1 && y != 1) ctx.fail("batch dimensions do not broadcast");
    batch[d] = std::max(x, y);
  }
  const std::int64_t batches = element_count(batch);
  for (std::int64_t i = 0; i < batches; ++i) {
    std::int64_t rem = i, oa = 0, ob = 0, sa = 1, sb = 1;
    for (int d = static_cast<int>(rank) - 1; d >= 0; --d) {
      const std::int64_t idx = rem % batch[d];
      rem /= batch[d];
      const auto da = dim(ab, d), db = dim(bb, d);
      oa += (da == 1 ? 0 : idx) * sa;
      ob += (db == 1 ? 0 : idx) * sb;
      sa *= da;
      sb *= db;
    }
    a_off_.push_back(oa * M_ * K_);
    b_off_.push_back(ob * K_ * N_);
  }
}

}  // namespace fpaudit::ops
