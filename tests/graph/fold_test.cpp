// Folding: the shape arithmetic exporters emit becomes constants with exact values, float
// arithmetic on constants is rounded once to the node's dtype, and what cannot be evaluated is
// refused naming the node.
#include <cmath>
#include <limits>

#include <doctest/doctest.h>

#include "graph/loader.h"
#include "graph/model_builder.h"

using namespace fpaudit;
using namespace fpaudit::test;

TEST_CASE("the exporter's flatten chain Shape → Gather → Unsqueeze → Concat → Reshape folds to one Reshape") {
  ModelBuilder m(13);
  m.input("x", kFloat, {-1, 3, 4}).output("y");
  m.initializer(int64_tensor("zero", {}, {0})).initializer(int64_tensor("axes", {1}, {0}));
  m.initializer(int64_tensor("minus1", {1}, {-1}));
  m.node("Shape", {"x"}, {"shape"});
  set_attr(m.node("Gather", {"shape", "zero"}, {"batch"}), "axis", std::int64_t{0});
  m.node("Unsqueeze", {"batch", "axes"}, {"batch1"});
  set_attr(m.node("Concat", {"batch1", "minus1"}, {"target"}), "axis", std::int64_t{0});
  m.node("Reshape", {"x", "target"}, {"y"}, "flatten");
  const Graph g = inferred(m, {{5, 3, 4}});
  REQUIRE(g.nodes.size() == 1);
  CHECK(g.nodes[0].name == "flatten");
  CHECK(g.constant("shape")->ints == std::vector<std::int64_t>{5, 3, 4});
  CHECK(g.constant("batch")->shape == Shape{});
  CHECK(g.constant("target")->ints == std::vector<std::int64_t>{5, -1});
  CHECK(shape_of(g, "y") == Shape{5, 12});
  CHECK(g.outputs[0].shape == Shape{5, 12});
}

TEST_CASE("Shape with start and end (opset 15), Size, ConstantOfShape, Range, Expand, Tile") {
  ModelBuilder m(15);
  m.input("x", kFloat, {2, 3, 4}).output("s").output("n").output("c").output("r").output("e").output("t");
  set_attr(m.node("Shape", {"x"}, {"s"}), "start", std::int64_t{-2});
  m.node("Size", {"x"}, {"n"});
  set_attr(m.node("ConstantOfShape", {"s"}, {"c"}), "value", int32_tensor("", {1}, {7}));
  m.initializer(int64_tensor("start", {}, {10})).initializer(int64_tensor("limit", {}, {3}));
  m.initializer(int64_tensor("delta", {}, {-3}));
  m.node("Range", {"start", "limit", "delta"}, {"r"});
  m.initializer(float_tensor("column", {2, 1}, {1.5f, -2})).initializer(int64_tensor("wide", {2}, {1, 3}));
  m.node("Expand", {"column", "wide"}, {"e"});
  m.initializer(int64_tensor("reps", {2}, {2, 2}));
  m.node("Tile", {"column", "reps"}, {"t"});
  const Graph g = inferred(m, {{2, 3, 4}});
  CHECK(g.nodes.empty());
  CHECK(g.constant("s")->ints == std::vector<std::int64_t>{3, 4});
  CHECK(g.constant("n")->ints == std::vector<std::int64_t>{24});
  CHECK(g.constant("c")->dtype == DType::Int32);
  CHECK(g.constant("c")->shape == Shape{3, 4});
  CHECK(g.constant("c")->ints == std::vector<std::int64_t>(12, 7));
  CHECK(g.constant("r")->ints == std::vector<std::int64_t>{10, 7, 4});
  CHECK(g.constant("e")->shape == Shape{2, 3});
  CHECK(g.constant("e")->values == std::vector<double>{1.5, 1.5, 1.5, -2, -2, -2});
  CHECK(g.constant("t")->shape == Shape{4, 2});
  CHECK(g.constant("t")->values == std::vector<double>{1.5, 1.5, -2, -2, 1.5, 1.5, -2, -2});
}

