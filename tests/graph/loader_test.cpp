// load_onnx / parse_onnx: what a well-formed model becomes, and the one-line refusal of every
// kind of bad model (the exact message is part of the contract: file, node, problem).
#include <cmath>
#include <cstring>

#include <doctest/doctest.h>

#include "graph/loader.h"
#include "graph/model_builder.h"

using namespace fpaudit;
using namespace fpaudit::test;

namespace {

/// x[N,4] → Gemm(W[3,4] typed, B[3] raw, transB) → unnamed Relu → y.
ModelBuilder small_mlp() {
  ModelBuilder m(13);
  m.input("x", kFloat, {-1, 4}).output("y");
  m.initializer(float_tensor("W", {3, 4}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
  m.initializer(float_tensor("B", {3}, {0.5f, -0.25f, 0.125f}, /*raw=*/true));
  set_attr(m.node("Gemm", {"x", "W", "B"}, {"h"}, "fc"), "transB", std::int64_t{1});
  m.node("Relu", {"h"}, {"y"});
  return m;
}

}  // namespace

TEST_CASE("a small MLP: nodes, names, weights from typed and raw fields, declared inputs") {
  const Graph g = small_mlp().parse();
  CHECK(g.source == "model.onnx");
  CHECK(g.opset == 13);
  CHECK(g.producer == "fpaudit-tests");
  REQUIRE(g.nodes.size() == 2);
  CHECK(g.nodes[0].name == "fc");
  CHECK(g.nodes[0].op_type == "Gemm");
  CHECK(g.nodes[0].inputs == std::vector<std::string>{"x", "W", "B"});
  CHECK(g.nodes[0].attr_int("transB", 0) == 1);
  CHECK(g.nodes[1].name == "Relu_1");  // unnamed: <op>_<index in the file>
  REQUIRE(g.inputs.size() == 1);
  CHECK(g.inputs[0].name == "x");
  CHECK(g.inputs[0].dtype == DType::Float32);
  CHECK(g.inputs[0].shape == Shape{-1, 4});
  REQUIRE(g.outputs.size() == 1);
  CHECK(g.outputs[0].name == "y");
  CHECK_FALSE(g.outputs[0].has_shape);
  const Constant* w = g.constant("W");
  REQUIRE(w);
  CHECK(w->dtype == DType::Float32);
  CHECK(w->shape == Shape{3, 4});
  CHECK(w->values[11] == 12.0);
  CHECK(g.constant("B")->values == std::vector<double>{0.5, -0.25, 0.125});
  CHECK(g.value("W")->shape == Shape{3, 4});
}

TEST_CASE("float16, double, int32 and int64 weights, typed and raw, keep their exact values") {
  for (bool raw : {false, true}) {
    INFO("raw_data: " << raw);
    ModelBuilder m;
    m.input("x", kFloat, {4}).output("y");
    // 1, 2^-24 (smallest subnormal), -2, 65504 (largest finite)
    m.initializer(float16_tensor("h", {4}, {0x3C00, 0x0001, 0xC000, 0x7BFF}, raw));
    m.initializer(double_tensor("d", {2}, {0.1, -1e300}, raw));
    m.initializer(int32_tensor("i32", {2}, {-7, 2147483647}, raw));
    m.initializer(int64_tensor("i64", {2}, {-9223372036854775807 - 1, 42}, raw));
    m.node("Add", {"x", "h"}, {"a"});
    m.node("Mul", {"a", "d"}, {"b"});
    m.node("Gather", {"b", "i64"}, {"c"});
    m.node("Gather", {"c", "i32"}, {"y"});
    const Graph g = m.parse();
    CHECK(g.constant("h")->dtype == DType::Float16);
    CHECK(g.constant("h")->values == std::vector<double>{1.0, std::ldexp(1.0, -24), -2.0, 65504.0});
    CHECK(g.constant("d")->dtype == DType::Float64);
    CHECK(g.constant("d")->values == std::vector<double>{0.1, -1e300});
    CHECK(g.constant("i32")->dtype == DType::Int32);
    CHECK(g.constant("i32")->ints == std::vector<std::int64_t>{-7, 2147483647});
    CHECK(g.constant("i64")->ints == std::vector<std::int64_t>{-9223372036854775807 - 1, 42});
  }
}

TEST_CASE("Constant nodes become constants and leave the node list") {
  ModelBuilder m;
  m.input("x", kFloat, {2}).output("y");
  set_attr(m.node("Constant", {}, {"c"}, "c0"), "value", float_tensor("", {2}, {1.5f, -3}));
  set_attr(m.node("Constant", {}, {"s"}, "c1"), "value_float", 0.25f);
  set_attr(m.node("Constant", {}, {"axes"}, "c2"), "value_ints", std::vector<std::int64_t>{0});
  m.node("Mul", {"x", "c"}, {"a"});
  m.node("Mul", {"a", "s"}, {"b"});
  m.node("Unsqueeze", {"b", "axes"}, {"y"});
  const Graph g = m.parse();
  REQUIRE(g.nodes.size() == 3);
  CHECK(g.nodes[0].op_type == "Mul");
  CHECK(g.constant("c")->values == std::vector<double>{1.5, -3.0});
  CHECK(g.constant("s")->shape == Shape{});
  CHECK(g.constant("s")->values == std::vector<double>{0.25});
  CHECK(g.constant("axes")->dtype == DType::Int64);
  CHECK(g.constant("axes")->shape == Shape{1});
}

TEST_CASE("nodes are sorted topologically, dead nodes dropped, unread optional outputs cleared") {
  ModelBuilder m;
  m.input("x", kFloat, {2}).output("y");
  m.node("Relu", {"h"}, {"y"}, "second");           // reads h, defined below
  m.node("Dropout", {"x"}, {"h", "mask"}, "first");  // mask is read by nobody
  m.node("Exp", {"x"}, {"unused"}, "dead");          // feeds no output
  const Graph g = m.parse();
  REQUIRE(g.nodes.size() == 2);
  CHECK(g.nodes[0].name == "first");
  CHECK(g.nodes[0].outputs == std::vector<std::string>{"h", ""});
  CHECK(g.nodes[1].name == "second");
}

TEST_CASE("node names are made unique") {
  ModelBuilder m;
  m.input("x", kFloat, {2}).output("y");
  m.node("Relu", {"x"}, {"a"}, "act");
  m.node("Relu", {"a"}, {"b"}, "act");
  m.node("Relu", {"b"}, {"y"}, "Relu_0");  // collides with nothing: the first "act" is named
  const Graph g = m.parse();
  CHECK(g.nodes[0].name == "act");
  CHECK(g.nodes[1].name == "act_1");
  CHECK(g.nodes[2].name == "Relu_0");
}

TEST_CASE("initializers listed among the inputs (IR < 4) are constants, not inputs") {
  ModelBuilder m = small_mlp();
  auto* v = m.model.mutable_graph()->add_input();
  v->set_name("W");
  v->mutable_type()->mutable_tensor_type()->set_elem_type(kFloat);
  const Graph g = m.parse();
  REQUIRE(g.inputs.size() == 1);
  CHECK(g.inputs[0].name == "x");
}

TEST_CASE("load_onnx reads a file; missing files and folders are refused") {
  TempDir dir;
  const Graph g = load_onnx(small_mlp().save(dir / "mlp.onnx"));
  CHECK(g.source == dir / "mlp.onnx");
  CHECK(g.nodes.size() == 2);
  CHECK(error_of([&] { load_onnx(dir / "none.onnx"); }) == (dir / "none.onnx").string() + ": cannot open: no such file");
  CHECK(error_of([&] { load_onnx(dir.path()); }) == dir.path().string() + ": cannot open: not a regular file");
}

TEST_CASE("load_onnx frees each weight's bytes as it converts them: the same graph as parse_onnx") {
  // load_onnx converts from a parsed copy whose tensors it empties one by one; nothing may read
  // a tensor after it is freed (a second read would see no data and refuse the model).
  TempDir dir;
  ModelBuilder m = small_mlp();
  m.initializer(float_tensor("unused_raw", {2}, {3.0f, 4.0f}, /*raw=*/true));
  const Graph loaded = load_onnx(m.save(dir / "mlp.onnx"));
  const Graph parsed = m.parse();
  REQUIRE(loaded.constants.size() == parsed.constants.size());
  for (const auto& [name, c] : parsed.constants) {
    INFO(name);
    const Constant* l = loaded.constant(name);
    REQUIRE(l);
    CHECK(l->shape == c->shape);
    CHECK(l->values == c->values);
    CHECK(l->ints == c->ints);
  }
}

TEST_CASE("a copy of a graph shares its constants; set_constant replaces one in the copy only") {
  const Graph g = small_mlp().parse();
  Graph copy = g;
  CHECK(copy.constant("W") == g.constant("W"));  // the same data, not a second copy of the weights
  Constant doubled = *g.constant("W");
  for (double& v : doubled.values) v *= 2;
  copy.set_constant("W", std::move(doubled));
  CHECK(copy.constant("W")->values[11] == 24.0);
  CHECK(g.constant("W")->values[11] == 12.0);
  CHECK_FALSE(copy.add_constant("B", Constant{}));  // taken: kept as it was
  CHECK(copy.constant("B")->values.size() == 3);
  CHECK(copy.add_constant("C", Constant{DType::Float32, {1}, {1.0}, {}}));
  CHECK(g.constant("C") == nullptr);
}

// ---- refusals ----------------------------------------------------------------------------

TEST_CASE("truncated, garbled and empty files") {
  const std::string full = small_mlp().bytes();
  for (std::size_t cut : {std::size_t{1}, full.size() / 2}) {
    INFO("cut " << cut << " bytes");
    const std::string part = full.substr(0, full.size() - cut);
    CHECK(error_of([&] { parse_onnx(std::as_bytes(std::span(part.data(), part.size())), "m.onnx"); }) ==
          "m.onnx: not a valid ONNX model (the protobuf encoding is truncated or corrupt)");
  }
  const unsigned char garbage[] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01};
  CHECK(error_of([&] { parse_onnx(std::as_bytes(std::span(garbage)), "m.onnx"); }) ==
        "m.onnx: not a valid ONNX model (the protobuf encoding is truncated or corrupt)");
  CHECK(error_of([&] { parse_onnx({}, "m.onnx"); }) == "m.onnx: not an ONNX model: it contains no graph");
  CHECK(error_of([&] { parse_onnx({}, ""); }) == "<memory>: not an ONNX model: it contains no graph");
}

TEST_CASE("opsets outside 7..21 and other domains") {
  for (int opset : {7, 21}) {
    ModelBuilder m(opset);
    m.input("x", kFloat, {2}).output("y");
    m.node("Relu", {"x"}, {"y"});
    CHECK(m.parse().opset == opset);
  }
  for (int opset : {6, 22}) {
    ModelBuilder m(opset);
    m.input("x", kFloat, {2}).output("y");
    m.node("Relu", {"x"}, {"y"});
    CHECK(error_of([&] { m.parse(); }) ==
          "model.onnx: opset " + std::to_string(opset) +
              " of the default domain is not supported (fpaudit reads opsets 7 to 21; convert the model with "
              "onnx.version_converter)");
  }
  ModelBuilder m;
  m.input("x", kFloat, {2}).output("y");
  m.node("FusedConv", {"x"}, {"y"}, "fc").set_domain("com.microsoft");
  CHECK(error_of([&] { m.parse(); }) ==
        "model.onnx: node 'fc' (FusedConv): operator FusedConv of domain 'com.microsoft' is not supported (fpaudit "
        "reads the default ONNX domain only)");
  m.model.clear_opset_import();
  CHECK(error_of([&] { m.parse(); }) == "model.onnx: the model imports no opset of the default ONNX domain");
  m.model.set_ir_version(2);
  CHECK(error_of([&] { m.parse(); }) ==
        "model.onnx: IR version 2 predates opset imports; fpaudit reads IR version 3 and later");
}

TEST_CASE("an unsupported operator is refused at load time, naming it and the node") {
  ModelBuilder m;
  m.input("x", kFloat, {1, 2, 3}).output("y");
  m.node("Relu", {"x"}, {"h"}, "act");
  m.node("Scan", {"h"}, {"y"}, "scan");
  CHECK(error_of([&] { m.parse(); }) == "model.onnx: node 'scan' (Scan): operator Scan is not supported by fpaudit");
}

TEST_CASE("undefined values, double definitions and cycles name the node") {
  ModelBuilder missing = small_mlp();
  missing.model.mutable_graph()->mutable_initializer()->RemoveLast();  // drop B
  CHECK(error_of([&] { missing.parse(); }) ==
        "model.onnx: node 'fc' (Gemm): input 'B' is not defined by any initializer, graph input or node");

  ModelBuilder twice;
  twice.input("x", kFloat, {2}).output("y");
  twice.node("Relu", {"x"}, {"y"}, "a");
  twice.node("Exp", {"x"}, {"y"}, "b");
  CHECK(error_of([&] { twice.parse(); }) ==
        "model.onnx: node 'b' (Exp): output 'y' is already defined by an initializer, input or earlier node");

  ModelBuilder no_output;
  no_output.input("x", kFloat, {2}).output("z");
  no_output.node("Relu", {"x"}, {"y"});
  CHECK(error_of([&] { no_output.parse(); }) == "model.onnx: output 'z' is not produced by any node");

  ModelBuilder cyclic;
  cyclic.input("x", kFloat, {2}).output("y");
  cyclic.node("Add", {"x", "c"}, {"a"}, "add");
  cyclic.node("Relu", {"a"}, {"b"}, "relu");
  cyclic.node("Exp", {"b"}, {"c"}, "exp");
  cyclic.node("Identity", {"a"}, {"y"}, "out");
  CHECK(error_of([&] { cyclic.parse(); }) == "model.onnx: the graph has a cycle: 'add' -> 'relu' -> 'exp' -> 'add'");
}

TEST_CASE("malformed tensors: sizes against dims, negative dims, unsupported element types") {
  auto with = [](const onnx::TensorProto& w) {
    ModelBuilder m;
    m.input("x", kFloat, {2, 2}).output("y");
    m.initializer(w);
    m.node("Add", {"x", "W"}, {"y"});
    return m;
  };
  onnx::TensorProto short_raw = float_tensor("W", {2, 2}, {1, 2, 3}, true);
  CHECK(error_of([&] { with(short_raw).parse(); }) ==
        "model.onnx: initializer 'W': raw_data holds 12 bytes but dims [2, 2] of float32 need 16");
  CHECK(error_of([&] { with(float_tensor("W", {2, 2}, {1, 2, 3, 4, 5})).parse(); }) ==
        "model.onnx: initializer 'W': holds 5 values but dims [2, 2] need 4");
  CHECK(error_of([&] { with(float_tensor("W", {2, -2}, {})).parse(); }) ==
        "model.onnx: initializer 'W': negative dimension -2 in dims");
  // A few bytes claiming 2^32 elements are refused before anything is allocated.
  CHECK(error_of([&] { with(float_tensor("W", {65536, 65536}, {})).parse(); }) ==
        "model.onnx: initializer 'W': 4294967296 elements would exceed fpaudit's limit of 1073741824 constant "
        "elements per model");
  onnx::TensorProto text;
  text.set_name("W");
  text.set_data_type(kString);
  text.add_string_data("hello");
  CHECK(error_of([&] { with(text).parse(); }) ==
        "model.onnx: initializer 'W': element type STRING is not supported (fpaudit reads FLOAT16, BFLOAT16, FLOAT, "
        "DOUBLE, INT64, INT32, INT8, UINT8, BOOL)");
  onnx::TensorProto wide_half = float16_tensor("W", {1}, {0});
  wide_half.set_int32_data(0, 70000);
  CHECK(error_of([&] { with(wide_half).parse(); }) ==
        "model.onnx: initializer 'W': int32_data[0] = 70000 is not a 16-bit pattern");
}

TEST_CASE("inputs of unsupported type and attributes of the wrong kind") {
  ModelBuilder m;
  m.input("x", kUint16, {2}).output("y");
  m.node("Relu", {"x"}, {"y"});
  CHECK(error_of([&] { m.parse(); }) == "model.onnx: input 'x': element type UINT16 is not supported");

  ModelBuilder bad_attr;
  bad_attr.input("x", kFloat, {1, 4}).output("y");
  set_attr(bad_attr.node("Softmax", {"x"}, {"y"}, "sm"), "axis", 1.5f);
  const Graph g = bad_attr.parse();
  CHECK(error_of([&] { (void)g.nodes[0].attr_int("axis", -1); }) ==
        "node 'sm' (Softmax): attribute 'axis' is a float, expected an int");
  Graph copy = g;
  const Shape shape{1, 4};
  CHECK(error_of([&] { infer_shapes(copy, std::span(&shape, 1)); }) ==
        "model.onnx: node 'sm' (Softmax): attribute 'axis' is a float, expected an int");
}

TEST_CASE("supported_operators is sorted and contains the fold-only operators") {
  const auto ops = supported_operators();
  CHECK(ops.size() == 113);
  CHECK(std::is_sorted(ops.begin(), ops.end()));
  CHECK(std::binary_search(ops.begin(), ops.end(), "LayerNormalization"));
  CHECK(std::binary_search(ops.begin(), ops.end(), "LSTM"));
  CHECK_FALSE(std::binary_search(ops.begin(), ops.end(), "Scan"));
  for (std::string_view op : fold_only_operators()) CHECK(std::binary_search(ops.begin(), ops.end(), op));
}

TEST_CASE("IR helpers: element counts, shape strings, dtype names, lookups") {
  CHECK(element_count({}) == 1);  // a scalar
  CHECK(element_count({2, 0, 5}) == 0);
  CHECK(element_count({-1, 4}) == -1);
  CHECK(element_count({std::int64_t{1} << 30, std::int64_t{1} << 30, 4}) == (std::int64_t{1} << 40) + 1);  // saturates
  CHECK(shape_string({}) == "[]");
  CHECK(shape_string({-1, 3, 28}) == "[?, 3, 28]");
  CHECK(dtype_name(DType::BFloat16) == "bfloat16");
  CHECK(dtype_name(DType::UInt8) == "uint8");
  CHECK(is_float(DType::Float16));
  CHECK_FALSE(is_float(DType::Bool));
  const Graph g = small_mlp().parse();
  CHECK(g.constant("x") == nullptr);
  CHECK(g.value("x")->shape == Shape{-1, 4});
  CHECK(g.value("nothing") == nullptr);
  CHECK(g.nodes[0].attr_int("transA", 7) == 7);
  CHECK(g.nodes[0].attr_ints("missing", {1, 2}) == std::vector<std::int64_t>{1, 2});
  CHECK(error_of([&] { (void)g.nodes[0].attr_string("transB", ""); }) ==
        "node 'fc' (Gemm): attribute 'transB' is an int, expected a string");
}
