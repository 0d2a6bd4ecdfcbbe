#include "kernels/op.h"

namespace fpaudit {

std::unique_ptr<OpKernel> make_op_kernel(const OpContext& ctx) {
  for (const OpRegistration& r : op_registry())
    if (r.op_type == ctx.node.op_type) return r.make(ctx);
  ctx.fail("no kernel for this operator");
}

}  // namespace fpaudit
