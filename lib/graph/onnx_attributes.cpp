#include "graph/onnx_attributes.h"

#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include "graph/errors.h"

namespace fpaudit {

namespace {

using onnx::AttributeProto;

/// The attribute's type; files from before IR version 2 leave `type` unset, so it is then
/// taken from the one field that is filled.
AttributeProto::AttributeType attribute_type(const AttributeProto& a) {
  if (a.type() != AttributeProto::UNDEFINED) return a.type();
  if (a.has_f()) return AttributeProto::FLOAT;
  if (a.has_i()) return AttributeProto::INT;
  if (a.has_s()) return AttributeProto::STRING;
  if (a.has_t()) return AttributeProto::TENSOR;
  if (a.has_g()) return AttributeProto::GRAPH;
  if (a.floats_size()) return AttributeProto::FLOATS;
  if (a.ints_size()) return AttributeProto::INTS;
  if (a.strings_size()) return AttributeProto::STRINGS;
  if (a.tensors_size()) return AttributeProto::TENSORS;
  if (a.graphs_size()) return AttributeProto::GRAPHS;
  return AttributeProto::UNDEFINED;
}

}  // namespace

std::map<std::string, AttributeValue> convert_attributes(const onnx::NodeProto& proto, const Node& node,
                                                         TensorContext& context) {
  std::map<std::string, AttributeValue> out;
  for (const AttributeProto& a : proto.attribute()) {
    auto refuse = [&](std::string_view problem) {
      fail_node(context.model, node, fmt::format("attribute '{}' {}", a.name(), problem));
    };
    if (a.name().empty()) refuse("has no name");
    if (!a.ref_attr_name().empty()) refuse("refers to a function attribute, which fpaudit does not support");
    AttributeValue value;
    switch (attribute_type(a)) {
      case AttributeProto::INT: value = static_cast<std::int64_t>(a.i()); break;
      case AttributeProto::FLOAT: value = static_cast<double>(a.f()); break;
      case AttributeProto::STRING: value = a.s(); break;
      case AttributeProto::INTS: value = std::vector<std::int64_t>(a.ints().begin(), a.ints().end()); break;
      case AttributeProto::FLOATS: value = std::vector<double>(a.floats().begin(), a.floats().end()); break;
      case AttributeProto::STRINGS: value = std::vector<std::string>(a.strings().begin(), a.strings().end()); break;
      case AttributeProto::TENSOR:
        value = tensor_to_constant(a.t(), context, fmt::format("{}: attribute '{}'", node_label(node), a.name()));
        break;
      case AttributeProto::GRAPH: value = convert_subgraph(a.g(), node, context); break;
      case AttributeProto::UNDEFINED: refuse("has no value"); break;
      default: refuse("holds a list of graphs, sparse tensor, type or list of tensors, which fpaudit does not support");
    }
    if (!out.emplace(a.name(), std::move(value)).second) refuse("is given twice");
  }
  return out;
}

Constant constant_node_value(const Node& node, const std::filesystem::path& model) {
  if (node.attributes.size() != 1)
    fail_node(model, node, fmt::format("a Constant needs exactly one value attribute, it has {}", node.attributes.size()));
  const auto& [key, value] = *node.attributes.begin();
  Constant c;
  if (key == "value") {
    if (const Constant* t = std::get_if<Constant>(&value)) return *t;
  } else if (key == "value_float") {
    if (const double* f = std::get_if<double>(&value)) return {DType::Float32, {}, {*f}, {}};
  } else if (key == "value_floats") {
    if (const auto* fs = std::get_if<std::vector<double>>(&value))
      return {DType::Float32, {static_cast<std::int64_t>(fs->size())}, *fs, {}};
  } else if (key == "value_int") {
    if (const std::int64_t* i = std::get_if<std::int64_t>(&value)) return {DType::Int64, {}, {}, {*i}};
  } else if (key == "value_ints") {
    if (const auto* is = std::get_if<std::vector<std::int64_t>>(&value))
      return {DType::Int64, {static_cast<std::int64_t>(is->size())}, {}, *is};
  } else {
    fail_node(model, node, fmt::format("Constant attribute '{}' is not supported (fpaudit reads value, value_float, "
                                       "value_floats, value_int, value_ints)",
                                       key));
  }
  fail_node(model, node, fmt::format("Constant attribute '{}' has the wrong kind", key));
}

}  // namespace fpaudit
