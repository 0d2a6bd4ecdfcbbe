// infer_shapes on single operators: ONNX semantics of broadcasting, matrix products, layout
// operators with negative axes, the attribute-vs-input changes between opsets, reductions and
// Resize, and the refusals of wrong input shapes. Window operators: shapes_window_test.cpp.
#include <doctest/doctest.h>

#include "graph/loader.h"
#include "graph/model_builder.h"

using namespace fpaudit;
using namespace fpaudit::test;

namespace {

/// y = op(x, <initializers>) for one runtime input x.
struct OneOp {
  ModelBuilder m;
  onnx::NodeProto* node;
  OneOp(const std::string& op, std::initializer_list<std::string> inputs, std::int64_t opset = 13,
        std::vector<std::int64_t> x_dims = {-1, -1, -1, -1})
      : m(opset) {
    m.input("x", kFloat, x_dims).output("y");
    node = &m.node(op, inputs, {"y"}, "n");
  }
  Shape infer(const Shape& x) const { return shape_of(inferred(m, {x}), "y"); }
  std::string error(const Shape& x) const { return error_of([&] { (void)inferred(m, {x}); }); }
};

}  // namespace

TEST_CASE("broadcasting binary and variadic operators") {
  OneOp add("Add", {"x", "b"}, 13, {-1, -1, -1});
  add.m.initializer(float_tensor("b", {3, 1}, {1, 2, 3}));
  CHECK(add.infer({2, 1, 4}) == Shape{2, 3, 4});
  CHECK(add.infer({1, 3, 0}) == Shape{1, 3, 0});  // 1 stretches to 0 and 0 stays
  CHECK(add.error({2, 2, 4}) == "model.onnx: node 'n' (Add): input shapes [2, 2, 4] and [3, 1] do not broadcast");

  OneOp max("Max", {"x", "a", "b"}, 13, {-1, -1});
  max.m.initializer(float_tensor("a", {1}, {0})).initializer(float_tensor("b", {5, 1}, {0, 0, 0, 0, 0}));
  CHECK(max.infer({1, 7}) == Shape{5, 7});

  OneOp mixed("Add", {"x", "i"}, 13, {-1});
  mixed.m.initializer(int64_tensor("i", {1}, {1}));
  CHECK(mixed.error({3}) == "model.onnx: node 'n' (Add): inputs have different element types: float32 and int64");

  OneOp prelu("PRelu", {"x", "slope"}, 13, {-1, -1, -1, -1});
  prelu.m.initializer(float_tensor("slope", {3, 1, 1}, {0.1f, 0.2f, 0.3f}));
  CHECK(prelu.infer({1, 3, 5, 5}) == Shape{1, 3, 5, 5});
  CHECK(prelu.error({1, 1, 5, 5}) == "model.onnx: node 'n' (PRelu): slope [3, 1, 1] does not broadcast to X [1, 1, 5, 5]");
}

TEST_CASE("Gemm with transA/transB and MatMul with vectors and batch broadcasting") {
  OneOp gemm("Gemm", {"x", "W", "C"}, 13, {-1, -1});
  gemm.m.initializer(float_tensor("W", {3, 4}, std::vector<float>(12, 1.0f)));
  gemm.m.initializer(float_tensor("C", {3}, {1, 2, 3}));
  set_attr(*gemm.node, "transB", std::int64_t{1});
  CHECK(gemm.infer({5, 4}) == Shape{5, 3});
  set_attr(*gemm.node, "transA", std::int64_t{1});
  CHECK(gemm.infer({4, 2}) == Shape{2, 3});
  CHECK(gemm.error({5, 4}) == "model.onnx: node 'n' (Gemm): A [5, 4] (transA=1) and B [3, 4] (transB=1) disagree on K: 5 and 4");

  OneOp matmul("MatMul", {"x", "B"}, 13, {-1, -1, -1, -1});
  matmul.m.initializer(float_tensor("B", {5, 4, 2}, std::vector<float>(40, 0.5f)));
  CHECK(matmul.infer({2, 1, 3, 4}) == Shape{2, 5, 3, 2});
  CHECK(matmul.error({2, 1, 3, 5}) == "model.onnx: node 'n' (MatMul): A [2, 1, 3, 5] and B [5, 4, 2] disagree on K: 5 and 4");
  OneOp vector_left("MatMul", {"x", "B"}, 13, {-1});
  vector_left.m.initializer(float_tensor("B", {4, 3}, std::vector<float>(12, 0.5f)));
  CHECK(vector_left.infer({4}) == Shape{3});
  OneOp vector_right("MatMul", {"x", "v"}, 13, {-1, -1});
  vector_right.m.initializer(float_tensor("v", {4}, {1, 2, 3, 4}));
  CHECK(vector_right.infer({3, 4}) == Shape{3});
}

