// One of ONNX's backend node test cases (<case>/model.onnx, test_data_set_0/input_N.pb and
// output_N.pb) run through fpaudit: integer inputs bound as constants, float inputs fed, shapes
// inferred for the real input shapes, and the model evaluated in an arithmetic.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "core/arithmetic.h"
#include "core/tensor.h"
#include "shadow/plan.h"

namespace fpaudit::test {

/// Operator types of a model file's top-level nodes, read with protobuf directly (so that they
/// are known even when load_onnx refuses the model).
std::vector<std::string> model_operators(const std::filesystem::path& model);

class OnnxCase {
 public:
  /// Loads, binds, infers shapes and plans; throws ModelError when fpaudit does not support
  /// something the case needs. Integer inputs, and float inputs read only as parameters
  /// (Resize scales and roi, Clip bounds, Dropout ratio), are bound as constants. y_only drops
  /// LayerNormalization's Mean and InvStdDev outputs, which fpaudit refuses, to check Y alone.
  explicit OnnxCase(const std::filesystem::path& dir, bool y_only = false);

  /// The graph outputs in `a`, each flattened (graph outputs folded into constants at load time
  /// are returned as they are: folding is exact). `absolute` evaluates on |inputs| and with
  /// every float constant replaced by its absolute value.
  std::vector<std::vector<double>> run(const Arithmetic& a, bool absolute = false) const;
  /// The same outputs through evaluate_batch (the path of `fpaudit run`) with a poisoning
  /// BufferPool: every output a kernel receives starts as NaNs, so an element it leaves
  /// unwritten differs from run()'s.
  std::vector<std::vector<double>> run_recycled(const Arithmetic& a) const;

  const std::vector<Constant>& expected() const { return expected_; }
  const Graph& graph() const { return *graph_; }
  /// The longest sum any runtime node forms (terms per output), plus one rounding per further
  /// node: the n of the γ_n the acceptance rule uses.
  long accumulation_length() const;

 private:
  std::vector<std::vector<double>> flattened(const Plan& plan, const std::vector<Tensor>& out) const;

  std::unique_ptr<Graph> graph_, absolute_graph_;
  std::unique_ptr<Plan> plan_, absolute_plan_;
  std::vector<std::vector<double>> inputs_;
  std::vector<Constant> expected_;
};

}  // namespace fpaudit::test
