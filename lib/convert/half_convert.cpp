// convert_to_half: the ONNX rewrite of `fpaudit convert` (rules in half_convert.h). The model is
// read twice: as fpaudit's Graph (validated, names given, every value's dtype inferred) and as
// the ModelProto that is rewritten, so that everything the exporter wrote (attributes, names,
// doc strings, metadata) survives untouched where the conversion does not need to change it.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <unordered_set>

#include <fmt/format.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include "convert/half_convert.h"
#include "convert/type_rules.h"
#include "format/encoding.h"
#include "format/format.h"
#include "format/round.h"
#include "graph/errors.h"
#include "graph/file_io.h"
#include "graph/limits.h"
#include "graph/loader.h"
#include "graph/node_names.h"

namespace fpaudit {

namespace {

using convert::Need;

/// A 16-bit target: its fpaudit format, ONNX element type, schema type string and name suffix.
struct Target {
  Format format;
  int onnx_type;
  std::string schema_type, suffix;
};

Target target_of(DType t, const Graph& g) {
  if (t == DType::Float16) return {binary16(), onnx::TensorProto::FLOAT16, "tensor(float16)", "fp16"};
  if (t == DType::BFloat16) {
    // Cast to bfloat16 exists from opset 13; before it no operator takes bfloat16.
    if (g.opset < 13) fail(g.source, fmt::format("--format bf16 needs opset 13 or later (the model imports opset {})", g.opset));
    return {bfloat16(), onnx::TensorProto::BFLOAT16, "tensor(bfloat16)", "bf16"};
  }
  throw ModelError("convert: the target format must be fp16 or bf16");
}

/// The model's inputs with unknown dimensions set to 1: dtypes do not depend on the batch.
std::vector<Shape> unit_batch_shapes(const Graph& g) {
  std::vector<Shape> shapes;
  for (const ValueInfo& in : g.inputs) {
    if (!in.has_shape) fail(g.source, fmt::format("input '{}' declares no shape; convert needs its rank", in.name));
    Shape s = in.shape;
    std::replace(s.begin(), s.end(), std::int64_t{-1}, std::int64_t{1});
    shapes.push_back(s);
  }
  return shapes;
}

/// A 16-bit TensorProto holding `c` rounded to nearest even (the values are the model's float32
/// values exactly, so this is the one rounding a runtime storing them in 16 bits does).
onnx::TensorProto half_tensor(const std::string& name, const Constant& c, const Target& t) {
  onnx::TensorProto p;
  p.set_name(name);
  p.set_data_type(t.onnx_type);
  for (std::int64_t d : c.shape) p.add_dims(d);
  std::string raw(c.values.size() * 2, '\0');
  for (std::size_t i = 0; i < c.values.size(); ++i) {
    const std::uint32_t bits = encode(t.format, round_to(t.format, c.values[i]));
    raw[2 * i] = static_cast<char>(bits & 0xff);  // ONNX raw_data is little-endian
    raw[2 * i + 1] = static_cast<char>((bits >> 8) & 0xff);
  }
  p.set_raw_data(std::move(raw));
  return p;
}

class Converter {
 public:
  Converter(const Graph& g, onnx::ModelProto& m, const Target& t, std::vector<std::string> names, std::set<std::string> live,
            std::set<std::string> keep)
      : g_(g), m_(m), t_(t), names_(std::move(names)), live_(std::move(live)), keep_(std::move(keep)) {}

  ConvertResult run() {
    collect_names_and_needs();
    decide_constant_types();
    emit_nodes();
    rewrite_constants_and_types();
    return std::move(result_);
  }

 private:
  bool is_f32(const std::string& v) const {
    const ValueInfo* info = g_.value(v);
    return !v.empty() && info && info->dtype == DType::Float32;
  }
  bool live(int i) const { return m_.graph().node(i).op_type() == "Constant" || live_.count(names_[i]) != 0; }
  bool converted(int i) const { return m_.graph().node(i).op_type() != "Constant" && live(i) && !keep_.count(names_[i]); }
  const convert::OperatorTypes& types(const std::string& op) {
    auto it = types_.find(op);
    if (it == types_.end()) it = types_.emplace(op, convert::operator_types(op, g_.opset, t_.schema_type)).first;
    return it->second;
  }
  Need input_need(int i, std::size_t k) { return converted(i) ? types(m_.graph().node(i).op_type()).input(k) : Need::Single; }

