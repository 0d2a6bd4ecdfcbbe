// TopK: the K largest (or smallest) elements along an axis, sorted, with their int64 indices
// (exact small integers, as ArgMax's). The values are copies: nothing is rounded, in any
// arithmetic; each chain selects by its own values, so the indices may differ from the exact
// network's where elements are close (the bound rule, lib/bounds/rules/runtime_scan.cpp, says
// by how much). sorted = 0 leaves the order to the runtime: this kernel sorts anyway.
#include "core/ops/topk.h"
#include "kernels/ops/ops.h"

namespace fpaudit::ops {

namespace {

class TopK : public OpKernel, private TopKGeometry {
 public:
  explicit TopK(const OpContext& ctx) : TopKGeometry(ctx) {}
  void run(const Arithmetic&, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const std::vector<double>& x = in[0]->data;
    Tensor* values = out[0];
    Tensor* indices = out.size() > 1 ? out[1] : nullptr;
    std::vector<double> v(static_cast<std::size_t>(length_));
    std::vector<long> pos;
    for (long o = 0; o < outer_; ++o)
      for (long i = 0; i < inner_; ++i) {
        for (long j = 0; j < length_; ++j) v[static_cast<std::size_t>(j)] = x[static_cast<std::size_t>(base(o, i) + j * inner_)];
        order(v, pos);
        for (long k = 0; k < k_; ++k) {
          const auto at = static_cast<std::size_t>(out_base(o, i) + k * inner_);
          const long j = pos[static_cast<std::size_t>(k)];
          if (values) values->data[at] = v[static_cast<std::size_t>(j)];
          if (indices) indices->data[at] = static_cast<double>(j);
        }
      }
  }
  bool exact() const override { return true; }
  std::vector<std::size_t> preparation_inputs() const override { return prep_; }
};

}  // namespace

void register_topk_ops(std::vector<OpRegistration>& r) {
  r.push_back({"TopK", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<TopK>(ctx); }});
}

}  // namespace fpaudit::ops
