// libFuzzer target, structure-aware: the input bytes are a recipe for a small ONNX model made of
// supported operators with random attributes and constant inputs. Mutating raw protobuf
// bytes (fuzz_onnx) rarely produces a model that gets past the loader; this target reaches the
// shape rules, folding and costs with odd shapes, axes, pads and values instead. The outcome
// must be an inferred graph or a ModelError.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>
#include <onnx/onnx_pb.h>

#include "format/format.h"
#include "graph/cost.h"
#include "graph/loader.h"
#include "graph/weight_stats.h"

namespace {

constexpr const char* kAttributeKeys[] = {
    "axis",   "axes",      "perm",      "pads",     "strides",  "dilations",     "kernel_shape", "group",
    "auto_pad", "ceil_mode", "keepdims", "allowzero", "transA", "transB",        "split",        "starts",
    "ends",   "to",        "value",     "start",    "end",      "noop_with_empty_axes", "output_shape",
    "output_padding", "fmod", "coordinate_transformation_mode", "training_mode", "alpha", "epsilon",
    "stash_type"};
constexpr const char* kStrings[] = {"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID", "half_pixel", "tf_crop_and_resize"};
constexpr int kTypes[] = {1, 7, 6, 10, 9, 11, 16, 2, 3, 12};  // float, int64, int32, float16, bool, double, bf16, u8, i8, u32

std::int64_t small(FuzzedDataProvider& in) { return in.ConsumeIntegralInRange<std::int64_t>(-3, 8); }

std::vector<std::int64_t> small_list(FuzzedDataProvider& in, std::size_t max) {
  std::vector<std::int64_t> v(in.ConsumeIntegralInRange<std::size_t>(0, max));
  for (auto& x : v) x = small(in);
  return v;
}

/// A tensor of a random type with small dims and small values.
onnx::TensorProto tensor(FuzzedDataProvider& in, const std::string& name) {
  onnx::TensorProto t;
  t.set_name(name);
  const int type = kTypes[in.ConsumeIntegralInRange<std::size_t>(0, std::size(kTypes) - 1)];
  t.set_data_type(type);
  std::int64_t count = 1;
  const auto rank = in.ConsumeIntegralInRange<int>(0, 3);
  for (int i = 0; i < rank; ++i) {
    const auto d = in.ConsumeIntegralInRange<std::int64_t>(0, 4);
    t.add_dims(d);
    count *= d;
  }
  for (std::int64_t i = 0; i < count; ++i) {
    const std::int64_t v = small(in);
    switch (type) {
      case 1: t.add_float_data(static_cast<float>(v) / 2); break;
      case 11: t.add_double_data(static_cast<double>(v) / 4); break;
      case 7: t.add_int64_data(v); break;
      case 12: t.add_uint64_data(static_cast<std::uint64_t>(v)); break;
      case 9: t.add_int32_data(v > 0 ? 1 : 0); break;
      case 10: case 16: t.add_int32_data(static_cast<std::int32_t>(in.ConsumeIntegral<std::uint16_t>())); break;
      default: t.add_int32_data(static_cast<std::int32_t>(v)); break;
    }
  }
  return t;
}

void add_attribute(FuzzedDataProvider& in, onnx::NodeProto& node) {
  auto* a = node.add_attribute();
  a->set_name(kAttributeKeys[in.ConsumeIntegralInRange<std::size_t>(0, std::size(kAttributeKeys) - 1)]);
  switch (in.ConsumeIntegralInRange<int>(0, 4)) {
    case 0: a->set_type(onnx::AttributeProto::INT); a->set_i(small(in)); break;
    case 1: {
      a->set_type(onnx::AttributeProto::INTS);
      for (std::int64_t v : small_list(in, 6)) a->add_ints(v);
      break;
    }
    case 2: a->set_type(onnx::AttributeProto::STRING); a->set_s(kStrings[in.ConsumeIntegralInRange<std::size_t>(0, std::size(kStrings) - 1)]); break;
    case 3: a->set_type(onnx::AttributeProto::FLOAT); a->set_f(static_cast<float>(small(in)) / 8); break;
    default: a->set_type(onnx::AttributeProto::TENSOR); *a->mutable_t() = tensor(in, ""); break;
  }
}

onnx::ModelProto build(FuzzedDataProvider& in) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  auto* opset = m.add_opset_import();
  opset->set_version(in.ConsumeIntegralInRange<std::int64_t>(9, 17));
  onnx::GraphProto& g = *m.mutable_graph();
  std::vector<std::string> values{"x"};
  auto* x = g.add_input();
  x->set_name("x");
  auto* type = x->mutable_type()->mutable_tensor_type();
  type->set_elem_type(in.ConsumeBool() ? 1 : 10);
  const auto rank = in.ConsumeIntegralInRange<int>(0, 5);
  for (int i = 0; i < rank; ++i) type->mutable_shape()->add_dim()->set_dim_value(in.ConsumeIntegralInRange<std::int64_t>(0, 6));
  for (int i = in.ConsumeIntegralInRange<int>(0, 4); i > 0; --i) {
    *g.add_initializer() = tensor(in, "c" + std::to_string(i));
    values.push_back("c" + std::to_string(i));
  }
  const auto ops = fpaudit::supported_operators();
  for (int n = in.ConsumeIntegralInRange<int>(1, 8); n > 0; --n) {
    auto* node = g.add_node();
    node->set_op_type(std::string(ops[in.ConsumeIntegralInRange<std::size_t>(0, ops.size() - 1)]));
    for (int i = in.ConsumeIntegralInRange<int>(0, 4); i > 0; --i)
      node->add_input(in.ConsumeIntegralInRange<int>(0, 9) == 0 ? "" : values[in.ConsumeIntegralInRange<std::size_t>(0, values.size() - 1)]);
    for (int i = in.ConsumeIntegralInRange<int>(1, 3); i > 0; --i) {
      node->add_output("v" + std::to_string(values.size()));
      values.push_back(node->output(node->output_size() - 1));
    }
    for (int i = in.ConsumeIntegralInRange<int>(0, 4); i > 0; --i) add_attribute(in, *node);
  }
  g.add_output()->set_name(values.back());
  if (in.ConsumeBool()) g.add_output()->set_name(values[in.ConsumeIntegralInRange<std::size_t>(0, values.size() - 1)]);
  return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace fpaudit;
  FuzzedDataProvider in(data, size);
  const std::string bytes = build(in).SerializeAsString();
  try {
    Graph g = parse_onnx(std::as_bytes(std::span(bytes.data(), bytes.size())), "");
    std::vector<Shape> shapes;
    for (const ValueInfo& in_info : g.inputs) shapes.push_back(in_info.shape);
    infer_shapes(g, shapes);
    const Format formats[] = {binary16(), e4m3()};
    for (const Node& n : g.nodes) {
      (void)multiply_adds(g, n);
      (void)parameter_count(g, n);
      (void)weight_stats(g, n, formats);
    }
  } catch (const ModelError&) {
    // the expected way to refuse a bad model
  }
  return 0;
}