  void collect_names_and_needs() {
    const onnx::GraphProto& gp = m_.graph();
    auto take = [&](const std::string& s) { taken_.insert(s); };
    for (const auto& v : gp.input()) take(v.name());
    for (const auto& v : gp.output()) take(v.name()), outputs_.insert(v.name());
    for (const auto& v : gp.value_info()) take(v.name());
    for (const auto& t : gp.initializer()) take(t.name()), constants_.insert(t.name());
    for (int i = 0; i < gp.node_size(); ++i) {
      const onnx::NodeProto& n = gp.node(i);
      take(n.name()), take(names_[i]);
      for (const auto& v : n.output()) take(v);
      if (n.op_type() == "Constant") {
        constants_.insert(n.output(0));
        continue;
      }
      if (!live(i)) continue;
      for (int k = 0; k < n.input_size(); ++k)
        if (is_f32(n.input(k))) needs_[n.input(k)].push_back({input_need(i, static_cast<std::size_t>(k)), i});
    }
  }

  /// A float32 constant goes 16-bit unless a user needs float32, it is a graph output, or a value
  /// does not fit (then its 16-bit users read it through a Cast, and it is reported).
  void decide_constant_types() {
    for (const std::string& c : constants_) {
      if (!is_f32(c)) continue;
      const auto& uses = needs_[c];
      const bool single = outputs_.count(c) || std::any_of(uses.begin(), uses.end(), [](const auto& u) { return u.first == Need::Single; });
      const Constant* value = g_.constant(c);
      OverflowingWeight over{c, 0, 0, {}};
      if (value)
        for (double x : value->values) {
          over.max_magnitude = std::fmax(over.max_magnitude, std::fabs(x));
          if (std::fabs(x) > max_finite(t_.format)) ++over.elements_over;
        }
      const bool half = !single && value && over.elements_over == 0;
      half_.emplace(c, half);
      ++(half ? result_.converted_constants : result_.float32_constants);
      if (over.elements_over == 0) continue;
      for (const auto& [need, node] : uses)
        if (need == Need::Half) over.consumers.push_back(names_[node]);
      if (!over.consumers.empty()) result_.overflowing.push_back(std::move(over));
    }
  }

  std::string fresh(const std::string& base) {
    std::string name = base;
    while (taken_.count(name)) name += "_";
    taken_.insert(name);
    return name;
  }

  /// The name under which value `v` is available in the wanted type, casting it on first use.
  std::string get(const std::string& v, bool half, google::protobuf::RepeatedPtrField<onnx::NodeProto>& out) {
    auto it = avail_.find({v, half});
    if (it != avail_.end()) return it->second;
    const std::string name = fresh(fmt::format("{}_{}", v, half ? t_.suffix : "fp32"));
    add_cast(avail_.at({v, !half}), name, half, out);
    avail_[{v, half}] = name;
    return name;
  }

  void add_cast(const std::string& source, const std::string& name, bool half, google::protobuf::RepeatedPtrField<onnx::NodeProto>& out) {
    onnx::NodeProto* cast = out.Add();
    cast->set_name(fresh(name + "_cast"));
    cast->set_op_type("Cast");
    cast->add_input(source);
    cast->add_output(name);
    onnx::AttributeProto* to = cast->add_attribute();
    to->set_name("to");
    to->set_type(onnx::AttributeProto::INT);
    to->set_i(half ? t_.onnx_type : onnx::TensorProto::FLOAT);
    ++result_.cast_nodes;
  }

