#include "onnx_case.h"

#include <cmath>
#include <fstream>
#include <stdexcept>

#include <onnx/onnx_pb.h>

#include "graph/einsum.h"
#include "graph/loader.h"
#include "shadow/constant_store.h"

namespace fpaudit::test {

namespace {

std::int64_t product(Shape::const_iterator first, Shape::const_iterator last) {
  std::int64_t n = 1;
  for (; first != last; ++first) n *= *first;
  return n;
}

const Shape& shape_of(const Graph& g, const std::string& name) {
  if (const Constant* c = g.constant(name)) return c->shape;
  return g.value(name)->shape;
}

/// Terms of the longest sum one node forms per output element (1 for one rounding).
long terms(const Graph& g, const Node& n) {
  const std::string& op = n.op_type;
  const Shape& x = shape_of(g, n.inputs.at(0));
  if (op == "Conv") {
    const Shape& w = shape_of(g, n.inputs.at(1));
    return product(w.begin() + 1, w.end()) + 1;
  }
  if (op == "ConvTranspose") {
    const Shape& w = shape_of(g, n.inputs.at(1));
    return w[0] / n.attr_int("group", 1) * product(w.begin() + 2, w.end()) + 1;
  }
  if (op == "Gemm") return (n.attr_int("transA", 0) ? x[0] : x[1]) + 2;
  if (op == "MatMul") return x.back() + 1;
  if (op == "MaxPool" || op == "AveragePool") {
    const auto k = n.attr_ints("kernel_shape", {});
    return product(k.begin(), k.end());
  }
  if (op == "GlobalAveragePool") return product(x.begin() + 2, x.end()) + 1;
  if (op == "ReduceSum" || op == "ReduceMean" || op == "ReduceL1" || op == "ReduceL2" || op == "ReduceSumSquare" ||
      op == "ReduceLogSumExp" || op == "ReduceLogSum")
    return element_count(x) / std::max<std::int64_t>(1, element_count(shape_of(g, n.outputs.at(0)))) + 1;
  if (op == "Softmax" || op == "LogSoftmax" || op == "LayerNormalization") return element_count(x) + 4;
  if (op == "InstanceNormalization" || op == "GroupNormalization") return product(x.begin() + 1, x.end()) + 4;
  if (op == "LRN") return n.attr_int("size", 1) + 4;
  if (op == "LpNormalization") return element_count(x) + 2;
  if (op == "Einsum") {
    // The summed labels' combinations: every label's extent over the output's.
    std::vector<Shape> shapes;
    for (const std::string& in : n.inputs) shapes.push_back(shape_of(g, in));
    std::string problem;
    const EinsumSpec s = parse_einsum(n.attr_string("equation", ""), shapes, problem);
    long k = 1;
    for (int l : s.summed_labels) k *= static_cast<long>(s.size[static_cast<std::size_t>(l)]);
    return k + 1;
  }
  if (op == "Resize") return n.attr_string("mode", "nearest") == "cubic" ? 1L << std::min<std::size_t>(2 * x.size(), 40)
                                                                         : 1L << std::min<std::size_t>(x.size(), 20);
  // A loss is a dot product over the N·d1·… picked elements (coefficients rounded too); the
  // softmax one forms LogSoftmax along the C classes first.
  if (op == "Sum" || op == "Mean") return static_cast<long>(n.inputs.size()) + 1;
  if (op == "CumSum") return *std::max_element(x.begin(), x.end()) + 1;
  if (op == "NegativeLogLikelihoodLoss") return element_count(x) / std::max<std::int64_t>(1, x.at(1)) + 2;
  if (op == "SoftmaxCrossEntropyLoss") return element_count(x) / std::max<std::int64_t>(1, x.at(1)) + x.at(1) + 6;
  return 1;
}

std::vector<std::filesystem::path> numbered(const std::filesystem::path& dir, const std::string& stem) {
  std::vector<std::filesystem::path> files;
  for (int i = 0;; ++i) {
    std::filesystem::path p = dir / (stem + "_" + std::to_string(i) + ".pb");
    if (!std::filesystem::exists(p)) return files;
    files.push_back(std::move(p));
  }
}

/// Whether input position `i` of `op` is a parameter fpaudit reads at preparation (scales,
/// bounds, ratios) rather than data: ONNX's node tests feed those as graph inputs, a model
/// would hold them as constants.
bool parameter_position(const std::string& op, std::size_t i) {
  if (op == "Resize" || op == "Clip" || op == "Dropout") return i >= 1;
  if (op == "NegativeLogLikelihoodLoss" || op == "SoftmaxCrossEntropyLoss") return i == 2;  // class weights
  if (op == "Pad") return i >= 1;      // pads, constant_value
  if (op == "OneHot") return i <= 1;   // indices, depth
  return op == "Range" || op == "ConstantOfShape";
}

/// Graph input `name` is read only as parameters.
bool parameter_only(const Graph& g, const std::string& name) {
  bool used = false;
  for (const Node& n : g.nodes)
    for (std::size_t i = 0; i < n.inputs.size(); ++i)
      if (n.inputs[i] == name) {
        if (!parameter_position(n.op_type, i)) return false;
        used = true;
      }
  return used;
}

/// Drops LayerNormalization's Mean and InvStdDev from the graph outputs (and from `expected`),
/// so that Y alone is evaluated; returns whether there was anything to drop.
bool drop_statistics(Graph& g, std::vector<Constant>& expected) {
  bool dropped = false;
  for (Node& n : g.nodes) {
    if (n.op_type != "LayerNormalization") continue;
    for (std::size_t i = 1; i < n.outputs.size(); ++i) {
      auto it = std::find_if(g.outputs.begin(), g.outputs.end(), [&](const ValueInfo& v) { return v.name == n.outputs[i]; });
      if (it == g.outputs.end()) continue;
      expected.erase(expected.begin() + (it - g.outputs.begin()));
      g.outputs.erase(it);
      n.outputs[i].clear();
      dropped = true;
    }
  }
  return dropped;
}

}  // namespace

std::vector<std::string> model_operators(const std::filesystem::path& model) {
  onnx::ModelProto proto;
  std::ifstream in(model, std::ios::binary);
  if (!proto.ParseFromIstream(&in)) throw std::runtime_error("cannot parse " + model.string());
  std::vector<std::string> ops;
  for (const onnx::NodeProto& n : proto.graph().node())
    if (std::find(ops.begin(), ops.end(), n.op_type()) == ops.end()) ops.push_back(n.op_type());
  return ops;
}

OnnxCase::OnnxCase(const std::filesystem::path& dir, bool y_only) {
  graph_ = std::make_unique<Graph>(load_onnx(dir / "model.onnx"));
  const auto input_files = numbered(dir / "test_data_set_0", "input");
  for (const auto& p : numbered(dir / "test_data_set_0", "output")) expected_.push_back(read_onnx_tensor(p));
  if (y_only && !drop_statistics(*graph_, expected_)) throw std::runtime_error("no statistics outputs to drop");
  // Runtime inputs in file order; the integer ones (shapes, indices, axes) become constants.
  const std::vector<ValueInfo> declared = graph_->inputs;
  if (input_files.size() != declared.size())
    throw std::runtime_error(std::to_string(input_files.size()) + " input files for " + std::to_string(declared.size()) +
                             " runtime inputs");
  std::vector<Shape> shapes;
  for (std::size_t i = 0; i < declared.size(); ++i) {
    Constant c = read_onnx_tensor(input_files[i]);
    if (!is_float(c.dtype) || parameter_only(*graph_, declared[i].name)) {
      bind_input(*graph_, declared[i].name, std::move(c));
      continue;
    }
    shapes.push_back(c.shape);
    inputs_.push_back(std::move(c.values));
  }
  infer_shapes(*graph_, shapes);
  plan_ = std::make_unique<Plan>(*graph_);
  absolute_graph_ = std::make_unique<Graph>(*graph_);
  for (auto& [name, c] : absolute_graph_->constants) {
    Constant absolute = *c;  // the copy shares the constants: replace, never modify them
    for (double& v : absolute.values) v = std::fabs(v);
    c = std::make_shared<const Constant>(std::move(absolute));
  }
  absolute_plan_ = std::make_unique<Plan>(*absolute_graph_);
}

std::vector<std::vector<double>> OnnxCase::run(const Arithmetic& a, bool absolute) const {
  std::vector<std::vector<double>> in = inputs_;
  if (absolute)
    for (auto& v : in)
      for (double& x : v) x = std::fabs(x);
  const Plan& plan = absolute ? *absolute_plan_ : *plan_;
  return flattened(plan, evaluate(plan, a, in));
}

std::vector<std::vector<double>> OnnxCase::run_recycled(const Arithmetic& a) const {
  ConstantCache constants(ConstantStore::rounded(*plan_, a));
  BufferPool poison(true);
  return flattened(*plan_, evaluate_batch(*plan_, a, constants, {inputs_}, &poison).at(0));
}

std::vector<std::vector<double>> OnnxCase::flattened(const Plan& plan, const std::vector<Tensor>& out) const {
  std::vector<std::vector<double>> result;
  for (std::size_t k = 0; k < graph_->outputs.size(); ++k) {
    const Constant* c = plan.graph().constant(graph_->outputs[k].name);
    if (c && !is_float(c->dtype)) {  // folded shape arithmetic: exact integers
      result.emplace_back(c->ints.begin(), c->ints.end());
      continue;
    }
    result.push_back(out[k].data);
  }
  return result;
}

long OnnxCase::accumulation_length() const {
  long longest = 1, nodes = 0;
  for (const Node& n : graph_->nodes) {
    longest = std::max(longest, terms(*graph_, n));
    ++nodes;
  }
  return longest + std::max(0L, nodes - 1);
}

}  // namespace fpaudit::test
