// Integer and bool tensors at run time (issue 15, point 1): token ids and a padding mask as
// runtime inputs of the plan, never rounded, with the integer arithmetic on them (Add, Mul,
// truncating Div, Equal, Not) evaluated exactly in every chain and carrying a zero bound, and a
// Gather by runtime indices. The model's answers are worked out by hand: every table value is a
// multiple of 1/4 below 3, exact in every storage format down to E4M3, while the ids reach 399,
// far beyond the integers E4M3 (16) or E5M2 (8) hold: a chain that rounded them would gather
// other rows.
#include <cmath>

#include <doctest/doctest.h>

#include "graph/loader.h"
#include "graph/model_builder.h"
#include "graph/samples.h"
#include "shadow/audit.h"
#include "shadow/sample_plan.h"

using namespace fpaudit;
using fpaudit::test::ModelBuilder;

namespace {

constexpr long kRows = 400;

double table(long r, long j) { return static_cast<double>(r % 8) * 0.25 + static_cast<double>(j); }

/// y[t, j] = keep[t]·T[ids[t], j] + T[(2·(ids[t] + 1)) / 3, j] with keep = not(mask == 0).
ModelBuilder ids_model() {
  ModelBuilder mb(13);
  mb.input("ids", test::kInt64, {-1, 4}).input("mask", test::kInt64, {-1, 4}).output("y", test::kFloat, {-1, 4, 2});
  std::vector<float> t;
  for (long r = 0; r < kRows; ++r)
    for (long j = 0; j < 2; ++j) t.push_back(static_cast<float>(table(r, j)));
  mb.initializer(test::float_tensor("T", {kRows, 2}, t));
  mb.initializer(test::int64_tensor("zero", {}, {0}));
  mb.initializer(test::int64_tensor("one", {}, {1}));
  mb.initializer(test::int64_tensor("two", {}, {2}));
  mb.initializer(test::int64_tensor("three", {}, {3}));
  mb.initializer(test::int64_tensor("axis2", {1}, {2}));
  mb.node("Gather", {"T", "ids"}, {"emb"}, "embed");
  mb.node("Equal", {"mask", "zero"}, {"pad"}, "is_pad");
  mb.node("Not", {"pad"}, {"keep"}, "keep");
  test::set_attr(mb.node("Cast", {"keep"}, {"keep_f"}, "keep_float"), "to", std::int64_t{1});
  mb.node("Unsqueeze", {"keep_f", "axis2"}, {"keep_u"}, "keep_3d");
  mb.node("Mul", {"emb", "keep_u"}, {"masked"}, "apply_mask");
  mb.node("Add", {"ids", "one"}, {"ids1"}, "plus_one");
  mb.node("Mul", {"ids1", "two"}, {"ids2"}, "times_two");
  mb.node("Div", {"ids2", "three"}, {"idx"}, "div_three");
  mb.node("Gather", {"T", "idx"}, {"emb2"}, "embed2");
  mb.node("Add", {"masked", "emb2"}, {"y"}, "sum");
  return mb;
}

Constant ints(const Shape& shape, std::vector<std::int64_t> v) { return {DType::Int64, shape, {}, std::move(v)}; }

const std::vector<std::int64_t> kIds = {300, 5, 399, 17, 0, 398, 9, 1};
const std::vector<std::int64_t> kMask = {1, 1, 1, 0, 1, 0, 1, 1};

struct Bert {
  Graph graph;
  std::unique_ptr<SampleSet> samples;
  std::unique_ptr<Plan> plan;
};

std::unique_ptr<Bert> planned() {
  auto b = std::make_unique<Bert>();
  b->graph = ids_model().parse();
  b->samples = std::make_unique<SampleSet>(
      b->graph, std::vector<InputArray>{{"ids", ints({2, 4}, kIds), "ids.npy"}, {"mask", ints({2, 4}, kMask), "mask.npy"}},
      SampleAxis{});
  infer_shapes(b->graph, b->samples->sample_shapes());
  b->plan = std::make_unique<Plan>(b->graph);
  return b;
}

}  // namespace

TEST_CASE("integer inputs and the integer arithmetic on them are exact data of the plan") {
  const auto b = planned();
  const Graph& g = b->graph;
  for (const char* v : {"ids", "mask", "pad", "keep", "ids1", "ids2", "idx"}) CHECK_MESSAGE(g.value(v)->exact_data, v);
  for (const char* v : {"emb", "keep_f", "masked", "emb2", "y"}) CHECK_MESSAGE(!g.value(v)->exact_data, v);
  CHECK(g.value("idx")->dtype == DType::Int64);
  CHECK(g.value("keep")->dtype == DType::Bool);
  long exact_layers = 0;
  for (const PlannedLayer& l : b->plan->layers()) {
    const bool integer = l.node->name == "is_pad" || l.node->name == "keep" || l.node->name == "plus_one" ||
                         l.node->name == "times_two" || l.node->name == "div_three";
    CHECK_MESSAGE(l.exact_data == integer, l.node->name);
    if (l.exact_data) CHECK(l.bound_rule == nullptr);
    exact_layers += l.exact_data;
  }
  CHECK(exact_layers == 5);
}

