// operator_types: ONNX's own schemas decide which inputs follow the node into 16 bits.
#include <algorithm>
#include <stdexcept>

#include <onnx/defs/schema.h>

#include "convert/type_rules.h"

namespace fpaudit::convert {

namespace {

/// The allowed types of a formal parameter: its constraint's list, or the one fixed type
/// ("tensor(float)") it names directly.
std::vector<std::string> allowed_types(const onnx::OpSchema& schema, const std::string& type_str) {
  for (const auto& c : schema.typeConstraintParams())
    if (c.type_param_str == type_str) return c.allowed_type_strs;
  return {type_str};
}

bool is_parameter(const onnx::OpSchema& schema, const std::string& type_str) {
  const auto& cs = schema.typeConstraintParams();
  return std::any_of(cs.begin(), cs.end(), [&](const auto& c) { return c.type_param_str == type_str; });
}

}  // namespace

OperatorTypes operator_types(const std::string& op, std::int64_t opset, const std::string& half_type) {
  const onnx::OpSchema* schema = onnx::OpSchemaRegistry::Schema(op, static_cast<int>(opset), "");
  if (!schema) throw std::runtime_error("operator " + op + " has no ONNX schema at opset " + std::to_string(opset));
  std::vector<std::string> output_params;
  for (const auto& p : schema->outputs()) output_params.push_back(p.GetTypeStr());
  auto need_of = [&](const std::string& type_str, bool output) {
    const std::vector<std::string> allowed = allowed_types(*schema, type_str);
    if (std::find(allowed.begin(), allowed.end(), half_type) == allowed.end()) return Need::Single;
    if (output) return Need::Half;
    // An input sharing its parameter with an output carries the node's type; one with a parameter
    // of its own (Resize's roi T2, Pow's exponent T1 from opset 12, Shape's data) may be either.
    const bool shared = std::find(output_params.begin(), output_params.end(), type_str) != output_params.end();
    return shared || !is_parameter(*schema, type_str) ? Need::Half : Need::Any;
  };
  OperatorTypes t;
  for (const auto& p : schema->inputs()) t.inputs.push_back(need_of(p.GetTypeStr(), false));
  for (const auto& p : schema->outputs()) t.outputs.push_back(need_of(p.GetTypeStr(), true));
  return t;
}

}  // namespace fpaudit::convert
