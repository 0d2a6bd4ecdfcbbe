// What the engine's tests share: a float input array, chains by name, and one call that parses a
// built model, infers shapes for one sample and audits the inputs.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "graph/loader.h"
#include "graph/model_builder.h"
#include "shadow/audit.h"

namespace fpaudit::test {

inline std::vector<ChainSpec> chains(std::initializer_list<const char*> names) {
  std::vector<ChainSpec> out;
  for (const char* n : names) out.push_back(parse_chain(n));
  return out;
}

inline Constant float_array(Shape shape, std::vector<double> values) {
  Constant c;
  c.dtype = DType::Float32;
  c.shape = std::move(shape);
  c.values = std::move(values);
  return c;
}

/// A shipped model (data/NAME.onnx) with its shapes inferred for one 1x1x28x28 image, and its plan.
struct ShippedModel {
  Graph graph;
  std::unique_ptr<Plan> plan;
  explicit ShippedModel(const std::string& name) : graph(load_onnx(std::string(FPAUDIT_DATA_DIR) + "/" + name + ".onnx")) {
    infer_shapes(graph, std::vector<Shape>{{1, 1, 28, 28}});
    plan = std::make_unique<Plan>(graph);
  }
};

/// A parsed model, its plan and its audit (the plan refers to the graph: they live together).
struct Audited {
  Graph graph;
  std::unique_ptr<Plan> plan;
  AuditResult result;
};

/// Parses `mb`, infers shapes for one sample of `sample_shape` and audits `inputs` in `cs`.
inline std::unique_ptr<Audited> audit_model(const ModelBuilder& mb, const Shape& sample_shape, const Constant& inputs,
                                            const std::vector<ChainSpec>& cs, const Constant* labels = nullptr,
                                            int threads = 1, BoundShrink shrink = {}, bool apriori_concentrated = true) {
  auto a = std::make_unique<Audited>();
  a->graph = mb.parse();
  infer_shapes(a->graph, std::vector<Shape>{sample_shape});
  a->plan = std::make_unique<Plan>(a->graph);
  AuditOptions o;
  o.chains = cs;
  o.threads = threads;
  o.shrink_bound = shrink;
  o.apriori_concentrated = apriori_concentrated;
  a->result = run_audit(*a->plan, inputs, labels, o);
  return a;
}

}  // namespace fpaudit::test
