// Every operator fpaudit has must end with a bound rule, and every rule must hold on the kernel
// it bounds. The first test lists the registered operators that have no example here or whose
// bound() throws NoBound; the second audits every example (run_audit: the engine's own
// propagated and local checks) in every chain and asserts zero violations.
#include <cmath>
#include <random>
#include <set>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "graph/loader.h"
#include "core/chain_arithmetic.h"
#include "operator_examples.h"
#include "shadow/audit.h"

using namespace fpaudit;
using namespace fpaudit::test;

namespace {

const char* kChains[] = {"fp32", "fp16", "fp16-acc32", "bf16", "bf16-acc32", "fp8-e4m3-acc32", "fp16@pairwise-8", "bf16@two-lane"};

/// Random samples for an example: [samples, ...input] of scale·N(0, 1).
Constant example_inputs(const OperatorExample& e, long samples, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  Constant c;
  c.dtype = DType::Float32;
  c.shape = {samples};
  for (std::size_t d = 1; d < e.input.size(); ++d) c.shape.push_back(e.input[d]);
  c.values.resize(static_cast<std::size_t>(element_count(c.shape)));
  for (double& v : c.values) v = static_cast<float>(normal(rng) * e.scale);
  return c;
}

std::string label(const OperatorExample& e) { return e.variant.empty() ? e.op : e.op + " (" + e.variant + ")"; }

}  // namespace

TEST_CASE("every registered operator has a bound rule that does not throw NoBound") {
  std::set<std::string> missing, no_bound;
  for (const OpRegistration& r : op_registry()) {
    bool found = false;
    for (const OperatorExample& e : operator_examples()) found = found || e.op == r.op_type;
    if (!found) missing.insert(std::string(r.op_type));
  }
  const ChainArithmetic fp16(parse_chain("fp16"));
  const auto model = bounds::ArithmeticModel::of(fp16);
  for (const OperatorExample& e : operator_examples()) {
    Graph g = example_model(e).parse();
    infer_shapes(g, std::vector<Shape>{Shape(e.input.begin(), e.input.end())});
    const Plan plan(g);
    const std::vector<Tensor> constants = round_constants(plan, fp16);
    Activations values(plan, constants);
    values.set_input(0, example_inputs(e, 1, 1).values);
    for (std::size_t l = 0; l < plan.layers().size(); ++l) {
      const PlannedLayer& layer = plan.layers()[l];
      values.run_layer(fp16, l, values);
      // Enclosures of the chain's own values with zero input error.
      std::vector<Tensor> zeros;
      zeros.reserve(layer.inputs.size());
      std::vector<bounds::Enclosure> in(layer.inputs.size());
      for (std::size_t i = 0; i < layer.inputs.size(); ++i) {
        if (layer.inputs[i] < 0) continue;
        const Tensor& t = values.value(layer.inputs[i]);
        zeros.push_back(Tensor(t.shape));
        in[i] = {&t, &t, &zeros.back(), &zeros.back()};
      }
      // An output nobody reads (slot -1) gets no tensor, as the engine passes it (apriori.cpp).
      std::vector<Tensor> det, prob;
      for (int s : layer.outputs) {
        det.emplace_back(s < 0 ? Shape{} : values.value(s).shape);
        prob.emplace_back(s < 0 ? Shape{} : values.value(s).shape);
      }
      std::vector<Tensor*> dp, pp;
      for (std::size_t k = 0; k < det.size(); ++k) {
        dp.push_back(layer.outputs[k] < 0 ? nullptr : &det[k]);
        pp.push_back(layer.outputs[k] < 0 ? nullptr : &prob[k]);
      }
      try {
        layer.bound({model, 5.0, in, dp, pp, nullptr});
      } catch (const bounds::NoBound&) {
        no_bound.insert(layer.node->op_type);
      }
    }
  }
  std::string m, nb;
  for (const auto& s : missing) m += " " + s;
  for (const auto& s : no_bound) nb += " " + s;
  CHECK_MESSAGE(missing.empty(), "operators without an example in tests/bounds/operator_examples.cpp:" << m);
  CHECK_MESSAGE(no_bound.empty(), "operators whose bound() throws NoBound:" << nb);
}

TEST_CASE("every operator's rule holds in every chain (run_audit, propagated and local)") {
  AuditOptions options;
  for (const char* c : kChains) options.chains.push_back(parse_chain(c));
  options.threads = 1;
  long checked = 0, violations = 0;
  fmt::print("operator audit: example, elements checked, violations, max observed/bound (propagated, local), unbounded\n");
  std::uint64_t seed = 100;
  for (const OperatorExample& e : operator_examples()) {
    Graph g = example_model(e).parse();
    infer_shapes(g, std::vector<Shape>{Shape(e.input.begin(), e.input.end())});
    const Plan plan(g);
    const AuditResult r = run_audit(plan, example_inputs(e, 12, ++seed), nullptr, options);
    long ex_checked = 0, ex_viol = 0, unbounded = 0;
    double worst_p = 0, worst_l = 0;
    for (const auto& layer : r.stats)
      for (const LayerChainStats& st : layer) {
        ex_checked += static_cast<long>(st.propagated_bound.checked + st.local_bound.checked);
        ex_viol += static_cast<long>(st.propagated_bound.violations + st.local_bound.violations);
        unbounded += static_cast<long>(st.propagated_bound.unbounded);
        worst_p = std::fmax(worst_p, st.propagated_bound.ratio.max);
        worst_l = std::fmax(worst_l, st.local_bound.ratio.max);
      }
    fmt::print("  {:<45} {:>6} {:>3} {:>9.3g} {:>9.3g} {:>5}\n", label(e), ex_checked, ex_viol, worst_p, worst_l, unbounded);
    CHECK_MESSAGE(ex_viol == 0, label(e));
    checked += ex_checked;
    violations += ex_viol;
  }
  fmt::print("operator audit: {} elements checked, {} violations\n", checked, violations);
  CHECK(violations == 0);
}