TEST_CASE("data movement on float constants folds exactly: Transpose, Slice, Gather, Concat, Split") {
  ModelBuilder m(13);
  m.input("x", kFloat, {1}).output("tr").output("sl").output("ga").output("co").output("s0").output("s1");
  m.initializer(float_tensor("w", {2, 3}, {1, 2, 3, 4, 5, 6}));
  m.node("Transpose", {"w"}, {"tr"});
  m.initializer(int64_tensor("st", {1}, {-1})).initializer(int64_tensor("en", {1}, {-4}));
  m.initializer(int64_tensor("ax", {1}, {1})).initializer(int64_tensor("sp", {1}, {-2}));
  m.node("Slice", {"w", "st", "en", "ax", "sp"}, {"sl"});
  m.initializer(int64_tensor("idx", {2}, {2, -3}));
  set_attr(m.node("Gather", {"w", "idx"}, {"ga"}), "axis", std::int64_t{1});
  set_attr(m.node("Concat", {"w", "w"}, {"co"}), "axis", std::int64_t{1});
  m.initializer(int64_tensor("parts", {2}, {1, 2}));
  set_attr(m.node("Split", {"w", "parts"}, {"s0", "s1"}), "axis", std::int64_t{1});
  const Graph g = inferred(m, {{1}});
  CHECK(g.constant("tr")->values == std::vector<double>{1, 4, 2, 5, 3, 6});
  CHECK(g.constant("sl")->values == std::vector<double>{3, 1, 6, 4});
  CHECK(g.constant("ga")->values == std::vector<double>{3, 1, 6, 4});
  CHECK(g.constant("co")->values == std::vector<double>{1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6});
  CHECK(g.constant("s0")->values == std::vector<double>{1, 4});
  CHECK(g.constant("s1")->values == std::vector<double>{2, 3, 5, 6});
}

TEST_CASE("float arithmetic on constants is rounded once to the node's dtype") {
  ModelBuilder m(13);
  m.input("x", kFloat, {1}).output("sum").output("half").output("q").output("root");
  // 1 + 2^-30 is not a float32: the float32 sum is 1, though binary64 would keep it.
  m.initializer(float_tensor("one", {}, {1.0f})).initializer(float_tensor("tiny", {}, {std::ldexp(1.0f, -30)}));
  m.node("Add", {"one", "tiny"}, {"sum"});
  // Cast to float16: 0.1f rounds to 0x2E66 = 0.0999755859375; 70000 overflows to +inf.
  m.initializer(float_tensor("v", {2}, {0.1f, 70000.0f}));
  set_attr(m.node("Cast", {"v"}, {"half"}), "to", std::int64_t{kFloat16});
  // 1/3 in float32: 0x3EAAAAAB = 0.3333333432674407958984375
  m.initializer(float_tensor("three", {}, {3.0f}));
  m.node("Div", {"one", "three"}, {"q"});
  m.initializer(double_tensor("two", {}, {2.0}));
  m.node("Sqrt", {"two"}, {"root"});
  const Graph g = inferred(m, {{1}});
  CHECK(g.constant("sum")->values == std::vector<double>{1.0});
  CHECK(g.constant("half")->dtype == DType::Float16);
  CHECK(g.constant("half")->values[0] == 0.0999755859375);
  CHECK(std::isinf(g.constant("half")->values[1]));
  CHECK(g.constant("q")->values[0] == 0.3333333432674407958984375);
  CHECK(g.constant("root")->values[0] == std::sqrt(2.0));
}

TEST_CASE("integer arithmetic, casts and comparisons on constants") {
  ModelBuilder m(13);
  m.input("x", kFloat, {1}).output("div").output("mod").output("fmod").output("f2i").output("i2h").output("where")
      .output("pow");
  m.initializer(int64_tensor("a", {4}, {7, -7, 7, -7})).initializer(int64_tensor("b", {4}, {2, 2, -2, -2}));
  m.node("Div", {"a", "b"}, {"div"});
  m.node("Mod", {"a", "b"}, {"mod"});
  set_attr(m.node("Mod", {"a", "b"}, {"fmod"}), "fmod", std::int64_t{1});
  m.initializer(float_tensor("f", {3}, {2.9f, -2.9f, 0.0f}));
  set_attr(m.node("Cast", {"f"}, {"f2i"}), "to", std::int64_t{kInt32});
  // 2049 is not a float16 value: it ties between 2048 and 2050 and goes to the even 2048.
  m.initializer(int64_tensor("big", {2}, {2049, 2051}));
  set_attr(m.node("Cast", {"big"}, {"i2h"}), "to", std::int64_t{kFloat16});
  m.node("Equal", {"a", "b"}, {"eq"});
  m.node("Less", {"a", "b"}, {"lt"});
  m.node("Where", {"lt", "a", "b"}, {"where"});
  m.initializer(int64_tensor("e", {4}, {0, 1, 3, 63}));
  m.node("Pow", {"b", "e"}, {"pow"});
  const Graph g = inferred(m, {{1}});
  CHECK(g.constant("div")->ints == std::vector<std::int64_t>{3, -3, -3, 3});  // truncation, as C and ORT
  CHECK(g.constant("mod")->ints == std::vector<std::int64_t>{1, 1, -1, -1});   // sign of the divisor
  CHECK(g.constant("fmod")->ints == std::vector<std::int64_t>{1, -1, 1, -1});  // sign of the dividend
  CHECK(g.constant("f2i")->ints == std::vector<std::int64_t>{2, -2, 0});
  CHECK(g.constant("i2h")->values == std::vector<double>{2048, 2052});
  CHECK(g.constant("where")->ints == std::vector<std::int64_t>{2, -7, -2, -7});
  // (-2)^63 = -2^63 is exactly INT64_MIN
  CHECK(g.constant("pow")->ints == std::vector<std::int64_t>{1, 2, -8, std::numeric_limits<std::int64_t>::min()});
}

