#include "operator_examples.h"

namespace fpaudit::test {

namespace {

using B = ModelBuilder;

/// The one-node model op(x [, constants]) → y.
OperatorExample unary(const std::string& op, std::vector<std::int64_t> shape = {1, 12}, double scale = 1,
                      std::int64_t opset = 13) {
  return {op, "", opset, std::move(shape), scale, [op](B& b) { b.node(op, {"x"}, {"y"}); }};
}

/// op applied to exp(x): for operators defined on positive numbers.
OperatorExample on_positive(const std::string& op) {
  return {op, "of exp(x)", 13, {1, 12}, 2, [op](B& b) {
            b.node("Exp", {"x"}, {"e"});
            b.node(op, {"e"}, {"y"});
          }};
}

/// op(x, c) with a constant c of `shape` and `values`.
OperatorExample with_constant(const std::string& op, std::vector<std::int64_t> shape, std::vector<float> values,
                              const std::string& variant = "x op constant") {
  return {op, variant, 13, {1, 3, 4}, 1.5, [op, shape, values](B& b) {
            b.initializer(float_tensor("c", shape, values));
            b.node(op, {"x", "c"}, {"y"});
          }};
}

std::vector<OperatorExample> build_examples() {
  std::vector<OperatorExample> v;
  // ---- one operand ----
  for (const char* op : {"Relu", "Identity", "Exp", "Tanh", "Sigmoid", "Erf"}) v.push_back(unary(op, {1, 12}, 3));
  v.push_back({"Dropout", "", 13, {1, 12}, 1, [](B& b) { b.node("Dropout", {"x"}, {"y"}); }});
  v.push_back({"Cast", "to float", 13, {1, 12}, 1, [](B& b) { set_attr(b.node("Cast", {"x"}, {"y"}), "to", std::int64_t{1}); }});
  v.push_back({"Clip", "constant bounds", 13, {1, 12}, 1, [](B& b) {
                 b.initializer(float_tensor("lo", {}, {-0.3f}));
                 b.initializer(float_tensor("hi", {}, {0.7f}));
                 b.node("Clip", {"x", "lo", "hi"}, {"y"});
               }});
  v.push_back({"Clip", "negative range", 13, {1, 12}, 1, [](B& b) {
                 b.initializer(float_tensor("lo", {}, {-1.1f}));
                 b.initializer(float_tensor("hi", {}, {-0.1f}));
                 b.node("Clip", {"x", "lo", "hi"}, {"y"});
               }});
  for (const char* op : {"Log", "Sqrt", "Reciprocal"}) v.push_back(on_positive(op));
  v.push_back(unary("Reciprocal", {1, 12}, 2));
  v.push_back({"LeakyRelu", "alpha 0.1", 13, {1, 12}, 3, [](B& b) { set_attr(b.node("LeakyRelu", {"x"}, {"y"}), "alpha", 0.1f); }});
  v.push_back({"HardSigmoid", "", 13, {1, 12}, 4, [](B& b) { b.node("HardSigmoid", {"x"}, {"y"}); }});
  v.push_back(unary("HardSwish", {1, 12}, 4, 14));
  v.push_back(unary("Gelu", {1, 12}, 3, 17));  // the loader reads opsets up to 17 and accepts Gelu there
  v.push_back({"Gelu", "tanh", 17, {1, 12}, 3, [](B& b) { set_attr(b.node("Gelu", {"x"}, {"y"}), "approximate", std::string("tanh")); }});
  // ---- two operands ----
  v.push_back(with_constant("Add", {4}, {0.5f, -1.25f, 3.1f, 1e-3f}));
  v.push_back({"Sub", "x - tanh(x), two runtime operands", 13, {1, 12}, 2, [](B& b) {
                 b.node("Tanh", {"x"}, {"t"});
                 b.node("Sub", {"x", "t"}, {"y"});
               }});
  v.push_back(with_constant("Mul", {3, 1}, {0.1f, -7.3f, 1e4f}));
  v.push_back({"Mul", "x·x", 13, {1, 12}, 2, [](B& b) { b.node("Mul", {"x", "x"}, {"y"}); }});
  v.push_back(with_constant("Div", {4}, {1.41421354f, -3.0f, 0.7f, 8.0f}));
  v.push_back({"Div", "x / (1 + exp(x))", 13, {1, 12}, 2, [](B& b) {
                 b.initializer(float_tensor("one", {}, {1.0f}));
                 b.node("Exp", {"x"}, {"e"});
                 b.node("Add", {"e", "one"}, {"d"});
                 b.node("Div", {"x", "d"}, {"y"});
               }});
  v.push_back(with_constant("Pow", {}, {2.0f}, "square"));
  v.push_back(with_constant("Pow", {}, {3.0f}, "cube"));
  v.push_back({"Pow", "square root of exp(x)", 13, {1, 12}, 2, [](B& b) {
                 b.initializer(float_tensor("half", {}, {0.5f}));
                 b.node("Exp", {"x"}, {"e"});
                 b.node("Pow", {"e", "half"}, {"y"});
               }});
  v.push_back({"Pow", "exp(x)^1.7", 13, {1, 12}, 1, [](B& b) {
                 b.initializer(float_tensor("p", {}, {1.7f}));
                 b.node("Exp", {"x"}, {"e"});
                 b.node("Pow", {"e", "p"}, {"y"});
               }});
  v.push_back(with_constant("PRelu", {4}, {0.25f, 0.1f, -0.5f, 2.0f}));
  v.push_back({"Min", "three operands", 13, {1, 12}, 2, [](B& b) {
                 b.initializer(float_tensor("c", {12}, {0, 1, -1, 2, -2, 0.5, -0.5, 3, -3, 0.1, -0.1, 0}));
                 b.node("Tanh", {"x"}, {"t"});
                 b.node("Min", {"x", "c", "t"}, {"y"});
               }});
  v.push_back(with_constant("Max", {4}, {0.0f, 0.3f, -0.3f, 1.0f}));
  // ---- dot products ----
  auto weights = [](std::int64_t rows, std::int64_t cols) {
    std::vector<float> w(static_cast<std::size_t>(rows * cols));
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(((i * 7919) % 201) - 100) / 97.0f;
    return w;
  };
  v.push_back({"Gemm", "transB, per-feature bias", 13, {1, 40}, 1, [weights](B& b) {
                 b.initializer(float_tensor("W", {5, 40}, weights(5, 40)));
                 b.initializer(float_tensor("C", {5}, {0.1f, -0.2f, 0.3f, 1.5f, -7.0f}));
                 set_attr(b.node("Gemm", {"x", "W", "C"}, {"y"}), "transB", std::int64_t{1});
               }});
  v.push_back({"Gemm", "alpha 0.5, beta 2, C broadcast [1, 1]", 13, {1, 40}, 1, [weights](B& b) {
                 b.initializer(float_tensor("W", {40, 5}, weights(40, 5)));
                 b.initializer(float_tensor("C", {1, 1}, {0.3f}));
                 auto& n = b.node("Gemm", {"x", "W", "C"}, {"y"});
                 set_attr(n, "alpha", 0.5f);
                 set_attr(n, "beta", 2.0f);
               }});
  v.push_back({"MatMul", "x [1,3,40] · W [40,6]", 13, {1, 3, 40}, 1, [weights](B& b) {
                 b.initializer(float_tensor("W", {40, 6}, weights(40, 6)));
                 b.node("MatMul", {"x", "W"}, {"y"});
               }});
  v.push_back({"MatMul", "x · xᵀ, two runtime operands", 13, {1, 3, 16}, 1, [](B& b) {
                 set_attr(b.node("Transpose", {"x"}, {"t"}), "perm", std::vector<std::int64_t>{0, 2, 1});
                 b.node("MatMul", {"x", "t"}, {"y"});
               }});
  // ---- softmax ----
  v.push_back({"Softmax", "rows of 7", 13, {1, 3, 7}, 4, [](B& b) { b.node("Softmax", {"x"}, {"y"}); }});
  v.push_back({"Softmax", "rows of 300", 13, {1, 2, 300}, 3, [](B& b) { b.node("Softmax", {"x"}, {"y"}); }});
  v.push_back({"LogSoftmax", "", 13, {1, 3, 7}, 4, [](B& b) { b.node("LogSoftmax", {"x"}, {"y"}); }});
  // ---- convolution, normalisation, pooling, reductions, resizing (the ops branch) ----
  v.push_back({"Conv", "3x3, pad 1, bias, 2 groups", 13, {1, 4, 6, 6}, 1, [weights](B& b) {
                 b.initializer(float_tensor("W", {6, 2, 3, 3}, weights(6, 18)));
                 b.initializer(float_tensor("B", {6}, {0.1f, -0.2f, 0.3f, 0.0f, 1.0f, -1.0f}));
                 auto& n = b.node("Conv", {"x", "W", "B"}, {"y"});
                 set_attr(n, "pads", std::vector<std::int64_t>{1, 1, 1, 1});
                 set_attr(n, "group", std::int64_t{2});
               }});
  v.push_back({"Conv", "1x1 (no im2col)", 13, {1, 3, 5, 5}, 1, [weights](B& b) {
                 b.initializer(float_tensor("W", {4, 3, 1, 1}, weights(4, 3)));
                 b.node("Conv", {"x", "W"}, {"y"});
               }});
  v.push_back({"ConvTranspose", "stride 2, bias", 13, {1, 3, 4, 4}, 1, [weights](B& b) {
                 b.initializer(float_tensor("W", {3, 2, 3, 3}, weights(3, 18)));
                 b.initializer(float_tensor("B", {2}, {0.25f, -0.5f}));
                 set_attr(b.node("ConvTranspose", {"x", "W", "B"}, {"y"}), "strides", std::vector<std::int64_t>{2, 2});
               }});
  v.push_back({"BatchNormalization", "", 13, {1, 3, 4, 4}, 2, [](B& b) {
                 b.initializer(float_tensor("g", {3}, {1.5f, -0.7f, 0.01f}));
                 b.initializer(float_tensor("bt", {3}, {0.1f, 2.0f, -3.0f}));
                 b.initializer(float_tensor("mu", {3}, {0.3f, -1.0f, 0.0f}));
                 b.initializer(float_tensor("var", {3}, {0.5f, 4.0f, 1e-3f}));
                 b.node("BatchNormalization", {"x", "g", "bt", "mu", "var"}, {"y"});
               }});
  v.push_back({"LayerNormalization", "width 64, bias", 17, {1, 3, 64}, 2, [weights](B& b) {
                 std::vector<float> g = weights(1, 64), bt = weights(64, 1);
                 for (float& x : g) x = 1.0f + 0.5f * x;
                 b.initializer(float_tensor("g", {64}, g));
                 b.initializer(float_tensor("bt", {64}, bt));
                 b.node("LayerNormalization", {"x", "g", "bt"}, {"y"});
               }});
  v.push_back({"LayerNormalization", "large values (binary16 sum of squares near overflow)", 17, {1, 2, 64}, 40, [](B& b) {
                 b.initializer(float_tensor("g", {64}, std::vector<float>(64, 1.0f)));
                 b.node("LayerNormalization", {"x", "g"}, {"y"});
               }});
  v.push_back({"MaxPool", "2x2 stride 2", 13, {1, 2, 6, 6}, 1, [](B& b) {
                 auto& n = b.node("MaxPool", {"x"}, {"y"});
                 set_attr(n, "kernel_shape", std::vector<std::int64_t>{2, 2});
                 set_attr(n, "strides", std::vector<std::int64_t>{2, 2});
               }});
  v.push_back({"AveragePool", "3x3 pad 1, count_include_pad", 13, {1, 2, 5, 5}, 1, [](B& b) {
                 auto& n = b.node("AveragePool", {"x"}, {"y"});
                 set_attr(n, "kernel_shape", std::vector<std::int64_t>{3, 3});
                 set_attr(n, "pads", std::vector<std::int64_t>{1, 1, 1, 1});
                 set_attr(n, "count_include_pad", std::int64_t{1});
               }});
  v.push_back(unary("GlobalAveragePool", {1, 3, 7, 7}));
  v.push_back({"ReduceMean", "last axis", 13, {1, 4, 50}, 1, [](B& b) {
                 set_attr(b.node("ReduceMean", {"x"}, {"y"}), "axes", std::vector<std::int64_t>{-1});
               }});
  v.push_back({"ReduceSum", "axes 1 and 2", 13, {1, 4, 5, 6}, 1, [](B& b) {
                 b.initializer(int64_tensor("a", {2}, {1, 2}));
                 b.node("ReduceSum", {"x", "a"}, {"y"});
               }});
  v.push_back({"Resize", "linear, scale 2", 13, {1, 1, 4, 4}, 1, [](B& b) {
                 b.initializer(float_tensor("sc", {4}, {1.0f, 1.0f, 2.0f, 2.0f}));
                 set_attr(b.node("Resize", {"x", "", "sc"}, {"y"}), "mode", std::string("linear"));
               }});
  v.push_back({"Resize", "nearest, scale 2", 13, {1, 1, 3, 3}, 1, [](B& b) {
                 b.initializer(float_tensor("sc", {4}, {1.0f, 1.0f, 2.0f, 2.0f}));
                 b.node("Resize", {"x", "", "sc"}, {"y"});
               }});
  v.push_back({"Resize", "tf_crop_and_resize, extrapolation -2.1", 13, {1, 1, 4, 4}, 1, [](B& b) {
                 b.initializer(float_tensor("roi", {8}, {0, 0, -0.5f, -0.5f, 1, 1, 1.5f, 1.5f}));
                 b.initializer(float_tensor("sc", {4}, {1.0f, 1.0f, 1.5f, 1.5f}));
                 auto& n = b.node("Resize", {"x", "roi", "sc"}, {"y"});
                 set_attr(n, "mode", std::string("linear"));
                 set_attr(n, "coordinate_transformation_mode", std::string("tf_crop_and_resize"));
                 set_attr(n, "extrapolation_value", -2.1f);
               }});
  // ---- data movement ----
  v.push_back({"Reshape", "", 13, {1, 3, 4}, 1, [](B& b) {
                 b.initializer(int64_tensor("s", {2}, {1, 12}));
                 b.node("Reshape", {"x", "s"}, {"y"});
               }});
  v.push_back(unary("Flatten", {1, 3, 4}));
  v.push_back({"Squeeze", "", 13, {1, 1, 12}, 1, [](B& b) {
                 b.initializer(int64_tensor("a", {1}, {1}));
                 b.node("Squeeze", {"x", "a"}, {"y"});
               }});
  v.push_back({"Unsqueeze", "", 13, {1, 12}, 1, [](B& b) {
                 b.initializer(int64_tensor("a", {1}, {1}));
                 b.node("Unsqueeze", {"x", "a"}, {"y"});
               }});
  v.push_back({"Transpose", "", 13, {1, 3, 4}, 1, [](B& b) {
                 set_attr(b.node("Transpose", {"x"}, {"y"}), "perm", std::vector<std::int64_t>{0, 2, 1});
               }});
  v.push_back({"Concat", "with a constant", 13, {1, 3}, 1, [](B& b) {
                 b.initializer(float_tensor("c", {1, 2}, {0.1f, 3.3f}));
                 set_attr(b.node("Concat", {"x", "c"}, {"y"}), "axis", std::int64_t{1});
               }});
  v.push_back({"Split", "", 13, {1, 6}, 1, [](B& b) {
                 b.initializer(int64_tensor("s", {2}, {2, 4}));
                 set_attr(b.node("Split", {"x", "s"}, {"y", "z"}), "axis", std::int64_t{1});
                 b.output("z");  // an unused output would be cleared by shape inference
               }});
  v.push_back({"Slice", "", 13, {1, 10}, 1, [](B& b) {
                 b.initializer(int64_tensor("st", {1}, {2}));
                 b.initializer(int64_tensor("en", {1}, {9}));
                 b.initializer(int64_tensor("ax", {1}, {1}));
                 b.node("Slice", {"x", "st", "en", "ax"}, {"y"});
               }});
  v.push_back({"Gather", "", 13, {1, 10}, 1, [](B& b) {
                 b.initializer(int64_tensor("i", {3}, {7, 0, 7}));
                 set_attr(b.node("Gather", {"x", "i"}, {"y"}), "axis", std::int64_t{1});
               }});
  add_runtime_examples(v);
  add_data_examples(v);
  return v;
}

}  // namespace

const std::vector<OperatorExample>& operator_examples() {
  static const std::vector<OperatorExample> examples = build_examples();
  return examples;
}

ModelBuilder example_model(const OperatorExample& e) {
  ModelBuilder b(e.opset);
  b.input("x", kFloat, e.input);
  e.build(b);
  b.output("y");
  return b;
}

}  // namespace fpaudit::test