TEST_CASE("Reshape: 0 copies a dimension, -1 takes the rest, allowzero keeps a real 0") {
  OneOp r("Reshape", {"x", "s"}, 13, {-1, -1, -1});
  r.m.initializer(int64_tensor("s", {3}, {0, -1, 2}));
  CHECK(r.infer({2, 3, 4}) == Shape{2, 6, 2});
  CHECK(r.error({2, 3, 5}) == "model.onnx: node 'n' (Reshape): cannot reshape [2, 3, 5] to [0, -1, 2]: the -1 has no whole size");

  OneOp zero("Reshape", {"x", "s"}, 14, {-1, -1});
  zero.m.initializer(int64_tensor("s", {2}, {0, 3}));
  set_attr(*zero.node, "allowzero", std::int64_t{1});
  CHECK(zero.infer({0, 3}) == Shape{0, 3});
  CHECK(zero.error({2, 3}) == "model.onnx: node 'n' (Reshape): cannot reshape [2, 3] (6 elements) to [0, 3] (0 elements)");

  OneOp two("Reshape", {"x", "s"}, 13, {-1});
  two.m.initializer(int64_tensor("s", {2}, {-1, -1}));
  CHECK(two.error({4}) == "model.onnx: node 'n' (Reshape): the target shape has more than one -1");
}

TEST_CASE("Flatten, Transpose and Concat with negative axes") {
  OneOp flatten("Flatten", {"x"}, 13, {-1, -1, -1, -1});
  CHECK(flatten.infer({2, 3, 4, 5}) == Shape{2, 60});
  set_attr(*flatten.node, "axis", std::int64_t{-1});
  CHECK(flatten.infer({2, 3, 4, 5}) == Shape{24, 5});
  OneOp flatten0("Flatten", {"x"}, 13, {-1, -1});
  set_attr(*flatten0.node, "axis", std::int64_t{0});
  CHECK(flatten0.infer({2, 3}) == Shape{1, 6});

  OneOp transpose("Transpose", {"x"}, 13, {-1, -1, -1});
  CHECK(transpose.infer({2, 3, 4}) == Shape{4, 3, 2});
  set_attr(*transpose.node, "perm", std::vector<std::int64_t>{1, 2, 0});
  CHECK(transpose.infer({2, 3, 4}) == Shape{3, 4, 2});
  OneOp bad_perm("Transpose", {"x"}, 13, {-1, -1});
  set_attr(*bad_perm.node, "perm", std::vector<std::int64_t>{0, 0});
  CHECK(bad_perm.error({2, 3}) == "model.onnx: node 'n' (Transpose): perm is not a permutation of the 2 axes");

  OneOp concat("Concat", {"x", "c"}, 13, {-1, -1, -1});
  concat.m.initializer(float_tensor("c", {2, 1, 4}, std::vector<float>(8, 0)));
  set_attr(*concat.node, "axis", std::int64_t{-2});
  CHECK(concat.infer({2, 3, 4}) == Shape{2, 4, 4});
  CHECK(concat.error({2, 3, 5}) == "model.onnx: node 'n' (Concat): input 2 [2, 1, 4] does not fit [2, 3, 5] along axis 1");
}

TEST_CASE("Split: sizes as attribute (opset 11) or input (opset 13), or equal parts") {
  for (std::int64_t opset : {11, 13}) {
    ModelBuilder m(opset);
    m.input("x", kFloat, {-1, -1}).output("a").output("b");
    auto& n = m.node("Split", opset == 13 ? std::initializer_list<std::string>{"x", "sizes"} : std::initializer_list<std::string>{"x"},
                     {"a", "b"}, "n");
    set_attr(n, "axis", std::int64_t{-1});
    if (opset == 13) m.initializer(int64_tensor("sizes", {2}, {2, 5}));
    else set_attr(n, "split", std::vector<std::int64_t>{2, 5});
    const Graph g = inferred(m, {{3, 7}});
    CHECK(shape_of(g, "a") == Shape{3, 2});
    CHECK(shape_of(g, "b") == Shape{3, 5});
    CHECK(error_of([&] { (void)inferred(m, {{3, 8}}); }) ==
          "model.onnx: node 'n' (Split): split sizes add up to 7, not to the dimension 8");
  }
  ModelBuilder equal;
  equal.input("x", kFloat, {-1}).output("a").output("b").output("c");
  equal.node("Split", {"x"}, {"a", "b", "c"}, "n");
  CHECK(shape_of(inferred(equal, {{6}}), "c") == Shape{2});
  CHECK(error_of([&] { (void)inferred(equal, {{7}}); }) ==
        "model.onnx: node 'n' (Split): dimension 7 does not split into 3 equal parts");
}

