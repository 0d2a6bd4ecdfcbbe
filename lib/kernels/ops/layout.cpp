// Data movement: reshapes, transposes, concatenation, splitting, slicing, gathering. These
// operators are exact in every arithmetic; they carry error and never create it.
#include <algorithm>
#include <functional>
#include <numeric>

#include "kernels/ops/ops.h"

namespace fpaudit::ops {

namespace {

/// Reshape, Flatten, Squeeze, Unsqueeze: the row-major data is unchanged, only the shape.
class Copy : public OpKernel {
 public:
  explicit Copy(std::vector<std::size_t> prep = {}) : prep_(std::move(prep)) {}
  void run(const Arithmetic&, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    out[0]->data = in[0]->data;  // nothing to copy where evaluate_batch handed the input over
  }
  bool exact() const override { return true; }
  bool elementwise_in_place() const override { return true; }
  std::vector<std::size_t> preparation_inputs() const override { return prep_; }

 private:
  std::vector<std::size_t> prep_;
};

/// Any gather of input elements into output positions, precomputed as an index map: output
/// element o of output k is input element map[k][o] of input src[k][o].
class IndexMap : public OpKernel {
 public:
  struct Source { int input; std::int64_t index; };
  IndexMap(std::vector<std::vector<Source>> maps, std::vector<std::size_t> prep)
      : maps_(std::move(maps)), prep_(std::move(prep)) {}
  void run(const Arithmetic&, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    for (std::size_t k = 0; k < maps_.size(); ++k)
      for (std::size_t o = 0; o < maps_[k].size(); ++o) out[k]->data[o] = in[maps_[k][o].input]->data[maps_[k][o].index];
  }
  bool exact() const override { return true; }
  std::vector<std::size_t> preparation_inputs() const override { return prep_; }

