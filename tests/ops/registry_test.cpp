// Every operator load_onnx accepts can be evaluated: it has a kernel, or it only ever exists
// at load time (folded into constants by infer_shapes, or refused there on runtime data), or
// infer_shapes expands it into other operators (If, Loop, RNN, GRU, LSTM).
#include <algorithm>
#include <string>

#include <doctest/doctest.h>

#include "graph/loader.h"
#include "graph/subgraph.h"
#include "kernels/op.h"

using namespace fpaudit;

namespace {
bool has_kernel(std::string_view op) {
  const auto r = op_registry();
  return std::any_of(r.begin(), r.end(), [&](const OpRegistration& k) { return k.op_type == op; });
}
bool fold_only(std::string_view op) {
  // Shape, Constant and ConstantOfShape depend on shapes alone: always folded.
  const auto f = fold_only_operators();
  return op == "Shape" || op == "Constant" || op == "ConstantOfShape" || std::find(f.begin(), f.end(), op) != f.end();
}
}  // namespace

TEST_CASE("every supported operator has a kernel, is fold-only or is expanded into other nodes") {
  std::string missing;
  for (std::string_view op : supported_operators())
    if (!has_kernel(op) && !fold_only(op) && !is_expanded(op)) missing += (missing.empty() ? "" : ", ") + std::string(op);
  INFO("operators with neither a kernel nor folding: " << missing);
  CHECK(missing.empty());
}

TEST_CASE("every kernel is for a supported operator, registered once") {
  const auto supported = supported_operators();
  for (const OpRegistration& k : op_registry()) {
    INFO(k.op_type);
    CHECK(std::find(supported.begin(), supported.end(), k.op_type) != supported.end());
    CHECK(std::count_if(op_registry().begin(), op_registry().end(), [&](const OpRegistration& o) { return o.op_type == k.op_type; }) == 1);
  }
}
