#include "kernels/op.h"

#include <fmt/format.h>

#include "core/reference_arithmetic.h"

namespace fpaudit {

void OpContext::fail(const std::string& problem) const {
  throw ModelError(fmt::format("{}: node '{}' ({}): {}", graph.source.string(), node.name, node.op_type, problem));
}

std::vector<std::int64_t> OpContext::const_ints(std::size_t i) const {
  if (!has_input(i)) fail(fmt::format("input {} is required", i));
  const Constant* c = i < const_inputs.size() ? const_inputs[i] : nullptr;
  if (c == nullptr) fail(fmt::format("input {} ('{}') must be a constant", i, node.inputs[i]));
  if (!c->ints.empty() || c->values.empty()) return c->ints;
  std::vector<std::int64_t> out;
  for (double v : c->values) out.push_back(static_cast<std::int64_t>(v));
  return out;
}

void OpKernel::bound(const bounds::BoundRequest& request) const {
  if (!exact()) throw bounds::NoBound("no error-bound rule for this operator");
  // A selection or permutation of its inputs: |sel(x_c) - sel(x̄)| ≤ sel(err) for data
  // movement, and for max-type selections |max a - max b| ≤ max |a - b| ≤ max err.
  static const ExactArithmetic exact;
  std::vector<const Tensor*> det_in, prob_in;
  for (const bounds::Enclosure& e : request.inputs) {
    det_in.push_back(e.err);
    prob_in.push_back(e.err_prob);
  }
  run(exact, det_in, request.det);
  run(exact, prob_in, request.prob);
}

std::unique_ptr<OpKernel> make_op_kernel(const OpContext& ctx) {
  for (const OpRegistration& r : op_registry())
    if (r.op_type == ctx.node.op_type) return r.make(ctx);
  ctx.fail("no kernel for this operator");
}

}  // namespace fpaudit