 private:
  std::vector<std::vector<Source>> maps_;
  std::vector<std::size_t> prep_;
};

std::vector<std::vector<IndexMap::Source>> single(std::vector<IndexMap::Source> map) {
  std::vector<std::vector<IndexMap::Source>> maps;
  maps.push_back(std::move(map));
  return maps;
}

/// Multi-index of flat position i in shape s.
std::vector<std::int64_t> unravel(std::int64_t i, const Shape& s) {
  std::vector<std::int64_t> idx(s.size());
  for (int d = static_cast<int>(s.size()) - 1; d >= 0; --d) {
    idx[d] = s[d] == 0 ? 0 : i % s[d];
    i = s[d] == 0 ? 0 : i / s[d];
  }
  return idx;
}
std::int64_t ravel(const std::vector<std::int64_t>& idx, const Shape& s) {
  std::int64_t o = 0;
  for (std::size_t d = 0; d < s.size(); ++d) o = o * s[d] + idx[d];
  return o;
}

std::unique_ptr<OpKernel> make_transpose(const OpContext& ctx) {
  const Shape& in = ctx.input_shapes.at(0);
  const int rank = static_cast<int>(in.size());
  std::vector<std::int64_t> perm = ctx.node.attr_ints("perm", {});
  if (perm.empty()) {
    perm.resize(rank);
    std::iota(perm.rbegin(), perm.rend(), 0);  // default: reverse the dimensions
  }
  if (static_cast<int>(perm.size()) != rank) ctx.fail("perm has the wrong length");
  const Shape& out = ctx.output_shapes.at(0);
  std::vector<IndexMap::Source> map(static_cast<std::size_t>(element_count(out)));
  std::vector<std::int64_t> src(rank);
  for (std::size_t o = 0; o < map.size(); ++o) {
    const auto idx = unravel(static_cast<std::int64_t>(o), out);
    for (int d = 0; d < rank; ++d) src[normalize_axis(ctx, perm[d], rank)] = idx[d];
    map[o] = {0, ravel(src, in)};
  }
  return std::make_unique<IndexMap>(single(std::move(map)), std::vector<std::size_t>{});
}

std::unique_ptr<OpKernel> make_concat(const OpContext& ctx) {
  const Shape& out = ctx.output_shapes.at(0);
  const int rank = static_cast<int>(out.size());
  const int axis = normalize_axis(ctx, ctx.node.attr_int("axis", 0), rank);
  std::vector<IndexMap::Source> map(static_cast<std::size_t>(element_count(out)));
  std::vector<std::int64_t> start;  // starting coordinate of each input along axis
  std::int64_t at = 0;
  for (const Shape& s : ctx.input_shapes) {
    start.push_back(at);
    at += s.at(axis);
  }
  for (std::size_t o = 0; o < map.size(); ++o) {
    auto idx = unravel(static_cast<std::int64_t>(o), out);
    int k = static_cast<int>(start.size()) - 1;
    while (idx[axis] < start[k]) --k;
    idx[axis] -= start[k];
    map[o] = {k, ravel(idx, ctx.input_shapes[k])};
  }
  return std::make_unique<IndexMap>(single(std::move(map)), std::vector<std::size_t>{});
}

std::unique_ptr<OpKernel> make_split(const OpContext& ctx) {
  const Shape& in = ctx.input_shapes.at(0);
  const int axis = normalize_axis(ctx, ctx.node.attr_int("axis", 0), static_cast<int>(in.size()));
  std::vector<std::vector<IndexMap::Source>> maps;
  std::int64_t offset = 0;
  for (const Shape& out : ctx.output_shapes) {
    std::vector<IndexMap::Source> map(static_cast<std::size_t>(element_count(out)));
    for (std::size_t o = 0; o < map.size(); ++o) {
      auto idx = unravel(static_cast<std::int64_t>(o), out);
      idx[axis] += offset;
      map[o] = {0, ravel(idx, in)};
    }
    offset += out.at(axis);
    maps.push_back(std::move(map));
  }
  std::vector<std::size_t> prep;
  if (ctx.has_input(1)) prep.push_back(1);  // split sizes (opset 13): consumed by shape inference
  return std::make_unique<IndexMap>(std::move(maps), prep);
}

std::unique_ptr<OpKernel> make_slice(const OpContext& ctx) {
  const Shape& in = ctx.input_shapes.at(0);
  const int rank = static_cast<int>(in.size());
  std::vector<std::int64_t> starts, ends, axes, steps;
  std::vector<std::size_t> prep;
  if (ctx.graph.opset < 10) {  // attributes before opset 10
    starts = ctx.node.attr_ints("starts", {});
    ends = ctx.node.attr_ints("ends", {});
    axes = ctx.node.attr_ints("axes", {});
  } else {
    starts = ctx.const_ints(1);
    ends = ctx.const_ints(2);
    prep = {1, 2};
    if (ctx.has_input(3)) { axes = ctx.const_ints(3); prep.push_back(3); }
    if (ctx.has_input(4)) { steps = ctx.const_ints(4); prep.push_back(4); }
  }
  if (axes.empty()) { axes.resize(starts.size()); std::iota(axes.begin(), axes.end(), 0); }
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    ctx.fail("starts, ends, axes and steps differ in length");
  // Per dimension: first index and step (ONNX clamping rules).
  std::vector<std::int64_t> first(rank, 0), step(rank, 1);
  for (std::size_t i = 0; i < starts.size(); ++i) {
    const int d = normalize_axis(ctx, axes[i], rank);
    const std::int64_t dim = in[d];
    if (steps[i] == 0) ctx.fail("slice step 0");
    std::int64_t s = starts[i] < 0 ? starts[i] + dim : starts[i];
    s = steps[i] > 0 ? std::clamp<std::int64_t>(s, 0, dim) : std::clamp<std::int64_t>(s, 0, dim - 1);
    first[d] = s;
    step[d] = steps[i];
  }
  const Shape& out = ctx.output_shapes.at(0);
  std::vector<IndexMap::Source> map(static_cast<std::size_t>(element_count(out)));
  for (std::size_t o = 0; o < map.size(); ++o) {
    auto idx = unravel(static_cast<std::int64_t>(o), out);
    for (int d = 0; d < rank; ++d) idx[d] = first[d] + idx[d] * step[d];
    map[o] = {0, ravel(idx, in)};
  }
  return std::make_unique<IndexMap>(single(std::move(map)), prep);
}

/// Gather with indices computed at run time (token ids: exact data, ValueInfo::exact_data):
/// out[o, j, i] = in[o, indices[j], i] with o over the axes before `axis` and i over those after.
/// Exact; its error bound is the same gather of the data's bound (PlannedLayer::bound passes the
/// indices' values, which are exact, in place of their zero bound).
class RuntimeGather : public OpKernel {
 public:
  explicit RuntimeGather(const OpContext& ctx) {
    // Indices selected from floating-point data (ArgMax's) may differ between a chain and the
    // reference, which no bound here covers.
    const ValueInfo* indices = ctx.graph.value(ctx.node.inputs.at(1));
    if (!indices || !indices->exact_data)
      ctx.fail(fmt::format("indices '{}' are computed from floating-point data; fpaudit gathers by constant indices or by "
                           "integer inputs", ctx.node.inputs.at(1)));
    const Shape& in = ctx.input_shapes.at(0);
    const int axis = normalize_axis(ctx, ctx.node.attr_int("axis", 0), static_cast<int>(in.size()));
    outer_ = std::accumulate(in.begin(), in.begin() + axis, std::int64_t{1}, std::multiplies<>());
    inner_ = std::accumulate(in.begin() + axis + 1, in.end(), std::int64_t{1}, std::multiplies<>());
    length_ = in[static_cast<std::size_t>(axis)];
    count_ = element_count(ctx.input_shapes.at(1));
    where_ = fmt::format("{}: node '{}' (Gather)", ctx.graph.source.string(), ctx.node.name);
  }
  void run(const Arithmetic&, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    const double* x = in[0]->data.data();
    const double* idx = in[1]->data.data();
    double* y = out[0]->data.data();
    for (std::int64_t j = 0; j < count_; ++j) {
      double pick = idx[j];
      if (!(pick >= static_cast<double>(-length_) && pick < static_cast<double>(length_)))
        throw ModelError(fmt::format("{}: index {} is out of range for an axis of {} (index element {})", where_, pick, length_, j));
      if (pick < 0) pick += static_cast<double>(length_);
      const auto p = static_cast<std::int64_t>(pick);
      for (std::int64_t o = 0; o < outer_; ++o)
        std::copy_n(x + (o * length_ + p) * inner_, inner_, y + (o * count_ + j) * inner_);
    }
  }
  bool exact() const override { return true; }