TEST_CASE("opset 18: Split's num_outputs (a smaller last part) and reduction axes as an input") {
  ModelBuilder m(18);
  m.input("x", kFloat, {-1}).output("a").output("b").output("c");
  set_attr(m.node("Split", {"x"}, {"a", "b", "c"}, "n"), "num_outputs", std::int64_t{3});
  const Graph g = inferred(m, {{7}});
  CHECK(shape_of(g, "a") == Shape{3});
  CHECK(shape_of(g, "c") == Shape{1});
  CHECK(shape_of(inferred(m, {{6}}), "c") == Shape{2});
  CHECK(error_of([&] { (void)inferred(m, {{2}}); }) ==
        "model.onnx: node 'n' (Split): dimension 2 does not split into 3 parts of 1 with a non-empty last one");
  ModelBuilder r(18);
  r.input("x", kFloat, {-1, -1, -1}).output("y");
  r.initializer(int64_tensor("axes", {1}, {1}));
  r.node("ReduceMean", {"x", "axes"}, {"y"}, "n");
  CHECK(shape_of(inferred(r, {{2, 3, 4}}), "y") == Shape{2, 1, 4});
}

TEST_CASE("Slice: attributes in opset 9, inputs from 10; negative and huge positions clamp") {
  OneOp v9("Slice", {"x"}, 9, {-1, -1});
  set_attr(*v9.node, "starts", std::vector<std::int64_t>{1, -3});
  set_attr(*v9.node, "ends", std::vector<std::int64_t>{1000, -1});
  CHECK(v9.infer({5, 10}) == Shape{4, 2});

  OneOp v13("Slice", {"x", "starts", "ends", "axes", "steps"}, 13, {-1, -1, -1});
  v13.m.initializer(int64_tensor("starts", {2}, {-1, 0}));
  v13.m.initializer(int64_tensor("ends", {2}, {std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()}));
  v13.m.initializer(int64_tensor("axes", {2}, {-1, 0}));
  v13.m.initializer(int64_tensor("steps", {2}, {-2, 3}));
  // axis 2 (size 7): from 6 down to the front in steps of 2 → 6, 4, 2, 0; axis 0 (size 10): 0, 3, 6, 9
  CHECK(v13.infer({10, 4, 7}) == Shape{4, 4, 4});
  CHECK(v13.infer({0, 4, 7}) == Shape{0, 4, 4});

  OneOp zero_step("Slice", {"x", "starts", "ends", "", "steps"}, 13, {-1});
  zero_step.m.initializer(int64_tensor("starts", {1}, {0})).initializer(int64_tensor("ends", {1}, {3}));
  zero_step.m.initializer(int64_tensor("steps", {1}, {0}));
  CHECK(zero_step.error({5}) == "model.onnx: node 'n' (Slice): a step of 0 is not allowed");
}