TEST_CASE("what cannot be folded or evaluated is refused, naming the node") {
  ModelBuilder div(13);
  div.input("x", kFloat, {1}).output("y");
  div.initializer(int64_tensor("a", {2}, {4, 5})).initializer(int64_tensor("z", {2}, {1, 0}));
  div.node("Div", {"a", "z"}, {"y"}, "d");
  CHECK(error_of([&] { (void)inferred(div, {{1}}); }) == "model.onnx: node 'd' (Div): integer division by zero");

  ModelBuilder runtime_int(13);
  runtime_int.input("x", kFloat, {2}).output("y");
  set_attr(runtime_int.node("Cast", {"x"}, {"i"}, "to_int"), "to", std::int64_t{kInt64});
  runtime_int.node("Reshape", {"x", "i"}, {"y"}, "r");
  CHECK(error_of([&] { (void)inferred(runtime_int, {{2}}); }) ==
        "model.onnx: node 'to_int' (Cast): output 'i' (int64) would be computed from run-time data (input 'x'), but "
        "fpaudit evaluates only floating-point and boolean tensors at run time");

  ModelBuilder mod(13);
  mod.input("x", kFloat, {1, 2}).output("y");
  mod.initializer(float_tensor("d", {2}, {3, 2}));
  set_attr(mod.node("Mod", {"x", "d"}, {"y"}, "m"), "fmod", std::int64_t{1});
  CHECK(error_of([&] { (void)inferred(mod, {{1, 2}}); }) ==
        "model.onnx: node 'm' (Mod): operator Mod is supported only on constants (shape arithmetic), but input "
        "'x' is computed at run time");

  ModelBuilder huge(13);
  huge.input("x", kFloat, {1}).output("y");
  huge.initializer(int64_tensor("s", {2}, {65536, 1024}));
  set_attr(huge.node("ConstantOfShape", {"s"}, {"c"}, "big"), "value", int64_tensor("", {1}, {1}));
  huge.node("Shape", {"c"}, {"y"});
  CHECK(error_of([&] { (void)inferred(huge, {{1}}); }) ==
        "model.onnx: node 'big' (ConstantOfShape): the int64 result of 67108864 elements is too large to fold");

  ModelBuilder bad_cast(13);
  bad_cast.input("x", kFloat, {1}).output("y");
  bad_cast.initializer(float_tensor("f", {1}, {3e9f}));
  set_attr(bad_cast.node("Cast", {"f"}, {"y"}, "c"), "to", std::int64_t{kInt32});
  CHECK(error_of([&] { (void)inferred(bad_cast, {{1}}); }) == "model.onnx: node 'c' (Cast): cannot cast 3000000000 to int32");
}

TEST_CASE("Clip on integer constants takes bounds of the input's type (found by fuzz_graph)") {
  ModelBuilder m(13);
  m.input("x", kFloat, {1}).output("y");
  m.initializer(int64_tensor("v", {4}, {-9, -1, 3, 12})).initializer(int64_tensor("lo", {}, {-2}));
  m.initializer(int64_tensor("hi", {}, {10}));
  m.node("Clip", {"v", "lo", "hi"}, {"y"}, "clip");
  CHECK(inferred(m, {{1}}).constant("y")->ints == std::vector<std::int64_t>{-2, -1, 3, 10});

  // Before the fix a float attribute of -2.1e38 was converted to int64: undefined behaviour.
  ModelBuilder attr(13);
  attr.input("x", kFloat, {1}).output("y");
  attr.initializer(int64_tensor("v", {1}, {5}));
  set_attr(attr.node("Clip", {"v"}, {"y"}, "clip"), "min", -2.1e38f);
  CHECK(error_of([&] { (void)inferred(attr, {{1}}); }) ==
        "model.onnx: node 'clip' (Clip): attribute 'min' applies to floating-point inputs only");
}
