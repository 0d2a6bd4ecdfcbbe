// The IR's small helpers: names of dtypes, shape arithmetic and typed attribute access.
#include "graph/graph.h"

#include <fmt/format.h>

#include "graph/limits.h"

namespace fpaudit {

std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::Float32: return "float32";
    case DType::Float16: return "float16";
    case DType::Float64: return "float64";
    case DType::BFloat16: return "bfloat16";
    case DType::Int64: return "int64";
    case DType::Int32: return "int32";
    case DType::Int8: return "int8";
    case DType::UInt8: return "uint8";
    case DType::Bool: return "bool";
    case DType::Undefined: return "undefined";
  }
  return "undefined";
}

std::int64_t element_count(const Shape& s) {
  std::int64_t n = 1;
  for (std::int64_t d : s) {
    if (d < 0) return -1;
    // Shapes the loader builds are capped far below 2^63; saturate instead of overflowing for
    // any other caller, so a hostile shape can never wrap around to a small count.
    if (d != 0 && n > kMaxElementCount / d) return kMaxElementCount + 1;
    n *= d;
  }
  return n;
}

std::string shape_string(const Shape& s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i) out += ", ";
    out += s[i] < 0 ? std::string("?") : std::to_string(s[i]);
  }
  return out + "]";
}

namespace {

std::string_view kind_name(const AttributeValue& v) {
  constexpr std::string_view names[] = {"an int", "a float", "a string", "a list of ints",
                                        "a list of floats", "a list of strings", "a tensor", "a graph"};
  return names[v.index()];
}

template <class T>
const T& typed(const Node& n, const std::string& key, const AttributeValue& v, std::string_view want) {
  if (const T* p = std::get_if<T>(&v)) return *p;
  throw ModelError(fmt::format("node '{}' ({}): attribute '{}' is {}, expected {}", n.name, n.op_type, key,
                               kind_name(v), want));
}

}  // namespace

std::int64_t Node::attr_int(const std::string& key, std::int64_t fallback) const {
  auto it = attributes.find(key);
  return it == attributes.end() ? fallback : typed<std::int64_t>(*this, key, it->second, "an int");
}

double Node::attr_float(const std::string& key, double fallback) const {
  auto it = attributes.find(key);
  return it == attributes.end() ? fallback : typed<double>(*this, key, it->second, "a float");
}

std::string Node::attr_string(const std::string& key, const std::string& fallback) const {
  auto it = attributes.find(key);
  return it == attributes.end() ? fallback : typed<std::string>(*this, key, it->second, "a string");
}

std::vector<std::int64_t> Node::attr_ints(const std::string& key, const std::vector<std::int64_t>& fallback) const {
  auto it = attributes.find(key);
  return it == attributes.end() ? fallback
                                : typed<std::vector<std::int64_t>>(*this, key, it->second, "a list of ints");
}

std::vector<double> Node::attr_floats(const std::string& key, const std::vector<double>& fallback) const {
  auto it = attributes.find(key);
  return it == attributes.end() ? fallback : typed<std::vector<double>>(*this, key, it->second, "a list of floats");
}

std::vector<std::string> Node::attr_strings(const std::string& key, const std::vector<std::string>& fallback) const {
  auto it = attributes.find(key);
  return it == attributes.end() ? fallback
                                : typed<std::vector<std::string>>(*this, key, it->second, "a list of strings");
}

const Graph& Node::attr_graph(const std::string& key) const {
  auto it = attributes.find(key);
  if (it == attributes.end())
    throw ModelError(fmt::format("node '{}' ({}): graph attribute '{}' is missing", name, op_type, key));
  const auto& g = typed<std::shared_ptr<const Graph>>(*this, key, it->second, "a graph");
  return *g;
}

const Constant* Graph::constant(const std::string& name) const {
  auto it = constants.find(name);
  return it == constants.end() ? nullptr : it->second.get();
}

void Graph::set_constant(const std::string& name, Constant value) {
  constants[name] = std::make_shared<const Constant>(std::move(value));
}

bool Graph::add_constant(const std::string& name, Constant value) {
  auto [it, stored] = constants.try_emplace(name);
  if (stored) it->second = std::make_shared<const Constant>(std::move(value));
  return stored;
}

const ValueInfo* Graph::value(const std::string& name) const {
  auto it = values.find(name);
  return it == values.end() ? nullptr : &it->second;
}

}  // namespace fpaudit
