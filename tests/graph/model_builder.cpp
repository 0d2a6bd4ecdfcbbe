#include "graph/model_builder.h"

#include <cstring>
#include <fstream>
#include <random>

#include "graph/loader.h"

namespace fpaudit::test {

namespace {

template <class T>
std::string raw_bytes(const std::vector<T>& values) {
  std::string out(values.size() * sizeof(T), '\0');
  if (!values.empty()) std::memcpy(out.data(), values.data(), out.size());
  return out;
}

onnx::TensorProto header(const std::string& name, const std::vector<std::int64_t>& dims, int type) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(type);
  for (std::int64_t d : dims) t.add_dims(d);
  return t;
}

}  // namespace

onnx::TensorProto float_tensor(const std::string& name, const std::vector<std::int64_t>& dims,
                               const std::vector<float>& values, bool raw) {
  onnx::TensorProto t = header(name, dims, kFloat);
  if (raw) t.set_raw_data(raw_bytes(values));
  else for (float v : values) t.add_float_data(v);
  return t;
}

onnx::TensorProto double_tensor(const std::string& name, const std::vector<std::int64_t>& dims,
                                const std::vector<double>& values, bool raw) {
  onnx::TensorProto t = header(name, dims, kDouble);
  if (raw) t.set_raw_data(raw_bytes(values));
  else for (double v : values) t.add_double_data(v);
  return t;
}

onnx::TensorProto float16_tensor(const std::string& name, const std::vector<std::int64_t>& dims,
                                 const std::vector<std::uint16_t>& bits, bool raw) {
  onnx::TensorProto t = header(name, dims, kFloat16);
  if (raw) t.set_raw_data(raw_bytes(bits));
  else for (std::uint16_t b : bits) t.add_int32_data(b);
  return t;
}

onnx::TensorProto int64_tensor(const std::string& name, const std::vector<std::int64_t>& dims,
                               const std::vector<std::int64_t>& values, bool raw) {
  onnx::TensorProto t = header(name, dims, kInt64);
  if (raw) t.set_raw_data(raw_bytes(values));
  else for (std::int64_t v : values) t.add_int64_data(v);
  return t;
}

onnx::TensorProto int32_tensor(const std::string& name, const std::vector<std::int64_t>& dims,
                               const std::vector<std::int32_t>& values, bool raw) {
  onnx::TensorProto t = header(name, dims, kInt32);
  if (raw) t.set_raw_data(raw_bytes(values));
  else for (std::int32_t v : values) t.add_int32_data(v);
  return t;
}

void set_attr(onnx::NodeProto& node, const std::string& name, std::int64_t value) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

void set_attr(onnx::NodeProto& node, const std::string& name, float value) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(value);
}

void set_attr(onnx::NodeProto& node, const std::string& name, const std::string& value) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(value);
}

void set_attr(onnx::NodeProto& node, const std::string& name, const std::vector<std::int64_t>& value) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (std::int64_t v : value) a->add_ints(v);
}

void set_attr(onnx::NodeProto& node, const std::string& name, const onnx::TensorProto& value) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::TENSOR);
  *a->mutable_t() = value;
}

ModelBuilder::ModelBuilder(std::int64_t opset) {
  model.set_ir_version(8);
  model.set_producer_name("fpaudit-tests");
  auto* o = model.add_opset_import();
  o->set_domain("");
  o->set_version(opset);
  model.mutable_graph()->set_name("test");
}

namespace {
void set_type(onnx::ValueInfoProto* v, int type, const std::vector<std::int64_t>* dims) {
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(type);
  if (!dims) return;
  auto* shape = t->mutable_shape();
  for (std::int64_t d : *dims) {
    auto* dim = shape->add_dim();
    if (d < 0) dim->set_dim_param("N");
    else dim->set_dim_value(d);
  }
}
}  // namespace

ModelBuilder& ModelBuilder::input(const std::string& name, int type, const std::vector<std::int64_t>& dims) {
  auto* v = model.mutable_graph()->add_input();
  v->set_name(name);
  set_type(v, type, &dims);
  return *this;
}

ModelBuilder& ModelBuilder::output(const std::string& name, int type) {
  auto* v = model.mutable_graph()->add_output();
  v->set_name(name);
  set_type(v, type, nullptr);
  return *this;
}

ModelBuilder& ModelBuilder::output(const std::string& name, int type, const std::vector<std::int64_t>& dims) {
  auto* v = model.mutable_graph()->add_output();
  v->set_name(name);
  set_type(v, type, &dims);
  return *this;
}

ModelBuilder& ModelBuilder::initializer(const onnx::TensorProto& tensor) {
  *model.mutable_graph()->add_initializer() = tensor;
  return *this;
}

onnx::NodeProto& ModelBuilder::node(const std::string& op, std::initializer_list<std::string> inputs,
                                    std::initializer_list<std::string> outputs, const std::string& name) {
  auto* n = model.mutable_graph()->add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (const auto& i : inputs) n->add_input(i);
  for (const auto& o : outputs) n->add_output(o);
  return *n;
}

std::string ModelBuilder::bytes() const { return model.SerializeAsString(); }

Graph ModelBuilder::parse(const std::filesystem::path& source) const {
  const std::string b = bytes();
  return parse_onnx(std::as_bytes(std::span(b.data(), b.size())), source);
}

std::filesystem::path ModelBuilder::save(const std::filesystem::path& path) const {
  std::ofstream(path, std::ios::binary) << bytes();
  return path;
}

TempDir::TempDir() {
  std::random_device entropy;
  path_ = std::filesystem::temp_directory_path() / ("fpaudit-test-" + std::to_string(entropy()) + std::to_string(entropy()));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace fpaudit::test

namespace fpaudit::test {

Graph inferred(const ModelBuilder& m, const std::vector<Shape>& input_shapes) {
  Graph g = m.parse();
  infer_shapes(g, input_shapes);
  return g;
}

Shape shape_of(const Graph& g, const std::string& value) {
  const ValueInfo* v = g.value(value);
  if (!v) throw std::runtime_error("no value '" + value + "'");
  return v->shape;
}

}  // namespace fpaudit::test
