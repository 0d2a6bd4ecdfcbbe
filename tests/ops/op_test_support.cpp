#include "op_test_support.h"

#include <doctest/doctest.h>

#include "graph/loader.h"
#include "core/reference_arithmetic.h"
#include "shadow/plan.h"

namespace fpaudit::test {

namespace {
Graph inferred(const ModelBuilder& m, const std::vector<Feed>& inputs) {
  Graph g = m.parse();
  std::vector<Shape> shapes;
  for (const Feed& f : inputs) shapes.push_back(f.shape);
  infer_shapes(g, shapes);
  return g;
}
}  // namespace

std::vector<std::vector<double>> run_model(const ModelBuilder& m, const std::vector<Feed>& inputs, const Arithmetic& a) {
  const Graph g = inferred(m, inputs);
  const Plan plan(g);
  std::vector<std::vector<double>> values;
  for (const Feed& f : inputs) values.push_back(f.values);
  std::vector<std::vector<double>> out;
  for (Tensor& t : evaluate(plan, a, values)) out.push_back(std::move(t.data));
  return out;
}

std::vector<double> run_first(const ModelBuilder& m, const std::vector<Feed>& inputs, const Arithmetic& a) {
  return run_model(m, inputs, a).at(0);
}

Shape first_output_shape(const ModelBuilder& m, const std::vector<Feed>& inputs) {
  const Graph g = inferred(m, inputs);
  return g.value(g.outputs.at(0).name)->shape;
}

std::vector<std::unique_ptr<Arithmetic>> exact_capable_arithmetics() {
  std::vector<std::unique_ptr<Arithmetic>> all;
  for (const ChainSpec& c : named_chains())
    if (c.storage.precision >= 8) all.push_back(make_chain_arithmetic(c));
  all.push_back(make_reference_arithmetic("exact"));
  all.push_back(make_reference_arithmetic("mpfr:256"));
  return all;
}

std::string refusal(const ModelBuilder& m, const std::vector<Feed>& inputs) {
  const auto exact = make_reference_arithmetic("exact");
  return error_of([&] { run_first(m, inputs, *exact); });
}

void check_all_exact(const ModelBuilder& m, const std::vector<Feed>& inputs, const std::vector<double>& want) {
  for (const auto& a : exact_capable_arithmetics()) {
    INFO("arithmetic " << a->name());
    CHECK(run_first(m, inputs, *a) == want);
  }
}

}  // namespace fpaudit::test
