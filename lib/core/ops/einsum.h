// What Einsum works out at preparation, read by its kernel (lib/kernels/ops/einsum.cpp) and its
// bound rule (lib/bounds/rules/linear.cpp): the equation (graph/einsum.h) turned into offsets.
// Output element o is
//   one operand:  Σ_k x[base_[0][o] + terms_[0][k]]
//   two operands: Σ_k a[base_[0][o] + terms_[0][k]]·b[base_[1][o] + terms_[1][k]]
//   n ≥ 3:        Σ_k u_k·z_k with u_k the product of the first n - 1 operands' elements, left to
//                 right, each product rounded into A, and z_k the last operand's element
// over the K = Π(summed extents) combinations of the summed labels, in row-major order of the
// labels' numbers (first appearance in the equation): one fixed summation order, the same in
// every arithmetic, summed by the chain's schedule like MatMul's dot products.
#pragma once

#include <cstdint>
#include <vector>

#include "core/op_context.h"

namespace fpaudit::ops {

struct EinsumGeometry {
  explicit EinsumGeometry(const OpContext& ctx);
  std::int64_t K_ = 1;
  std::vector<std::vector<std::int64_t>> base_, terms_;  ///< per operand
};

}  // namespace fpaudit::ops
