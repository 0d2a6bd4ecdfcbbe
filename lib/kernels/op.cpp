#include "kernels/op.h"

#include "kernels/ops/ops.h"

namespace fpaudit {

namespace {
/// Whether the node computes exact data (integers from integer inputs alone, infer_shapes).
bool on_exact_data(const OpContext& ctx) {
  bool any = false;
  for (const std::string& out : ctx.node.outputs) {
    if (out.empty()) continue;
    const ValueInfo* v = ctx.graph.value(out);
    if (!v || !v->exact_data) return false;
    any = true;
  }
  return any;
}
}  // namespace

void OpKernel::run_batch(const Arithmetic& a, long samples, std::span<const Tensor* const> inputs,
                         std::span<Tensor* const> outputs) const {
  const std::size_t ni = inputs.size() / static_cast<std::size_t>(samples), no = outputs.size() / static_cast<std::size_t>(samples);
  for (std::size_t b = 0; b < static_cast<std::size_t>(samples); ++b) run(a, inputs.subspan(b * ni, ni), outputs.subspan(b * no, no));
}

std::unique_ptr<OpKernel> make_op_kernel(const OpContext& ctx) {
  if (on_exact_data(ctx)) return ops::make_integer_kernel(ctx);
  for (const OpRegistration& r : op_registry())
    if (r.op_type == ctx.node.op_type) return r.make(ctx);
  ctx.fail("no kernel for this operator");
}

}  // namespace fpaudit