TEST_CASE("Squeeze and Unsqueeze: axes attribute (opset 11) or input (opset 13), negative axes") {
  OneOp sq11("Squeeze", {"x"}, 11, {-1, -1, -1});
  set_attr(*sq11.node, "axes", std::vector<std::int64_t>{-1});
  CHECK(sq11.infer({1, 3, 1}) == Shape{1, 3});
  CHECK(sq11.error({1, 3, 2}) == "model.onnx: node 'n' (Squeeze): cannot squeeze axis 2 of [1, 3, 2]: its size is not 1");
  OneOp sq13("Squeeze", {"x"}, 13, {-1, -1, -1});
  CHECK(sq13.infer({1, 3, 1}) == Shape{3});  // no axes: every 1

  OneOp un11("Unsqueeze", {"x"}, 11, {-1, -1});
  set_attr(*un11.node, "axes", std::vector<std::int64_t>{0, -1});
  CHECK(un11.infer({3, 4}) == Shape{1, 3, 4, 1});
  OneOp un13("Unsqueeze", {"x", "axes"}, 13, {-1, -1});
  un13.m.initializer(int64_tensor("axes", {2}, {1, 3}));
  CHECK(un13.infer({3, 4}) == Shape{3, 1, 4, 1});
  OneOp twice("Unsqueeze", {"x", "axes"}, 13, {-1});
  twice.m.initializer(int64_tensor("axes", {2}, {0, -3}));  // output rank 3: -3 is axis 0 again
  CHECK(twice.error({3}) == "model.onnx: node 'n' (Unsqueeze): axis -3 is given twice");
  OneOp both("Unsqueeze", {"x", "axes"}, 13, {-1});
  both.m.initializer(int64_tensor("axes", {1}, {0}));
  set_attr(*both.node, "axes", std::vector<std::int64_t>{0});
  CHECK(both.error({3}) == "model.onnx: node 'n' (Unsqueeze): 'axes' is given both as attribute and as input");
}

TEST_CASE("Gather with negative axis and indices of any rank") {
  OneOp g("Gather", {"x", "i"}, 13, {-1, -1, -1});
  g.m.initializer(int64_tensor("i", {2, 2}, {0, -1, 1, 2}));
  set_attr(*g.node, "axis", std::int64_t{-2});
  CHECK(g.infer({2, 3, 4}) == Shape{2, 2, 2, 4});
  CHECK(g.error({2, 2, 4}) == "model.onnx: node 'n' (Gather): index 2 is out of range for dimension 1 of size 2");
}

TEST_CASE("reductions: keepdims, axes attribute or input, noop_with_empty_axes") {
  OneOp mean("ReduceMean", {"x"}, 13, {-1, -1, -1});
  set_attr(*mean.node, "axes", std::vector<std::int64_t>{-1, 1});
  CHECK(mean.infer({2, 3, 4}) == Shape{2, 1, 1});
  set_attr(*mean.node, "keepdims", std::int64_t{0});
  CHECK(mean.infer({2, 3, 4}) == Shape{2});

  OneOp sum("ReduceSum", {"x", "axes"}, 13, {-1, -1, -1});
  sum.m.initializer(int64_tensor("axes", {1}, {0}));
  CHECK(sum.infer({2, 3, 4}) == Shape{1, 3, 4});
  OneOp all("ReduceSum", {"x"}, 13, {-1, -1});
  CHECK(all.infer({2, 3}) == Shape{1, 1});
  set_attr(*all.node, "noop_with_empty_axes", std::int64_t{1});
  CHECK(all.infer({2, 3}) == Shape{2, 3});
  OneOp v11("ReduceSum", {"x"}, 11, {-1, -1});
  set_attr(*v11.node, "axes", std::vector<std::int64_t>{1});
  CHECK(v11.infer({2, 3}) == Shape{2, 1});
}

TEST_CASE("Resize: scales (opset 10 and 13) or sizes, output floor(in × scale)") {
  OneOp v10("Resize", {"x", "scales"}, 10);
  v10.m.initializer(float_tensor("scales", {4}, {1, 1, 2, 0.6f}));
  CHECK(v10.infer({1, 3, 4, 3}) == Shape{1, 3, 8, 1});  // 3 × 0.6000000238 = 1.8 → 1
  OneOp scales("Resize", {"x", "", "scales"}, 13);
  scales.m.initializer(float_tensor("scales", {4}, {1, 1, 1.5f, 2}));
  CHECK(scales.infer({1, 3, 5, 5}) == Shape{1, 3, 7, 10});
  OneOp sizes("Resize", {"x", "", "", "sizes"}, 13);
  sizes.m.initializer(int64_tensor("sizes", {4}, {1, 3, 9, 2}));
  CHECK(sizes.infer({1, 3, 5, 5}) == Shape{1, 3, 9, 2});
  OneOp none("Resize", {"x"}, 13);
  CHECK(none.error({1, 3, 5, 5}) == "model.onnx: node 'n' (Resize): exactly one of 'scales' and 'sizes' must be given");
  OneOp runtime("Resize", {"x", "", "x"}, 13);
  CHECK(runtime.error({1, 1, 1, 4}) ==
        "model.onnx: node 'n' (Resize): input 'x' (scales) must be a constant, but it is computed at run time");
}

