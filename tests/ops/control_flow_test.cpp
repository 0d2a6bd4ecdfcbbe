// If and Loop, expanded by infer_shapes into the branch taken or the iterations unrolled: values
// hand-computed and checked in every arithmetic that holds them, bounds checked on every element
// in every chain, node names that say where each node came from, and the refusals (a condition
// computed at run time, a loop without end) with their one line.
#include <doctest/doctest.h>

#include "bound_check.h"
#include "core/reference_arithmetic.h"
#include "graph/loader.h"
#include "op_test_support.h"

using namespace fpaudit;
using namespace fpaudit::test;

namespace {

onnx::GraphProto& add_graph_attr(onnx::NodeProto& node, const std::string& name) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::GRAPH);
  a->mutable_g()->set_name(name);
  return *a->mutable_g();
}

void body_value(google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>* list, const std::string& name, int type) {
  auto* v = list->Add();
  v->set_name(name);
  v->mutable_type()->mutable_tensor_type()->set_elem_type(type);
}

onnx::NodeProto& body_node(onnx::GraphProto& g, const std::string& op, std::vector<std::string> in,
                           std::vector<std::string> out) {
  auto* n = g.add_node();
  n->set_op_type(op);
  n->set_name(out[0]);
  for (const auto& s : in) n->add_input(s);
  for (const auto& s : out) n->add_output(s);
  return *n;
}

/// y = If(c, then: Relu(x) + 1 (reads x and a constant of the outer graph), else: x · 3 (a
/// constant of its own)).
ModelBuilder if_model(bool cond) {
  ModelBuilder m(13);
  m.input("x", kFloat, {2, 2}).output("y");
  m.initializer(float_tensor("one", {}, {1.0f}));
  auto c = int64_tensor("c", {}, {cond ? 1 : 0});
  c.set_data_type(kBool);
  c.clear_int64_data();
  c.add_int32_data(cond ? 1 : 0);
  m.initializer(c);
  auto& n = m.node("If", {"c"}, {"y"}, "choose");
  auto& then_g = add_graph_attr(n, "then_branch");
  body_node(then_g, "Relu", {"x"}, {"r"});
  body_node(then_g, "Add", {"r", "one"}, {"t"});
  body_value(then_g.mutable_output(), "t", kFloat);
  auto& else_g = add_graph_attr(n, "else_branch");
  *else_g.add_initializer() = float_tensor("three", {}, {3.0f});
  body_node(else_g, "Mul", {"x", "three"}, {"e"});
  body_value(else_g.mutable_output(), "e", kFloat);
  return m;
}

/// Loop(M, cond, y0 = x): y ← y + x·0.5 each iteration, scanning y·2; the body's condition is
/// iteration < stop (constant arithmetic on the iteration number, folded per iteration).
ModelBuilder loop_model(std::int64_t trips, std::optional<std::int64_t> stop) {
  ModelBuilder m(13);
  m.input("x", kFloat, {2}).output("y").output("scan");
  m.initializer(int64_tensor("M", {}, {trips}));
  auto t = int64_tensor("true", {}, {1});
  t.set_data_type(kBool);
  t.clear_int64_data();
  t.add_int32_data(1);
  m.initializer(t);
  m.initializer(float_tensor("half", {}, {0.5f}));
  auto& n = m.node("Loop", {"M", "true", "x"}, {"y", "scan"}, "loop");
  auto& body = add_graph_attr(n, "body");
  body_value(body.mutable_input(), "i", kInt64);
  body_value(body.mutable_input(), "cond_in", kBool);
  body_value(body.mutable_input(), "y_in", kFloat);
  body_node(body, "Mul", {"x", "half"}, {"step"});
  body_node(body, "Add", {"y_in", "step"}, {"y_out"});
  *body.add_initializer() = float_tensor("two", {}, {2.0f});
  body_node(body, "Mul", {"y_out", "two"}, {"s"});
  if (stop) {
    *body.add_initializer() = int64_tensor("stop", {}, {*stop});
    body_node(body, "Less", {"i", "stop"}, {"cond_out"});
  } else {
    body_node(body, "Identity", {"cond_in"}, {"cond_out"});
  }
  body_value(body.mutable_output(), "cond_out", kBool);
  body_value(body.mutable_output(), "y_out", kFloat);
  body_value(body.mutable_output(), "s", kFloat);
  return m;
}

const std::vector<Feed> kX22 = {{{2, 2}, {-2.0, 0.5, 1.0, -0.25}}};
const std::vector<Feed> kX2 = {{{2}, {1.0, -2.0}}};

}  // namespace

TEST_CASE("If with a constant condition becomes the branch it takes") {
  check_all_exact(if_model(true), kX22, {1.0, 1.5, 2.0, 1.0});
  check_all_exact(if_model(false), kX22, {-6.0, 1.5, 3.0, -0.75});
  check_bounds_every_chain(if_model(true), kX22);
  check_bounds_every_chain(if_model(false), kX22);
  const Graph g = inferred(if_model(true), {{2, 2}});
  REQUIRE(g.nodes.size() == 3);  // Relu, Add, and the Identity that writes y
  CHECK(g.nodes[0].name == "choose/then/r");
  CHECK(g.nodes[2].name == "choose/then/out0");
}

