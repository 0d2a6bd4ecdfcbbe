// Data movement on runtime data: Tile, Expand, DepthToSpace and SpaceToDepth. Each output
// element is a copy of one input element, fixed at preparation: exact in every arithmetic, and
// with no bound rule, the engine runs the kernel on the bounds, which moves them the same way.
#include "core/ops/broadcast.h"
#include "kernels/ops/ops.h"

namespace fpaudit::ops {

namespace {

/// out[o] = in[source[o]] for a map computed once.
class Gathered : public OpKernel {
 public:
  Gathered(std::vector<std::int64_t> source, std::vector<std::size_t> prep) : source_(std::move(source)), prep_(std::move(prep)) {}
  void run(const Arithmetic&, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const std::vector<double>& x = in[0]->data;
    std::vector<double>& y = out[0]->data;
    for (std::size_t o = 0; o < source_.size(); ++o) y[o] = x[static_cast<std::size_t>(source_[o])];
  }
  bool exact() const override { return true; }
  std::vector<std::size_t> preparation_inputs() const override { return prep_; }

 private:
  std::vector<std::int64_t> source_;
  std::vector<std::size_t> prep_;
};

/// Calls f(o, idx) for every output position o with its multi-index, row-major.
template <class F>
void for_each_index(const Shape& out, F&& f) {
  std::vector<std::int64_t> idx(out.size(), 0);
  const std::int64_t total = element_count(out);
  for (std::int64_t o = 0; o < total; ++o) {
    f(o, idx);
    for (int d = static_cast<int>(out.size()) - 1; d >= 0; --d) {
      if (++idx[static_cast<std::size_t>(d)] < out[static_cast<std::size_t>(d)]) break;
      idx[static_cast<std::size_t>(d)] = 0;
    }
  }
}

std::int64_t offset(const std::vector<std::int64_t>& idx, const std::vector<std::int64_t>& stride) {
  std::int64_t at = 0;
  for (std::size_t d = 0; d < idx.size(); ++d) at += idx[d] * stride[d];
  return at;
}

/// Tile: output index i along axis d reads input index i mod x[d].
std::unique_ptr<OpKernel> make_tile(const OpContext& ctx) {
  const Shape& x = ctx.input_shapes.at(0);
  const Shape& out = ctx.output_shapes.at(0);
  const std::vector<std::int64_t> stride = strides_of(x);
  std::vector<std::int64_t> source(static_cast<std::size_t>(element_count(out)));
  for_each_index(out, [&](std::int64_t o, const std::vector<std::int64_t>& idx) {
    std::int64_t at = 0;
    for (std::size_t d = 0; d < idx.size(); ++d) at += (idx[d] % x[d]) * stride[d];
    source[static_cast<std::size_t>(o)] = at;
  });
  return std::make_unique<Gathered>(std::move(source), std::vector<std::size_t>{1});
}

/// Expand: numpy broadcasting of the input to the output shape.
std::unique_ptr<OpKernel> make_expand(const OpContext& ctx) {
  const Shape& out = ctx.output_shapes.at(0);
  const Broadcast bc({ctx.input_shapes.at(0)}, out);
  std::vector<std::int64_t> source(static_cast<std::size_t>(element_count(out)));
  bc.for_each([&](std::int64_t o, const std::int64_t* off) { source[static_cast<std::size_t>(o)] = off[0]; });
  return std::make_unique<Gathered>(std::move(source), std::vector<std::size_t>{1});
}

/// DepthToSpace: out[n, c, h·b + i, w·b + j] = in[n, ch, h, w] with ch = (i·b + j)·C_out + c
/// (DCR, the default) or c·b² + i·b + j (CRD). SpaceToDepth: out[n, (i·b + j)·C + c, h, w] =
/// in[n, c, h·b + i, w·b + j].
std::unique_ptr<OpKernel> make_depth_space(const OpContext& ctx) {
  const Shape& x = ctx.input_shapes.at(0);
  const Shape& out = ctx.output_shapes.at(0);
  const std::int64_t b = ctx.node.attr_int("blocksize", 0);
  const bool to_space = ctx.node.op_type == "DepthToSpace";
  const bool crd = to_space && ctx.node.attr_string("mode", "DCR") == "CRD";
  const std::vector<std::int64_t> stride = strides_of(x);
  std::vector<std::int64_t> source(static_cast<std::size_t>(element_count(out)));
  for_each_index(out, [&](std::int64_t o, const std::vector<std::int64_t>& idx) {
    std::vector<std::int64_t> in_idx(4);
    in_idx[0] = idx[0];
    if (to_space) {
      const std::int64_t c = idx[1], i = idx[2] % b, j = idx[3] % b;
      in_idx[1] = crd ? c * b * b + i * b + j : (i * b + j) * out[1] + c;
      in_idx[2] = idx[2] / b;
      in_idx[3] = idx[3] / b;
    } else {
      const std::int64_t block = idx[1] / x[1], c = idx[1] % x[1];
      in_idx[1] = c;
      in_idx[2] = idx[2] * b + block / b;
      in_idx[3] = idx[3] * b + block % b;
    }
    source[static_cast<std::size_t>(o)] = offset(in_idx, stride);
  });
  return std::make_unique<Gathered>(std::move(source), std::vector<std::size_t>{});
}

}  // namespace

void register_data_layout_ops(std::vector<OpRegistration>& r) {
  r.push_back({"Tile", make_tile});
  r.push_back({"Expand", make_expand});
  r.push_back({"DepthToSpace", make_depth_space});
  r.push_back({"SpaceToDepth", make_depth_space});
}

}  // namespace fpaudit::ops