TEST_CASE("element types: Cast, comparisons, LayerNormalization statistics, Dropout's constant mask") {
  OneOp cast("Cast", {"x"}, 13, {-1});
  set_attr(*cast.node, "to", std::int64_t{kFloat16});
  const Graph g = inferred(cast.m, {{3}});
  CHECK(g.value("y")->dtype == DType::Float16);
  OneOp bad_cast("Cast", {"x"}, 13, {-1});
  set_attr(*bad_cast.node, "to", std::int64_t{kUint16});
  CHECK(bad_cast.error({3}) == "model.onnx: node 'n' (Cast): Cast to UINT16 is not supported");

  ModelBuilder ln(17);
  ln.input("x", kFloat, {-1, -1, -1}).output("y").output("mean").output("inv");
  ln.initializer(float_tensor("scale", {4}, {1, 1, 1, 1}));
  set_attr(ln.node("LayerNormalization", {"x", "scale"}, {"y", "mean", "inv"}, "n"), "axis", std::int64_t{-1});
  const Graph lg = inferred(ln, {{2, 3, 4}});
  CHECK(shape_of(lg, "y") == Shape{2, 3, 4});
  CHECK(shape_of(lg, "mean") == Shape{2, 3, 1});
  CHECK(lg.value("inv")->dtype == DType::Float32);

  ModelBuilder drop(13);
  drop.input("x", kFloat, {-1}).output("y").output("mask");
  drop.node("Dropout", {"x"}, {"y", "mask"}, "n");
  const Graph dg = inferred(drop, {{3}});
  REQUIRE(dg.nodes.size() == 1);
  CHECK(dg.nodes[0].outputs == std::vector<std::string>{"y", ""});  // the mask is a constant now
  CHECK(dg.constant("mask")->ints == std::vector<std::int64_t>{1, 1, 1});
}

TEST_CASE("input shapes: declared dims are checked, any batch size works, integer inputs are refused") {
  ModelBuilder m(13);
  m.input("x", kFloat, {-1, 4}).output("y");
  m.node("Relu", {"x"}, {"y"}, "n");
  CHECK(shape_of(inferred(m, {{7, 4}}), "y") == Shape{7, 4});
  CHECK(error_of([&] { (void)inferred(m, {{1, 3}}); }) ==
        "model.onnx: input 'x': given shape [1, 3] does not match the declared shape [?, 4]");
  CHECK(error_of([&] { (void)inferred(m, {{4}}); }) ==
        "model.onnx: input 'x': given shape [4] does not match the declared shape [?, 4]");
  CHECK(error_of([&] { (void)inferred(m, {}); }) ==
        "model.onnx: the model has 1 runtime input ('x') but 0 input shapes were given");
  CHECK(error_of([&] { (void)inferred(m, {{-1, 4}}); }) == "model.onnx: input 'x': given shape [?, 4] has a negative dimension");
  Graph twice = m.parse();
  const Shape s{2, 4};
  infer_shapes(twice, std::span(&s, 1));
  infer_shapes(twice, std::span(&s, 1));  // the same shapes again: nothing changes
  CHECK(shape_of(twice, "y") == Shape{2, 4});

  ModelBuilder ids(13);
  ids.input("ids", kInt64, {3}).output("y");
  ids.initializer(float_tensor("table", {5, 2}, std::vector<float>(10, 1)));
  ids.node("Gather", {"table", "ids"}, {"y"}, "n");
  // An integer input is exact data at run time: the lookup stays a node (Gather by runtime
  // indices), its result a float value that is not exact data.
  const Graph runtime = inferred(ids, {{3}});
  CHECK(runtime.value("ids")->exact_data);
  CHECK(!runtime.value("y")->exact_data);
  CHECK(runtime.value("y")->shape == Shape{3, 2});
  CHECK(runtime.nodes.size() == 1);
  Graph bound = ids.parse();
  bind_input(bound, "ids", {DType::Int64, {3}, {}, {4, 0, 4}});
  infer_shapes(bound, {});
  CHECK(bound.constant("y")->shape == Shape{3, 2});  // the lookup of constants folds

  ModelBuilder declared_out(13);
  declared_out.input("x", kFloat, {-1, 4}).output("y", kFloat, {1, 4});
  declared_out.node("Relu", {"x"}, {"y"}, "n");
  CHECK(error_of([&] { (void)inferred(declared_out, {{2, 4}}); }) ==
        "model.onnx: output 'y': inferred shape [2, 4] but the model declares [1, 4]");
}