/// if_model with c = ReduceSum(x) > 0, computed per sample.
ModelBuilder if_at_run_time() {
  ModelBuilder m = if_model(true);
  m.model.mutable_graph()->mutable_initializer()->RemoveLast();  // drop the constant c
  set_attr(m.node("ReduceSum", {"x"}, {"sum"}, "sum"), "keepdims", std::int64_t{0});
  m.initializer(float_tensor("zero", {}, {0.0f}));
  m.node("Greater", {"sum", "zero"}, {"c"}, "positive");
  return m;
}

TEST_CASE("If whose condition is computed at run time: both branches, the output selected per sample") {
  check_all_exact(if_at_run_time(), kX22, {-6.0, 1.5, 3.0, -0.75});                       // sum −0.75: else
  check_all_exact(if_at_run_time(), {{{2, 2}, {2.0, 0.5, 1.0, -0.25}}}, {3.0, 1.5, 2.0, 1.0});  // 3.25: then
  check_bounds_every_chain(if_at_run_time(), kX22);
  // 0.1 + 0.2 − 0.3 is 2.8e-17 exactly but −1.2e-4 after rounding to binary16: the chains that
  // round the input take the other branch, and Where's rule must still bound them.
  check_bounds_every_chain(if_at_run_time(), {{{2, 2}, {0.1, 0.2, -0.3, 0.0}}});
  const Graph g = inferred(if_at_run_time(), {{2, 2}});
  CHECK(g.nodes.back().name == "choose/select0");
  CHECK(g.nodes.back().op_type == "Where");
}

TEST_CASE("If at run time with branches of different shapes is refused with one line") {
  ModelBuilder m = if_at_run_time();
  for (auto& a : *m.model.mutable_graph()->mutable_node(0)->mutable_attribute())
    if (a.name() == "else_branch") *a.mutable_g()->mutable_initializer(0) = float_tensor("three", {2, 2, 1}, {3, 3, 3, 3});
  CHECK(refusal(m, kX22) ==
        "model.onnx: node 'choose' (If): output 0 is float32 [2, 2] in one branch and float32 [2, 2, 2] in the other; "
        "with a condition computed at run time ('c') fpaudit runs both branches and selects per sample, which needs the "
        "same type and shape");
}

TEST_CASE("Loop with a constant trip count is unrolled: carried values and scan outputs") {
  // y = x + 3·x/2; scan = 2·(x + k·x/2) for k = 1, 2, 3.
  check_all_exact(loop_model(3, std::nullopt), kX2, {2.5, -5.0});
  const auto exact = make_reference_arithmetic("exact");
  const auto both = run_model(loop_model(3, std::nullopt), kX2, *exact);
  CHECK(both[1] == std::vector<double>{3.0, -6.0, 4.0, -8.0, 5.0, -10.0});
  CHECK(first_output_shape(loop_model(3, std::nullopt), kX2) == Shape{2});
  check_bounds_every_chain(loop_model(3, std::nullopt), kX2);
  const Graph g = inferred(loop_model(2, std::nullopt), {{2}});
  CHECK(std::any_of(g.nodes.begin(), g.nodes.end(), [](const Node& n) { return n.name == "loop/1/y_out"; }));
}

TEST_CASE("Loop whose body's condition folds: it stops when the condition turns false") {
  // iteration < 1 holds for iteration 0 only: iterations 0 and 1 run, then the loop ends.
  const auto exact = make_reference_arithmetic("exact");
  const auto out = run_model(loop_model(10, 1), kX2, *exact);
  CHECK(out[0] == std::vector<double>{2.0, -4.0});
  CHECK(out[1] == std::vector<double>{3.0, -6.0, 4.0, -8.0});
}

TEST_CASE("Loop: refusals") {
  ModelBuilder endless = loop_model(3, std::nullopt);
  auto* node = endless.model.mutable_graph()->mutable_node(0);
  node->set_input(0, "");
  CHECK(refusal(endless, kX2) ==
        "model.onnx: node 'loop' (Loop): runs more than 4096 iterations; fpaudit unrolls a Loop and refuses longer ones");
  node->set_input(1, "");
  CHECK(refusal(endless, kX2) == "model.onnx: node 'loop' (Loop): has neither a trip count nor a condition: it would "
                                 "never end");
  ModelBuilder none = loop_model(0, std::nullopt);
  CHECK(refusal(none, kX2) == "model.onnx: node 'loop' (Loop): scan output 'scan' would be empty (the loop runs no "
                              "iteration), which fpaudit does not represent");
}

TEST_CASE("both branches are loaded and checked: an unsupported operator in the branch not taken is refused") {
  ModelBuilder m = if_model(true);
  auto* n = m.model.mutable_graph()->mutable_node(0);
  for (auto& a : *n->mutable_attribute())
    if (a.name() == "else_branch") a.mutable_g()->mutable_node(0)->set_op_type("Scan");
  CHECK(error_of([&] { m.parse(); }) ==
        "model.onnx: node 'choose' (If): in its body: node 'e' (Scan): operator Scan is not supported by fpaudit");
}
