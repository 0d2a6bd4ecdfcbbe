// Examples of the operators that once ran only on constants (folded at load time) and now run
// on runtime data: exact ones (Abs, Neg, the step functions, comparisons, logic, Where,
// selections and data movement). The comparisons and step functions get operands close enough
// to their jumps that the chains' rounding errors can flip them, so that both branches of their
// rules (exact, or "may be flipped") are audited.
#include "operator_examples.h"

namespace fpaudit::test {

namespace {

using B = ModelBuilder;

/// cmp(x, tanh(x)): x - tanh(x) ≈ x³/3 is smaller than tanh's rounding error for small x, so a
/// chain can flip it; cmp(x, c) with c a constant flips only where x rounds across c.
void comparisons(std::vector<OperatorExample>& v) {
  for (const char* op : {"Equal", "Greater", "GreaterOrEqual", "Less", "LessOrEqual"}) {
    v.push_back({op, "x against tanh(x)", 13, {1, 24}, 0.2, [op](B& b) {
                   b.node("Tanh", {"x"}, {"t"});
                   b.node(op, {"x", "t"}, {"y"});
                 }});
    v.push_back({op, "x against a constant", 13, {1, 3, 4}, 1, [op](B& b) {
                   b.initializer(float_tensor("c", {4}, {0.0f, 0.3f, -0.2f, 0.5f}));
                   b.node(op, {"x", "c"}, {"y"});
                 }});
  }
  // Equal meets its operands exactly often enough only on rounded values: round(4x) = round(4·tanh x).
  v.push_back({"Equal", "rounded x against rounded tanh(x)", 13, {1, 24}, 1, [](B& b) {
                 b.initializer(float_tensor("four", {}, {4.0f}));
                 b.node("Mul", {"x", "four"}, {"x4"});
                 b.node("Tanh", {"x"}, {"t"});
                 b.node("Mul", {"t", "four"}, {"t4"});
                 b.node("Round", {"x4"}, {"rx"});
                 b.node("Round", {"t4"}, {"rt"});
                 b.node("Equal", {"rx", "rt"}, {"y"});
               }});
}

void logic(std::vector<OperatorExample>& v) {
  auto two_masks = [](B& b) {
    b.node("Tanh", {"x"}, {"t"});
    b.node("Greater", {"x", "t"}, {"p"});  // may flip near 0
    b.initializer(float_tensor("c", {}, {0.1f}));
    b.node("Less", {"x", "c"}, {"q"});
  };
  for (const char* op : {"And", "Or", "Xor"})
    v.push_back({op, "of two comparisons", 13, {1, 24}, 0.2, [op, two_masks](B& b) {
                   two_masks(b);
                   b.node(op, {"p", "q"}, {"y"});
                 }});
  v.push_back({"Not", "of a comparison", 13, {1, 24}, 0.2, [two_masks](B& b) {
                 two_masks(b);
                 b.node("Not", {"p"}, {"y"});
               }});
  v.push_back({"Where", "condition that may flip: x > tanh(x) ? exp(x) : x", 13, {1, 24}, 0.2, [](B& b) {
                 b.node("Tanh", {"x"}, {"t"});
                 b.node("Greater", {"x", "t"}, {"p"});
                 b.node("Exp", {"x"}, {"e"});
                 b.node("Where", {"p", "e", "x"}, {"y"});
               }});
  v.push_back({"Where", "certain condition: x > 0 ? x : tanh(x), broadcast constant", 13, {1, 3, 4}, 1, [](B& b) {
                 b.initializer(float_tensor("z", {}, {0.0f}));
                 b.node("Greater", {"x", "z"}, {"p"});
                 b.node("Tanh", {"x"}, {"t"});
                 b.node("Where", {"p", "x", "t"}, {"y"});
               }});
}

void steps(std::vector<OperatorExample>& v) {
  for (const char* op : {"Abs", "Neg"}) {
    v.push_back({op, "of tanh(x)", 13, {1, 12}, 2, [op](B& b) {
                   b.node("Tanh", {"x"}, {"t"});
                   b.node(op, {"t"}, {"y"});
                 }});
  }
  // Steps of 4·tanh(x): near an integer (or a half, for Round) a rounding error flips them.
  for (const char* op : {"Sign", "Ceil", "Floor", "Round"}) {
    v.push_back({op, "of 4·tanh(x)", 13, {1, 48}, 1, [op](B& b) {
                   b.initializer(float_tensor("four", {}, {4.0f}));
                   b.node("Tanh", {"x"}, {"t"});
                   b.node("Mul", {"t", "four"}, {"s"});
                   b.node(op, {"s"}, {"y"});
                 }});
  }
}

void selections(std::vector<OperatorExample>& v) {
  for (const char* op : {"ReduceMax", "ReduceMin"}) {
    v.push_back({op, "axis 1 of tanh(x), keepdims 0", 13, {1, 4, 5}, 1, [op](B& b) {
                   b.node("Tanh", {"x"}, {"t"});
                   auto& n = b.node(op, {"t"}, {"y"});
                   set_attr(n, "axes", std::vector<std::int64_t>{1});
                   set_attr(n, "keepdims", std::int64_t{0});
                 }});
  }
  v.push_back({"GlobalMaxPool", "of exp(x)", 13, {1, 3, 4, 4}, 1, [](B& b) {
                 b.node("Exp", {"x"}, {"e"});
                 b.node("GlobalMaxPool", {"e"}, {"y"});
               }});
  for (const char* op : {"ArgMax", "ArgMin"}) {
    // Close values: tanh of a small scale, where rounding can reorder them.
    v.push_back({op, "last axis of tanh(x)", 13, {1, 3, 8}, 0.05, [op](B& b) {
                   b.node("Tanh", {"x"}, {"t"});
                   set_attr(b.node(op, {"t"}, {"y"}), "axis", std::int64_t{-1});
                 }});
  }
  v.push_back({"ArgMax", "axis 1, select_last_index, keepdims 0", 13, {1, 6, 2}, 1, [](B& b) {
                 b.node("Tanh", {"x"}, {"t"});
                 auto& n = b.node("ArgMax", {"t"}, {"y"});
                 set_attr(n, "axis", std::int64_t{1});
                 set_attr(n, "keepdims", std::int64_t{0});
                 set_attr(n, "select_last_index", std::int64_t{1});
               }});
}

void norms(std::vector<OperatorExample>& v) {
  for (const char* op : {"ReduceL1", "ReduceSumSquare", "ReduceL2", "ReduceLogSumExp"}) {
    v.push_back({op, "last axis", 13, {1, 4, 30}, 1, [op](B& b) {
                   set_attr(b.node(op, {"x"}, {"y"}), "axes", std::vector<std::int64_t>{-1});
                 }});
    v.push_back({op, "axes 1 and 3 of tanh(x)", 13, {1, 3, 2, 5}, 2, [op](B& b) {
                   b.node("Tanh", {"x"}, {"t"});
                   set_attr(b.node(op, {"t"}, {"y"}), "axes", std::vector<std::int64_t>{1, 3});
                 }});
  }
  v.push_back({"ReduceProd", "last axis of 1 + x/4", 13, {1, 4, 12}, 1, [](B& b) {
                 b.initializer(float_tensor("q", {}, {0.25f}));
                 b.initializer(float_tensor("one", {}, {1.0f}));
                 b.node("Mul", {"x", "q"}, {"s"});
                 b.node("Add", {"s", "one"}, {"t"});
                 set_attr(b.node("ReduceProd", {"t"}, {"y"}), "axes", std::vector<std::int64_t>{-1});
               }});
  for (const char* op : {"Elu", "Selu", "Celu", "Softplus"}) {
    v.push_back({op, "", 13, {1, 24}, 3, [op](B& b) { b.node(op, {"x"}, {"y"}); }});
    v.push_back({op, "of x·tanh(x) + 20 (large arguments)", 13, {1, 24}, 4, [op](B& b) {
                   b.initializer(float_tensor("k", {}, {20.0f}));
                   b.node("Tanh", {"x"}, {"t"});
                   b.node("Mul", {"x", "t"}, {"s"});
                   b.node("Add", {"s", "k"}, {"u"});
                   b.node(op, {"u"}, {"y"});
                 }});
  }
  v.push_back({"ThresholdedRelu", "alpha 0.5 on 4·tanh(x)", 13, {1, 48}, 1, [](B& b) {
                 b.initializer(float_tensor("four", {}, {4.0f}));
                 b.node("Tanh", {"x"}, {"t"});
                 b.node("Mul", {"t", "four"}, {"s"});
                 set_attr(b.node("ThresholdedRelu", {"s"}, {"y"}), "alpha", 0.5f);
               }});
}

void movement(std::vector<OperatorExample>& v) {
  v.push_back({"Tile", "", 13, {1, 2, 3}, 1, [](B& b) {
                 b.initializer(int64_tensor("r", {3}, {2, 1, 3}));
                 b.node("Tanh", {"x"}, {"t"});
                 b.node("Tile", {"t", "r"}, {"y"});
               }});
  v.push_back({"Expand", "", 13, {1, 3, 1}, 1, [](B& b) {
                 b.initializer(int64_tensor("s", {3}, {2, 1, 4}));
                 b.node("Tanh", {"x"}, {"t"});
                 b.node("Expand", {"t", "s"}, {"y"});
               }});
  for (const char* mode : {"DCR", "CRD"})
    v.push_back({"DepthToSpace", mode, 13, {1, 8, 2, 3}, 1, [mode](B& b) {
                   b.node("Tanh", {"x"}, {"t"});
                   auto& n = b.node("DepthToSpace", {"t"}, {"y"});
                   set_attr(n, "blocksize", std::int64_t{2});
                   set_attr(n, "mode", std::string(mode));
                 }});
  v.push_back({"SpaceToDepth", "", 13, {1, 2, 4, 6}, 1, [](B& b) {
                 b.node("Tanh", {"x"}, {"t"});
                 set_attr(b.node("SpaceToDepth", {"t"}, {"y"}), "blocksize", std::int64_t{2});
               }});
}

}  // namespace

void add_runtime_examples(std::vector<OperatorExample>& v) {
  comparisons(v);
  logic(v);
  steps(v);
  selections(v);
  movement(v);
  norms(v);
}

}  // namespace fpaudit::test
