// Examples of issue #15's second round of operators on runtime data: selections (GatherElements,
// Trilu, Pad, OneHot), the losses, running and variadic sums, ReduceLogSum and Hardmax; and
// the third round's (Einsum, the normalisations, TopK, ScatterND, Mish, cubic Resize). Each
// reads a rounded intermediate (tanh, exp) so that its inputs carry errors in every chain.
#include "operator_examples.h"

namespace fpaudit::test {

void add_data_examples(std::vector<OperatorExample>& v) {
  using B = ModelBuilder;
  v.push_back({"GatherElements", "axis 2, a negative index", 13, {1, 2, 3}, 1, [](B& b) {
                 b.initializer(int64_tensor("i", {1, 2, 2}, {2, -1, 0, 1}));
                 b.node("Tanh", {"x"}, {"t"});
                 set_attr(b.node("GatherElements", {"t", "i"}, {"y"}), "axis", std::int64_t{2});
               }});
  v.push_back({"Trilu", "lower, k = 1", 14, {1, 3, 4}, 1, [](B& b) {
                 b.initializer(int64_tensor("k", {}, {1}));
                 b.node("Tanh", {"x"}, {"t"});
                 set_attr(b.node("Trilu", {"t", "k"}, {"y"}), "upper", std::int64_t{0});
               }});
  for (const char* mode : {"constant", "edge", "reflect", "wrap"})
    v.push_back({"Pad", mode, 13, {1, 2, 3, 4}, 1, [mode](B& b) {
                   b.initializer(int64_tensor("p", {8}, {0, 0, 1, 2, 0, 1, 2, 1}));
                   b.initializer(float_tensor("c", {}, {0.1f}));
                   b.node("Tanh", {"x"}, {"t"});
                   set_attr(b.node("Pad", {"t", "p", "c"}, {"y"}), "mode", std::string(mode));
                 }});
  v.push_back({"OneHot", "values from the data", 11, {1, 2}, 1, [](B& b) {
                 b.initializer(int64_tensor("two", {1}, {2}));
                 b.initializer(int64_tensor("i", {3}, {0, -1, 2}));
                 b.initializer(float_tensor("d", {}, {4.0f}));
                 b.node("Tanh", {"x"}, {"t"});
                 b.node("Reshape", {"t", "two"}, {"v"});
                 b.node("OneHot", {"i", "d", "v"}, {"y"});
               }});
  for (const char* reduction : {"none", "sum", "mean"})
    for (const char* op : {"NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss"})
      v.push_back({op, reduction, 13, {1, 5, 3}, 2, [op, reduction](B& b) {
                     b.initializer(int64_tensor("target", {1, 3}, {0, 3, 2}));
                     b.initializer(float_tensor("w", {5}, {0.3f, 1.0f, 2.5f, 0.7f, 1.1f}));
                     b.node("Tanh", {"x"}, {"t"});
                     auto& n = b.node(op, {"t", "target", "w"}, {"y"});
                     set_attr(n, "reduction", std::string(reduction));
                     set_attr(n, "ignore_index", std::int64_t{3});
                   }});
  v.push_back({"CumSum", "reverse, exclusive, axis 1", 14, {1, 24}, 1, [](B& b) {
                 b.initializer(int64_tensor("a", {}, {1}));
                 b.node("Exp", {"x"}, {"e"});
                 auto& n = b.node("CumSum", {"e", "a"}, {"y"});
                 set_attr(n, "reverse", std::int64_t{1});
                 set_attr(n, "exclusive", std::int64_t{1});
               }});
  v.push_back({"ReduceLogSum", "axis 1 of exp(x)", 13, {1, 24}, 1, [](B& b) {
                 b.node("Exp", {"x"}, {"e"});
                 set_attr(b.node("ReduceLogSum", {"e"}, {"y"}), "axes", std::vector<std::int64_t>{1});
               }});
  for (const char* op : {"Sum", "Mean"})
    v.push_back({op, "of x, tanh(x) and exp(x)", 13, {1, 12}, 1, [op](B& b) {
                   b.node("Tanh", {"x"}, {"t"});
                   b.node("Exp", {"x"}, {"e"});
                   b.node(op, {"x", "t", "e"}, {"y"});
                 }});
  v.push_back({"Hardmax", "of tanh(x): near ties flip", 13, {1, 24}, 0.05, [](B& b) {
                 b.node("Tanh", {"x"}, {"t"});
                 b.node("Hardmax", {"t"}, {"y"});
               }});
  add_model_examples(v);
}

void add_model_examples(std::vector<OperatorExample>& v) {
  using B = ModelBuilder;
  v.push_back({"Einsum", "attention scores bhqd,bhkd->bhqk of tanh(x) and exp(x)", 12, {1, 2, 3, 4}, 1, [](B& b) {
                 b.node("Tanh", {"x"}, {"t"});
                 b.node("Exp", {"x"}, {"e"});
                 set_attr(b.node("Einsum", {"t", "e"}, {"y"}), "equation", std::string("bhqd,bhkd->bhqk"));
               }});
  v.push_back({"Einsum", "three operands: a bilinear form bi,ij,bj->b", 12, {1, 2, 6}, 1, [](B& b) {
                 b.initializer(float_tensor("W", {6, 6}, std::vector<float>(36, 0.37f)));
                 b.node("Tanh", {"x"}, {"t"});
                 b.node("Exp", {"x"}, {"e"});
                 b.node("Reshape", {"t", "two"}, {"t2"});
                 b.node("Reshape", {"e", "two"}, {"e2"});
                 b.initializer(int64_tensor("two", {2}, {2, 6}));
                 set_attr(b.node("Einsum", {"t2", "W", "e2"}, {"y"}), "equation", std::string("bi,ij,bj->b"));
               }});
  v.push_back({"Einsum", "one operand: the diagonal sums ...ii", 12, {1, 2, 4, 4}, 1, [](B& b) {
                 b.node("Exp", {"x"}, {"e"});
                 set_attr(b.node("Einsum", {"e"}, {"y"}), "equation", std::string("...ii"));
               }});
  v.push_back({"InstanceNormalization", "of tanh(x)", 13, {1, 3, 8}, 1, [](B& b) {
                 b.initializer(float_tensor("s", {3}, {0.5f, 1.5f, -2.0f}));
                 b.initializer(float_tensor("c", {3}, {0.1f, 0.0f, -0.3f}));
                 b.node("Tanh", {"x"}, {"t"});
                 b.node("InstanceNormalization", {"t", "s", "c"}, {"y"});
               }});
  for (std::int64_t opset : {18, 21})
    v.push_back({"GroupNormalization", opset == 18 ? "scale per group (opset 18)" : "scale per channel (opset 21)", opset,
                 {1, 4, 6}, 1, [opset](B& b) {
                   const std::int64_t n = opset == 18 ? 2 : 4;
                   b.initializer(float_tensor("s", {n}, std::vector<float>(static_cast<std::size_t>(n), 1.25f)));
                   b.initializer(float_tensor("c", {n}, std::vector<float>(static_cast<std::size_t>(n), -0.5f)));
                   b.node("Tanh", {"x"}, {"t"});
                   set_attr(b.node("GroupNormalization", {"t", "s", "c"}, {"y"}), "num_groups", std::int64_t{2});
                 }});
  v.push_back({"LRN", "size 3 of exp(x)", 13, {1, 5, 4}, 1, [](B& b) {
                 b.node("Exp", {"x"}, {"e"});
                 auto& n = b.node("LRN", {"e"}, {"y"});
                 set_attr(n, "size", std::int64_t{3});
                 set_attr(n, "alpha", 0.1f);
               }});
  for (std::int64_t p : {1, 2})
    v.push_back({"LpNormalization", p == 1 ? "p = 1 of tanh(x)" : "p = 2 of tanh(x)", 13, {1, 3, 8}, 1, [p](B& b) {
                   b.node("Tanh", {"x"}, {"t"});
                   set_attr(b.node("LpNormalization", {"t"}, {"y"}), "p", p);
                 }});
  v.push_back({"Mish", "", 18, {1, 24}, 3, [](B& b) { b.node("Mish", {"x"}, {"y"}); }});
  v.push_back({"TopK", "values of tanh(x)", 11, {1, 3, 8}, 0.05, [](B& b) {
                 b.initializer(int64_tensor("k", {1}, {3}));
                 b.node("Tanh", {"x"}, {"t"});
                 b.node("TopK", {"t", "k"}, {"y", ""});
               }});
  v.push_back({"TopK", "indices of tanh(x): near ties reorder", 11, {1, 3, 8}, 0.05, [](B& b) {
                 b.initializer(int64_tensor("k", {1}, {3}));
                 b.node("Tanh", {"x"}, {"t"});
                 b.node("TopK", {"t", "k"}, {"v", "y"});
               }});
  for (const char* reduction : {"none", "add", "mul", "max", "min"})
    v.push_back({"ScatterND", reduction, 18, {1, 3, 4}, 1, [reduction](B& b) {
                   b.initializer(int64_tensor("i", {3, 2}, {0, 1, 0, 2, 0, 1}));
                   b.node("Tanh", {"x"}, {"t"});
                   b.node("Exp", {"x"}, {"e"});
                   b.initializer(int64_tensor("shape", {2}, {3, 4}));
                   b.node("Reshape", {"e", "shape"}, {"w"});  // updates [3, 4]: tuple (0, i) takes row i
                   auto& n = b.node("ScatterND", {"t", "i", "w"}, {"y"});
                   if (std::string(reduction) != "none") set_attr(n, "reduction", std::string(reduction));
                 }});
  v.push_back({"Resize", "cubic, half_pixel, 4x4 to 6x3", 13, {1, 1, 4, 4}, 1, [](B& b) {
                 b.initializer(float_tensor("roi", {0}, {}));
                 b.initializer(float_tensor("scales", {4}, {1, 1, 1.5f, 0.75f}));
                 b.node("Tanh", {"x"}, {"t"});
                 set_attr(b.node("Resize", {"t", "roi", "scales"}, {"y"}), "mode", std::string("cubic"));
               }});
}

}  // namespace fpaudit::test