  void emit_nodes() {
    onnx::GraphProto& gp = *m_.mutable_graph();
    for (const auto& v : gp.input())
      if (is_f32(v.name()) && !constants_.count(v.name())) avail_[{v.name(), false}] = v.name();
    for (const auto& [c, half] : half_) {
      avail_[{c, half}] = c;
      if (half) native_half_.insert(c);
    }
    google::protobuf::RepeatedPtrField<onnx::NodeProto> out;
    for (int i = 0; i < gp.node_size(); ++i) {
      onnx::NodeProto n = gp.node(i);
      if (!live(i)) {
        ++result_.dropped_nodes;
        continue;
      }
      if (n.op_type() == "Constant") {
        *out.Add() = std::move(n);
        continue;
      }
      const bool conv = converted(i);
      bool any_half = false;
      for (int k = 0; k < n.input_size(); ++k) {
        const std::string v = n.input(k);
        if (!is_f32(v)) continue;
        const Need need = input_need(i, static_cast<std::size_t>(k));
        const bool half = need == Need::Any ? avail_.count({v, false}) == 0 : need == Need::Half;
        n.set_input(k, get(v, half, out));
      }
      std::vector<std::string> restore;  // graph outputs computed in 16 bits, cast back below
      const convert::OperatorTypes& ty = types(n.op_type());
      for (int k = 0; k < n.output_size(); ++k) {
        const std::string v = n.output(k);
        if (!is_f32(v)) continue;
        const bool half = conv && ty.output(static_cast<std::size_t>(k)) == Need::Half;
        any_half = any_half || half;
        if (half && outputs_.count(v)) {
          const std::string produced = fresh(fmt::format("{}_{}", v, t_.suffix));
          n.set_output(k, produced);
          avail_[{v, true}] = produced;
          restore.push_back(v);
        } else {
          avail_[{v, half}] = v;
          if (half) native_half_.insert(v);
        }
      }
      if (conv) retype_attributes(n);
      if (any_half) ++result_.converted_nodes;
      bool f32_out = false;
      for (const auto& v : n.output()) f32_out = f32_out || is_f32(v);
      if (conv && !any_half && f32_out) result_.float32_by_schema.push_back(names_[i]);
      if (!conv) result_.kept.push_back(names_[i]);
      *out.Add() = std::move(n);
      for (const std::string& v : restore) {
        add_cast(avail_.at({v, true}), v, false, out);  // the graph output keeps its name and float32
        avail_[{v, false}] = v;
      }
    }
    gp.mutable_node()->Swap(&out);
  }

  /// An initializer left as it is but stored in a file beside the source model: written into the
  /// converted model instead, whose folder may hold no such file.
  void inline_external(onnx::TensorProto& t) const {
    const Constant& c = *g_.constant(t.name());
    std::string raw;
    auto put = [&raw](auto v) {
      char b[sizeof(v)];
      std::memcpy(b, &v, sizeof(v));  // little-endian hosts only, as the loader's readers
      raw.append(b, sizeof(v));
    };
    switch (c.dtype) {
      case DType::Float32: for (double v : c.values) put(static_cast<float>(v)); break;
      case DType::Float64: for (double v : c.values) put(v); break;
      case DType::Int64: for (std::int64_t v : c.ints) put(v); break;
      case DType::Int32: for (std::int64_t v : c.ints) put(static_cast<std::int32_t>(v)); break;
      default:
        fail(g_.source, fmt::format("initializer '{}': external data of type {} is not supported by convert (it inlines float, "
                                    "double, int32 and int64 weights)", t.name(), dtype_name(c.dtype)));
    }
    t.clear_external_data();
    t.clear_data_location();
    t.set_raw_data(std::move(raw));
  }

  /// Attributes that fix a float32 output: Cast's `to` and ConstantOfShape's `value`.
  void retype_attributes(onnx::NodeProto& n) {
    for (onnx::AttributeProto& a : *n.mutable_attribute()) {
      if (n.op_type() == "Cast" && a.name() == "to" && a.i() == onnx::TensorProto::FLOAT) a.set_i(t_.onnx_type);
      if (n.op_type() == "ConstantOfShape" && a.name() == "value" && a.t().data_type() == onnx::TensorProto::FLOAT) {
        Constant fill{DType::Float32, {1}, {}, {}};
        if (a.t().float_data_size() > 0) fill.values = {a.t().float_data(0)};
        else if (a.t().raw_data().size() >= 4) {
          float f = 0;
          std::memcpy(&f, a.t().raw_data().data(), 4);
          fill.values = {static_cast<double>(f)};
        }
        *a.mutable_t() = half_tensor(a.t().name(), fill, t_);
      }
    }
  }