TEST_CASE("every chain gathers by the exact ids and computes the integers exactly") {
  const auto b = planned();
  std::vector<std::unique_ptr<Arithmetic>> arithmetics;
  arithmetics.push_back(make_chain_arithmetic(parse_chain("fp32")));
  for (const ChainSpec& c : named_chains()) arithmetics.push_back(make_chain_arithmetic(c));
  for (long s = 0; s < 2; ++s) {
    const std::vector<std::vector<double>> in{b->samples->values(0, s), b->samples->values(1, s)};
    for (const auto& a : arithmetics) {
      const std::vector<double> y = evaluate(*b->plan, *a, in).at(0).data;
      REQUIRE(y.size() == 8);
      for (long t = 0; t < 4; ++t) {
        const std::int64_t id = kIds[static_cast<std::size_t>(s * 4 + t)];
        const double keep = kMask[static_cast<std::size_t>(s * 4 + t)] != 0 ? 1 : 0;
        const std::int64_t idx = 2 * (id + 1) / 3;  // truncating, as ONNX's integer Div
        for (long j = 0; j < 2; ++j)  // one rounding: the final Add of two exact values
          CHECK_MESSAGE(y[static_cast<std::size_t>(t * 2 + j)] == a->round(keep * table(id, j) + table(idx, j)), a->name());
      }
    }
  }
}

TEST_CASE("the audit of integer inputs: zero error and zero bound on exact data, no violation") {
  const auto b = planned();
  AuditOptions o;
  for (const ChainSpec& c : named_chains()) o.chains.push_back(c);
  o.threads = 2;
  const AuditResult r = run_audit(*b->plan, plan_samples(*b->samples, -1), nullptr, o);
  REQUIRE(r.samples == 2);
  CHECK(!r.margin);
  CHECK(r.margin_missing == "a model whose inputs are not one floating-point array");
  for (std::size_t l = 0; l < r.stats.size(); ++l)
    for (std::size_t c = 0; c < r.chains.size(); ++c) {
      const LayerChainStats& st = r.stats[l][c];
      CHECK(st.propagated_bound.violations == 0);
      CHECK(st.local_bound.violations == 0);
      if (!b->plan->layers()[l].exact_data) continue;
      CHECK(st.propagated.abs.max == 0);
      CHECK(st.propagated_bound.bound.max == 0);
      CHECK(st.local_bound.bound.max == 0);
    }
  // The same audit with one thread: the same statistics.
  o.threads = 1;
  const AuditResult one = run_audit(*b->plan, plan_samples(*b->samples, -1), nullptr, o);
  for (std::size_t l = 0; l < r.stats.size(); ++l)
    for (std::size_t c = 0; c < r.chains.size(); ++c) {
      CHECK(one.stats[l][c].propagated.abs.max == r.stats[l][c].propagated.abs.max);
      CHECK(one.stats[l][c].propagated_bound.bound.max == r.stats[l][c].propagated_bound.bound.max);
    }
}

TEST_CASE("a runtime index out of range is one error naming the node") {
  const auto b = planned();
  const auto fp32 = make_chain_arithmetic(parse_chain("fp32"));
  const std::vector<std::vector<double>> in{{1, 2, 400, 3}, {1, 1, 1, 1}};
  CHECK(test::error_of([&] { (void)evaluate(*b->plan, *fp32, in); }) ==
        "model.onnx: node 'embed' (Gather): index 400 is out of range for an axis of 400 (index element 2)");
}

TEST_CASE("integers computed from floating-point data stay refused") {
  // Gather by ArgMax's indices: a chain may pick another index than the reference.
  ModelBuilder mb(13);
  mb.input("x", test::kFloat, {1, 3}).output("y", test::kFloat);
  mb.initializer(test::float_tensor("T", {3, 2}, {1, 2, 3, 4, 5, 6}));
  test::set_attr(mb.node("ArgMax", {"x"}, {"i"}, "pick"), "axis", std::int64_t{1});
  mb.node("Gather", {"T", "i"}, {"y"}, "lookup");
  Graph g = mb.parse();
  infer_shapes(g, std::vector<Shape>{{1, 3}});
  CHECK(!g.value("i")->exact_data);
  CHECK(test::error_of([&] { const Plan plan(g); }) ==
        "model.onnx: node 'lookup' (Gather): indices 'i' are computed from floating-point data; fpaudit gathers by "
        "constant indices or by integer inputs");
}
