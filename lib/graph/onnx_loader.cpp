// load_onnx: a serialized onnx.ModelProto → Graph. Checks, in order: protobuf syntax, IR version
// and opset, value declarations, initializers, nodes (domain, operator, attributes, Constant
// nodes), then the graph's structure (definitions, order, liveness).
#include <algorithm>
#include <unordered_set>

#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include "graph/dtype.h"
#include "graph/errors.h"
#include "graph/file_io.h"
#include "graph/graph_order.h"
#include "graph/limits.h"
#include "graph/loader.h"
#include "graph/node_names.h"
#include "graph/onnx_attributes.h"
#include "graph/onnx_tensor.h"
#include "graph/subgraph.h"

namespace fpaudit {

namespace {

// Opsets 7 and 8 differ from 9 only in operators fpaudit does not support (Upsample, Scan) and
// in details the shape rules read by opset (BatchNormalization's 'spatial', Dropout's float mask
// before 10); 18 to 21 moved parameters to inputs or attributes that the rules read by opset too
// (reduction axes, Split's num_outputs, Resize's antialias/axes/keep_aspect_ratio_policy).
constexpr std::int64_t kMinOpset = 7;
constexpr std::int64_t kMaxOpset = 21;

bool is_default_domain(const std::string& domain) { return domain.empty() || domain == "ai.onnx"; }

std::int64_t default_opset(const onnx::ModelProto& model, const std::filesystem::path& source) {
  std::int64_t opset = 0;
  for (const auto& entry : model.opset_import()) {
    if (!is_default_domain(entry.domain())) continue;
    if (opset != 0 && opset != entry.version())
      fail(source, fmt::format("the model imports two opsets of the default domain ({} and {})", opset, entry.version()));
    opset = entry.version();
  }
  if (opset == 0) fail(source, "the model imports no opset of the default ONNX domain");
  if (opset < kMinOpset || opset > kMaxOpset)
    fail(source, fmt::format("opset {} of the default domain is not supported (fpaudit reads opsets {} to {}; "
                             "convert the model with onnx.version_converter)",
                             opset, kMinOpset, kMaxOpset));
  return opset;
}

/// A declared graph input, output or intermediate: tensor type, element type, shape (dims
/// named or left out become -1; no shape at all leaves has_shape false).
ValueInfo convert_value_info(const onnx::ValueInfoProto& v, const std::filesystem::path& source, std::string_view role) {
  ValueInfo info;
  info.name = v.name();
  auto refuse = [&](std::string_view problem) { fail(source, fmt::format("{} '{}': {}", role, v.name(), problem)); };
  if (v.name().empty()) fail(source, fmt::format("a graph {} has no name", role));
  if (!v.has_type()) return info;  // untyped: the dtype comes from shape inference
  if (!v.type().has_tensor_type()) refuse("is not a tensor (sequences, maps and optionals are not supported)");
  const auto& tensor = v.type().tensor_type();
  if (tensor.elem_type() != 0) {
    info.dtype = dtype_from_onnx(tensor.elem_type());
    if (info.dtype == DType::Undefined)
      refuse(fmt::format("element type {} is not supported", onnx_type_name(tensor.elem_type())));
  }
  info.has_shape = tensor.has_shape();
  if (tensor.shape().dim_size() > kMaxRank)
    refuse(fmt::format("rank {} exceeds fpaudit's limit of {}", tensor.shape().dim_size(), kMaxRank));
  for (const auto& d : tensor.shape().dim()) {
    if (d.has_dim_value() && d.dim_value() < 0) refuse(fmt::format("negative dimension {}", d.dim_value()));
    if (d.has_dim_value() && d.dim_value() > kMaxValueElements)
      refuse(fmt::format("dimension {} exceeds fpaudit's limit of {}", d.dim_value(), kMaxValueElements));
    info.shape.push_back(d.has_dim_value() ? d.dim_value() : -1);
    info.dim_names.push_back(d.has_dim_value() ? "" : d.dim_param());
  }
  return info;
}

bool is_supported(const std::string& op) {
  const auto ops = supported_operators();
  return std::binary_search(ops.begin(), ops.end(), std::string_view(op));
}

/// An If or Loop depends on every outer value its bodies read: those are appended to its inputs
/// after the ones ONNX defines, so that ordering and liveness see them (the expansion in
/// infer_shapes reads them back with captured_bindings).
void capture_outer_values(Node& node) {
  const std::vector<std::string> captured = captured_values(node);
  node.inputs.insert(node.inputs.end(), captured.begin(), captured.end());
}

void convert_nodes(const onnx::GraphProto& g, Graph& graph, TensorContext& context) {
  std::unordered_set<std::string> taken;
  for (int i = 0; i < g.node_size(); ++i) {
    const onnx::NodeProto& proto = g.node(i);
    Node node;
    node.name = unique_node_name(proto.name(), proto.op_type(), static_cast<std::size_t>(i), taken);
    node.op_type = proto.op_type();
    if (!is_default_domain(proto.domain()))
      fail_node(graph.source, node, fmt::format("operator {} of domain '{}' is not supported (fpaudit reads the default "
                                                "ONNX domain only)", proto.op_type(), proto.domain()));
    if (!is_supported(proto.op_type()))
      fail_node(graph.source, node, fmt::format("operator {} is not supported by fpaudit", proto.op_type()));
    node.inputs.assign(proto.input().begin(), proto.input().end());
    node.outputs.assign(proto.output().begin(), proto.output().end());
    node.attributes = convert_attributes(proto, node, context);
    if (node.op_type == "Constant") {
      if (node.outputs.size() != 1 || node.outputs[0].empty() || !node.inputs.empty())
        fail_node(graph.source, node, "a Constant must have no inputs and exactly one output");
      Constant value = constant_node_value(node, graph.source);
      if (!graph.add_constant(node.outputs[0], std::move(value)))
        fail_node(graph.source, node, fmt::format("output '{}' is already defined", node.outputs[0]));
      continue;
    }
    capture_outer_values(node);
    graph.nodes.push_back(std::move(node));
  }
}

/// A graph's initializers, declared values and nodes (the model's graph or a body). `release`:
/// the same GraphProto, whose initializers' data are freed one by one as they are converted, so
/// that the weights are never held both as bytes and as binary64 values (a loaded model's graph).
void convert_graph_body(const onnx::GraphProto& g, Graph& graph, TensorContext& context, onnx::GraphProto* release = nullptr) {
  const std::filesystem::path& source = graph.source;
  if (g.sparse_initializer_size() > 0) fail(source, "sparse initializers are not supported");
  for (int i = 0; i < g.initializer_size(); ++i) {
    const onnx::TensorProto& t = g.initializer(i);
    if (t.name().empty()) fail(source, "an initializer has no name");
    Constant c = tensor_to_constant(t, context, fmt::format("initializer '{}'", t.name()));
    if (!graph.add_constant(t.name(), std::move(c)))
      fail(source, fmt::format("initializer '{}' is defined twice", t.name()));
    if (release) release_tensor_data(*release->mutable_initializer(i));
  }
  // Models from before IR version 4 list their initializers among the inputs too; those are
  // constants here (ONNX lets a runtime override them, fpaudit does not).
  for (const auto& v : g.input())
    if (!graph.constants.count(v.name())) graph.inputs.push_back(convert_value_info(v, source, "input"));
  for (const auto& v : g.output()) graph.outputs.push_back(convert_value_info(v, source, "output"));
  for (const auto& v : g.value_info()) {
    if (v.has_type() && v.type().has_tensor_type() && dtype_from_onnx(v.type().tensor_type().elem_type()) != DType::Undefined)
      graph.values[v.name()] = convert_value_info(v, source, "value");
  }
  convert_nodes(g, graph, context);

  for (const auto& [name, c] : graph.constants) graph.values[name] = {name, c->dtype, c->shape, true};
  for (const ValueInfo& v : graph.inputs) graph.values[v.name] = v;
  for (const ValueInfo& v : graph.outputs)
    if (!graph.constants.count(v.name)) graph.values[v.name] = v;
}

/// The model's graph; its initializers' data are freed as they are converted (convert_graph_body).
Graph convert_model(onnx::ModelProto& model, const std::filesystem::path& source) {
  Graph graph;
  graph.source = source;
  if (!model.has_graph()) fail(source, "not an ONNX model: it contains no graph");
  if (model.ir_version() < 3)
    fail(source, fmt::format("IR version {} predates opset imports; fpaudit reads IR version 3 and later",
                             model.ir_version()));
  graph.opset = default_opset(model, source);
  graph.producer = model.producer_name();
  if (!model.producer_version().empty()) graph.producer += " " + model.producer_version();

  TensorContext context{source, 0, graph.opset};
  convert_graph_body(model.graph(), graph, context, model.mutable_graph());
  check_definitions(graph);
  sort_topologically(graph);
  drop_unused(graph);
  return graph;
}

}  // namespace

std::string unique_node_name(std::string_view name, std::string_view op_type, std::size_t index,
                             std::unordered_set<std::string>& taken) {
  std::string unique = name.empty() ? fmt::format("{}_{}", op_type, index) : std::string(name);
  if (taken.count(unique)) unique = fmt::format("{}_{}", unique, index);
  while (taken.count(unique)) unique += "_";
  taken.insert(unique);
  return unique;
}

std::shared_ptr<const Graph> convert_subgraph(const onnx::GraphProto& g, const Node& owner, TensorContext& context) {
  auto sub = std::make_shared<Graph>();
  sub->source = context.model;
  sub->opset = context.opset;
  try {
    convert_graph_body(g, *sub, context);
    // Definitions are checked where the body is expanded, against the enclosing graph's values.
    sort_topologically(*sub);
    drop_unused(*sub);
  } catch (const ModelError& e) {
    // Name the owner: a body's nodes are reported as "<owner>/<node>" once expanded.
    std::string_view what = e.what();
    const std::string prefix = source_name(context.model) + ": ";
    if (what.starts_with(prefix)) what.remove_prefix(prefix.size());
    fail_node(context.model, owner, fmt::format("in its body: {}", what));
  }
  return sub;
}

namespace {

void parse_model(std::span<const std::byte> bytes, const std::filesystem::path& source, onnx::ModelProto& model) {
  if (static_cast<std::uint64_t>(bytes.size()) > static_cast<std::uint64_t>(kMaxModelBytes))
    fail(source, fmt::format("{} bytes is larger than protobuf's limit of {} bytes", bytes.size(), kMaxModelBytes));
  if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    fail(source, "not a valid ONNX model (the protobuf encoding is truncated or corrupt)");
}

Graph convert_parsed(onnx::ModelProto& model, const std::filesystem::path& source) {
  try {
    return convert_model(model, source);
  } catch (const ModelError& e) {
    rethrow_with_source(source, e);
  }
}

}  // namespace

Graph parse_onnx(std::span<const std::byte> bytes, const std::filesystem::path& source) {
  onnx::ModelProto model;
  parse_model(bytes, source, model);
  return convert_parsed(model, source);
}

Graph load_onnx(const std::filesystem::path& path) {
  onnx::ModelProto model;
  {
    const std::vector<std::byte> bytes = read_file(path, kMaxModelBytes);
    parse_model(bytes, path, model);
  }  // the file's bytes go here: the parsed model holds its own copy of the weights
  return convert_parsed(model, path);
}

}  // namespace fpaudit