  void rewrite_constants_and_types() {
    onnx::GraphProto& gp = *m_.mutable_graph();
    for (onnx::TensorProto& t : *gp.mutable_initializer()) {
      if (half_.count(t.name()) && half_.at(t.name())) t = half_tensor(t.name(), *g_.constant(t.name()), t_);
      else if (t.data_location() == onnx::TensorProto::EXTERNAL) inline_external(t);
    }
    for (onnx::NodeProto& n : *gp.mutable_node()) {
      if (n.op_type() != "Constant" || !half_.count(n.output(0)) || !half_.at(n.output(0))) continue;
      // value_float, value_floats or value: one `value` tensor in the 16-bit type.
      n.clear_attribute();
      onnx::AttributeProto* a = n.add_attribute();
      a->set_name("value");
      a->set_type(onnx::AttributeProto::TENSOR);
      *a->mutable_t() = half_tensor("", *g_.constant(n.output(0)), t_);
    }
    auto retype = [&](onnx::ValueInfoProto& v) {
      if (native_half_.count(v.name()) && v.type().has_tensor_type())
        v.mutable_type()->mutable_tensor_type()->set_elem_type(t_.onnx_type);
    };
    for (onnx::ValueInfoProto& v : *gp.mutable_value_info()) retype(v);
    for (onnx::ValueInfoProto& v : *gp.mutable_input())
      if (constants_.count(v.name())) retype(v);  // IR < 4 lists initializers as inputs too
  }

  const Graph& g_;
  onnx::ModelProto& m_;
  Target t_;
  std::vector<std::string> names_;
  std::set<std::string> live_, keep_, constants_, outputs_;
  std::set<std::string> native_half_;  ///< values whose own name now holds the 16-bit type
  std::unordered_set<std::string> taken_;
  std::map<std::string, std::vector<std::pair<Need, int>>> needs_;  ///< f32 value -> (need, node) of each user
  std::map<std::string, bool> half_;                                ///< f32 constant -> stored 16-bit
  std::map<std::pair<std::string, bool>, std::string> avail_;       ///< (value, 16-bit?) -> name
  std::map<std::string, convert::OperatorTypes> types_;
  ConvertResult result_;
};

std::string serialize_deterministic(const onnx::ModelProto& m) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    m.SerializeToCodedStream(&coded);
  }
  return bytes;
}

}  // namespace

ConvertResult convert_to_half(const std::filesystem::path& path, const ConvertOptions& options) {
  const std::vector<std::byte> bytes = read_file(path, kMaxModelBytes);
  Graph g = parse_onnx(bytes, path);
  std::set<std::string> live;
  for (const Node& n : g.nodes) live.insert(n.name);
  infer_shapes(g, unit_batch_shapes(g));
  const Target target = target_of(options.target, g);

  onnx::ModelProto m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) fail(path, "not a valid ONNX model");
  std::vector<std::string> names;
  std::unordered_set<std::string> taken;
  for (int i = 0; i < m.graph().node_size(); ++i)
    names.push_back(unique_node_name(m.graph().node(i).name(), m.graph().node(i).op_type(), static_cast<std::size_t>(i), taken));
  std::set<std::string> keep;
  for (const std::string& k : options.keep) {
    if (!live.count(k))
      fail(path, fmt::format("--keep: no node named '{}' computes an output of this model (`fpaudit inspect` lists the names)", k));
    keep.insert(k);
  }

  ConvertResult result = Converter(g, m, target, std::move(names), std::move(live), std::move(keep)).run();
  std::string kept_text;
  for (const std::string& k : result.kept) {
    if (!kept_text.empty()) kept_text += ", ";
    kept_text += k;
  }
  onnx::StringStringEntryProto* note = nullptr;
  for (auto& e : *m.mutable_metadata_props())
    if (e.key() == "fpaudit.convert") note = &e;
  if (!note) note = m.add_metadata_props();
  note->set_key("fpaudit.convert");
  note->set_value(fmt::format("{} except the nodes kept in float32: {}", target.format.name, kept_text.empty() ? "none" : kept_text));
  // The same checker python's onnx.checker.check_model runs: a converted model it refuses would be
  // fpaudit's bug, so it is an internal error rather than bad input.
  try {
    onnx::checker::check_model(m);
  } catch (const std::exception& e) {
    throw std::logic_error(fmt::format("{}: the converted model fails onnx's checker (a bug in fpaudit convert): {}", path.string(), e.what()));
  }
  result.model_bytes = serialize_deterministic(m);
  return result;
}

}  // namespace fpaudit
