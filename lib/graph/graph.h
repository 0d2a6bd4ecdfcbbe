// fpaudit's own graph IR: what the ONNX loader produces and the shadow engine consumes.
//
// A Graph is a list of nodes in topological order. Values are named (ONNX value names). A value
// is either a graph input, a constant (initializer, Constant node, or the folded result of the
// shape arithmetic exporters emit), or the output of a node. Constants hold exact values:
// float16/float/double data is stored as binary64, which represents all of them exactly.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace fpaudit {

/// Element types that may appear in a model. Runtime (non-constant) values are floating point,
/// bool, or integers that are exact data (ValueInfo::exact_data: token ids, masks and the integer
/// arithmetic on them); other integer tensors must be constants after folding (shapes, axes).
enum class DType : std::uint8_t { Float32, Float16, Float64, BFloat16, Int64, Int32, Int8, UInt8, Bool, Undefined };
std::string_view dtype_name(DType t);
inline bool is_float(DType t) {
  return t == DType::Float32 || t == DType::Float16 || t == DType::Float64 || t == DType::BFloat16;
}

/// Dimensions; -1 marks a dimension not known until the input shape is (e.g. a batch "N").
using Shape = std::vector<std::int64_t>;
std::int64_t element_count(const Shape& s);  // product of dims (1 for a scalar); -1 if unknown
std::string shape_string(const Shape& s);      // "[1, 3, 28, 28]"

/// A constant tensor with exact contents. Floating-point dtypes fill `values`; integer and bool
/// dtypes fill `ints` (int64 values such as INT64_MAX in Slice ends do not fit a double).
struct Constant {
  DType dtype = DType::Undefined;
  Shape shape;
  std::vector<double> values;
  std::vector<std::int64_t> ints;
  std::int64_t size() const { return element_count(shape); }
};

struct Graph;

/// A node attribute, as ONNX defines them. Graph-valued attributes are the bodies of If and Loop
/// (shared: a Graph copy shares its nodes' bodies, which nothing modifies after loading).
using AttributeValue = std::variant<std::int64_t, double, std::string, std::vector<std::int64_t>,
                                    std::vector<double>, std::vector<std::string>, Constant,
                                    std::shared_ptr<const Graph>>;

struct Node {
  std::string name;     ///< ONNX node name; the loader invents "<op>_<index>" when it is empty
  std::string op_type;  ///< e.g. "Conv"
  std::vector<std::string> inputs;   ///< value names; "" marks an absent optional input
  std::vector<std::string> outputs;
  std::map<std::string, AttributeValue> attributes;

  // Typed attribute access with defaults; a present attribute of the wrong kind throws
  // ModelError naming the node.
  std::int64_t attr_int(const std::string& key, std::int64_t fallback) const;
  double attr_float(const std::string& key, double fallback) const;
  std::string attr_string(const std::string& key, const std::string& fallback) const;
  std::vector<std::int64_t> attr_ints(const std::string& key, const std::vector<std::int64_t>& fallback) const;
  std::vector<double> attr_floats(const std::string& key, const std::vector<double>& fallback) const;
  std::vector<std::string> attr_strings(const std::string& key, const std::vector<std::string>& fallback) const;
  /// A graph-valued attribute (If's branches, Loop's body); throws ModelError when it is missing.
  const Graph& attr_graph(const std::string& key) const;
  bool has_attr(const std::string& key) const { return attributes.count(key) != 0; }
};

/// Type and shape of a value.
struct ValueInfo {
  std::string name;
  DType dtype = DType::Undefined;
  Shape shape;
  bool has_shape = true;  ///< false when the model declares no shape at all (unknown rank)
  /// A runtime integer or bool value computed only from integer and bool inputs and constants
  /// (set by infer_shapes): the same exact integers in every chain and in the reference, so it
  /// is never rounded and carries no error.
  bool exact_data = false;
  /// Per dimension of a declared input or output: the name of a symbolic dimension ("N",
  /// "seq"), empty for a fixed or an unnamed one. Filled by the loader; reports use it.
  std::vector<std::string> dim_names = {};
};

struct Graph {
  std::filesystem::path source;   ///< the model file it came from (for error messages)
  std::int64_t opset = 0;         ///< default-domain opset the model imports
  std::string producer;           ///< e.g. "pytorch 1.13.1"
  std::vector<Node> nodes;        ///< topological order; folded constant nodes are removed
  /// Initializers, Constant nodes, folded values. Read-only once stored, so that a copy of the
  /// graph (a sample's plan, `fpaudit run`) shares their data instead of doubling the weights:
  /// replace a constant with set_constant, never modify it in place.
  std::map<std::string, std::shared_ptr<const Constant>> constants;
  std::vector<ValueInfo> inputs;  ///< runtime inputs (initializers excluded)
  std::vector<ValueInfo> outputs;
  std::map<std::string, ValueInfo> values;   ///< every value's dtype and (inferred) shape

  const Constant* constant(const std::string& name) const;
  /// Stores `value` under `name`, replacing any constant of that name.
  void set_constant(const std::string& name, Constant value);
  /// Stores `value` under `name` unless the name is taken; whether it was stored.
  bool add_constant(const std::string& name, Constant value);
  const ValueInfo* value(const std::string& name) const;
};

/// Bad input (unreadable, malformed or unsupported model, wrong data): the message is one line
/// that names the file, the node or value when there is one, and the problem. The command line
/// prints it and exits with code 2.
class ModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A ModelError raised because a value in a parameter's place (Resize's scales, Clip's bounds, a
/// loss's class weights, Pad's fill) is computed at run time: `value()` names it, so that a caller
/// holding that value per sample (a graph input: `fpaudit run`) can bind it as a constant instead.
class ConstantRequired : public ModelError {
 public:
  ConstantRequired(const std::string& what, std::string value) : ModelError(what), value_(std::move(value)) {}
  const std::string& value() const { return value_; }

 private:
  std::string value_;
};

}  // namespace fpaudit
