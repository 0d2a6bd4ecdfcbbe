// What the training tests share: a parsed model with shapes for a batch, and its plan.
#pragma once

#include <memory>

#include <nlohmann/json.hpp>

#include "graph/loader.h"
#include "graph/model_builder.h"
#include "shadow/plan.h"

namespace fpaudit::test {

struct Planned {
  Graph graph;
  std::unique_ptr<Plan> plan;
};

inline std::unique_ptr<Planned> plan_for(Graph graph, const Shape& batch_shape) {
  auto p = std::make_unique<Planned>();
  p->graph = std::move(graph);
  infer_shapes(p->graph, std::vector<Shape>{batch_shape});
  p->plan = std::make_unique<Plan>(p->graph);
  return p;
}

/// A train-step JSON without what depends on the machine (seconds, thread count), for comparing
/// runs bit for bit.
inline nlohmann::json without_timing(nlohmann::json j) {
  j.erase("seconds");
  j.erase("threads");
  for (auto& c : j["chains"]) c.erase("seconds");
  return j;
}

inline Constant values_array(Shape shape, std::vector<double> values) {
  Constant c;
  c.dtype = DType::Float32;
  c.shape = std::move(shape);
  c.values = std::move(values);
  return c;
}

inline Constant label_array(std::vector<std::int64_t> labels) {
  Constant c;
  c.dtype = DType::Int64;
  c.shape = {static_cast<std::int64_t>(labels.size())};
  c.ints = std::move(labels);
  return c;
}

}  // namespace fpaudit::test