 private:
  std::int64_t outer_ = 1, inner_ = 1, length_ = 0, count_ = 0;
  std::string where_;
};

std::unique_ptr<OpKernel> make_gather(const OpContext& ctx) {
  if (!ctx.const_inputs.at(1)) return std::make_unique<RuntimeGather>(ctx);
  const Shape& in = ctx.input_shapes.at(0);
  const int rank = static_cast<int>(in.size());
  const int axis = normalize_axis(ctx, ctx.node.attr_int("axis", 0), rank);
  const std::vector<std::int64_t> indices = ctx.const_ints(1);
  const Shape& ishape = ctx.input_shapes.at(1);
  const Shape& out = ctx.output_shapes.at(0);
  std::vector<IndexMap::Source> map(static_cast<std::size_t>(element_count(out)));
  const std::size_t q = ishape.size();
  for (std::size_t o = 0; o < map.size(); ++o) {
    const auto idx = unravel(static_cast<std::int64_t>(o), out);
    // out index = in[:axis] ++ indices-index ++ in[axis+1:]
    std::vector<std::int64_t> iidx(idx.begin() + axis, idx.begin() + axis + static_cast<long>(q));
    std::int64_t pick = indices.at(static_cast<std::size_t>(ravel(iidx, ishape)));
    if (pick < -in[axis] || pick >= in[axis]) ctx.fail(fmt::format("index {} out of range", pick));
    if (pick < 0) pick += in[axis];
    std::vector<std::int64_t> src(idx.begin(), idx.begin() + axis);
    src.push_back(pick);
    src.insert(src.end(), idx.begin() + axis + static_cast<long>(q), idx.end());
    map[o] = {0, ravel(src, in)};
  }
  return std::make_unique<IndexMap>(single(std::move(map)), std::vector<std::size_t>{1});
}

}  // namespace

void register_layout_ops(std::vector<OpRegistration>& r) {
  auto copy = [](std::vector<std::size_t> prep) {
    return [prep](const OpContext&) -> std::unique_ptr<OpKernel> { return std::make_unique<Copy>(prep); };
  };
  r.push_back({"Reshape", copy({1})});
  r.push_back({"Flatten", copy({})});
  r.push_back({"Squeeze", copy({1})});
  r.push_back({"Unsqueeze", copy({1})});
  r.push_back({"Transpose", make_transpose});
  r.push_back({"Concat", make_concat});
  r.push_back({"Split", make_split});
  r.push_back({"Slice", make_slice});
  r.push_back({"Gather", make_gather});
}

}  // namespace fpaudit::ops
