// fpaudit inspect MODEL: one row per layer with its output shape, parameters, multiply-adds,
// weight range, and how many weights binary16, bfloat16, E4M3 and E5M2 cannot hold.
#include <algorithm>
#include <array>
#include <memory>

#include <fmt/format.h>

#include "format/format.h"
#include "fpaudit/commands.h"
#include "fpaudit/common_options.h"
#include "graph/cost.h"
#include "graph/loader.h"
#include "graph/samples.h"
#include "graph/symbolic_shapes.h"
#include "graph/weight_stats.h"

namespace fpaudit::cli {

namespace {

struct InspectOptions {
  std::string model;
  std::vector<std::string> input_shapes;  ///< "1,1,28,28", one per runtime input
  std::vector<std::string> named_shapes;  ///< "NAME=1x3x224x224"
  std::vector<std::string> inputs;        ///< data: the shapes of one sample
  std::string sample_axis = "auto";
  bool csv = false;
};

constexpr std::array<Format, 4> kFormats = {binary16(), bfloat16(), e4m3(), e5m2()};
constexpr std::size_t kWidth = 100;  // the text table fits a 100-column terminal

struct Row {
  std::string name, op, shape;
  std::int64_t params = 0, madds = 0;
  std::string madds_text;  ///< compact_count(madds), or how it depends on symbolic dimensions
  WeightStats weights;
};

/// "1,1,28,28" (--input-shape) or "1x3x224x224" (--shape): non-negative integers.
Shape parse_shape(const std::string& text, const std::string& option, char separator) {
  Shape s;
  std::size_t at = 0;
  while (at <= text.size()) {
    const std::size_t comma = std::min(text.find(separator, at), text.size());
    const std::string part = text.substr(at, comma - at);
    if (part.empty() || part.size() > 10 || part.find_first_not_of("0123456789") != std::string::npos)
      throw ModelError(fmt::format("{} '{}': expected non-negative integers separated by {}", option, text,
                                   separator == ',' ? "commas" : "'x'"));
    s.push_back(std::stoll(part));
    at = comma + 1;
  }
  return s;
}

std::string names_of(const Graph& g) {
  std::string names;
  for (const ValueInfo& in : g.inputs) names += (names.empty() ? "'" : ", '") + in.name + "'";
  return names;
}

/// --shape NAME=DIMS for some inputs; the others keep their declared shape, which must be fixed.
std::vector<Shape> named_shapes(const Graph& g, const std::vector<std::string>& specs) {
  std::vector<Shape> shapes(g.inputs.size());
  std::vector<bool> given(g.inputs.size(), false);
  for (const std::string& spec : specs) {
    const std::size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0) throw ModelError(fmt::format("--shape '{}': expected NAME=DIMS such as x=1x3x224x224", spec));
    const std::string name = spec.substr(0, eq);
    const auto it = std::find_if(g.inputs.begin(), g.inputs.end(), [&](const ValueInfo& v) { return v.name == name; });
    if (it == g.inputs.end())
      throw ModelError(fmt::format("--shape '{}': the model has no input '{}' (its inputs: {})", spec, name, names_of(g)));
    const auto k = static_cast<std::size_t>(it - g.inputs.begin());
    if (given[k]) throw ModelError(fmt::format("--shape: input '{}' is given twice", name));
    shapes[k] = parse_shape(spec.substr(eq + 1), "--shape", 'x');
    given[k] = true;
  }
  for (std::size_t k = 0; k < g.inputs.size(); ++k) {
    const ValueInfo& in = g.inputs[k];
    if (given[k]) continue;
    if (!in.has_shape || std::find(in.shape.begin(), in.shape.end(), -1) != in.shape.end())
      throw ModelError(fmt::format("{}: input '{}' has {}; give it with --shape {}=DIMS", g.source.string(), in.name,
                                   in.has_shape ? "symbolic dimensions" : "no declared shape", in.name));
    shapes[k] = in.shape;
  }
  return shapes;
}

/// The input shapes from the options (data, --shape, --input-shape), or the declared ones when
/// they are fixed; empty when some declared dimension is symbolic and none was given.
std::vector<Shape> input_shapes(Graph& g, const InspectOptions& opt) {
  const int ways = !opt.inputs.empty() + !opt.named_shapes.empty() + !opt.input_shapes.empty();
  if (ways > 1) throw std::invalid_argument("give input shapes one way: --input, --shape or --input-shape");
  if (!opt.inputs.empty()) return SampleSet(g, read_inputs(opt.inputs), parse_sample_axis(opt.sample_axis)).sample_shapes();
  if (!opt.named_shapes.empty()) return named_shapes(g, opt.named_shapes);
  std::vector<Shape> shapes;
  for (const std::string& text : opt.input_shapes) shapes.push_back(parse_shape(text, "--input-shape", ','));
  if (!opt.input_shapes.empty()) return shapes;
  for (const ValueInfo& in : g.inputs) {
    if (!in.has_shape)
      throw ModelError(fmt::format("{}: input '{}' has no declared shape; give it with --shape {}=DIMS", g.source.string(), in.name, in.name));
    if (std::find(in.shape.begin(), in.shape.end(), -1) != in.shape.end()) return {};
    shapes.push_back(in.shape);
  }
  return shapes;
}

std::string compact_shape(const Shape& s) {
  if (s.empty()) return "scalar";
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? "x" : "") + std::to_string(s[i]);
  return out;
}

/// 12345 stays; larger counts get K, M, G with three significant digits.
std::string compact_count(std::int64_t n) {
  if (n < 100000) return std::to_string(n);
  const char* units[] = {"K", "M", "G", "T"};
  double v = static_cast<double>(n);
  int u = -1;
  while (v >= 1000 && u < 3) {
    v /= 1000;
    ++u;
  }
  return fmt::format("{:.3g}{}", v, units[u]);
}

/// Long ONNX names for the operator column.
std::string short_op(const std::string& op) {
  if (op == "BatchNormalization") return "BatchNorm";
  if (op == "LayerNormalization") return "LayerNorm";
  if (op == "GlobalAveragePool") return "GlobalAvgPool";
  return op;
}

/// A name cut to `width` keeps its end, which tells layers apart ("/layer4/conv2/Conv").
std::string fit(const std::string& s, std::size_t width) {
  return s.size() <= width ? s : "~" + s.substr(s.size() - (width - 1));
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::vector<Row> layer_rows(const Graph& g) {
  std::vector<Row> rows;
  for (const Node& n : g.nodes) {
    Row r{n.name, n.op_type, "", parameter_count(g, n), multiply_adds(g, n), "", weight_stats(g, n, kFormats)};
    r.madds_text = compact_count(r.madds);
    for (const std::string& out : n.outputs)
      if (!out.empty()) r.shape += (r.shape.empty() ? "" : " ") + compact_shape(g.value(out)->shape);
    rows.push_back(std::move(r));
  }
  return rows;
}

/// The rows of a model with symbolic input dimensions: shapes and multiply-adds as they depend
/// on them (graph/symbolic_shapes.h).
std::vector<Row> symbolic_rows(const SymbolicShapes& sym) {
  std::vector<Row> rows;
  const Graph& g = sym.graph();
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    Probed madds{};
    for (std::size_t k = 0; k < 3; ++k) madds[k] = multiply_adds(sym.graphs()[k], sym.graphs()[k].nodes[i]);
    Row r{n.name, n.op_type, "", parameter_count(g, n), 0, sym.describe(madds), weight_stats(g, n, kFormats)};
    if (madds[0] == madds[1] && madds[1] == madds[2]) r.madds = madds[0], r.madds_text = compact_count(madds[0]);
    for (const std::string& out : n.outputs)
      if (!out.empty()) r.shape += (r.shape.empty() ? "" : " ") + sym.value_shape(out);
    rows.push_back(std::move(r));
  }
  return rows;
}

void print_csv(const std::vector<Row>& rows) {
  fmt::print("layer,op,output_shape,params,multiply_adds,weight_min,weight_max,weight_absmax");
  for (const Format& f : kFormats) fmt::print(",{0}_overflow,{0}_underflow_to_zero,{0}_subnormal", f.name);
  fmt::print("\n");
  for (const Row& r : rows) {
    fmt::print("{},{},{},{},{}", csv_field(r.name), r.op, r.shape, r.params, r.madds_text.empty() ? std::to_string(r.madds) : r.madds_text);
    if (r.weights.count > 0) fmt::print(",{:.17g},{:.17g},{:.17g}", r.weights.min, r.weights.max, r.weights.absmax);
    else fmt::print(",,,");
    for (const StoreCounts& c : r.weights.per_format) fmt::print(",{},{},{}", c.overflow, c.underflow_to_zero, c.subnormal);
    fmt::print("\n");
  }
}

/// `inputs`: "image 1x1x8x8", or "image Nx1x8x8 (N symbolic)"; `total_madds`: the last line's count.
void print_table(const Graph& g, const std::string& inputs, const std::vector<Row>& rows, const std::string& total_madds) {
  fmt::print("{}: opset {}{}; input {}\n\n", g.source.string(), g.opset, g.producer.empty() ? "" : ", " + g.producer, inputs);

  // Column widths from the contents; the layer column takes what the others leave of kWidth.
  std::size_t op_w = 2, shape_w = 6, params_w = 6, madds_w = 4;
  for (const Row& r : rows) {
    op_w = std::max(op_w, short_op(r.op).size());
    shape_w = std::max(shape_w, r.shape.size());
    params_w = std::max(params_w, compact_count(r.params).size());
    madds_w = std::max(madds_w, r.madds_text.size());
  }
  constexpr std::size_t num_w = 9;  // "-1.23e-05"
  const std::size_t others = op_w + shape_w + params_w + madds_w + 3 * num_w + 7;
  std::size_t name_w = 5;
  for (const Row& r : rows) name_w = std::max(name_w, r.name.size());
  name_w = std::clamp<std::size_t>(kWidth > others + 8 ? kWidth - others : 8, 8, name_w);

  fmt::print("{:<{}} {:<{}} {:<{}} {:>{}} {:>{}} {:>{}} {:>{}} {:>{}}\n", "layer", name_w, "op", op_w, "output", shape_w,
             "params", params_w, "MACs", madds_w, "w min", num_w, "w max", num_w, "|w| max", num_w);
  for (const Row& r : rows) {
    const bool w = r.weights.count > 0;
    fmt::print("{:<{}} {:<{}} {:<{}} {:>{}} {:>{}} {:>{}} {:>{}} {:>{}}\n", fit(r.name, name_w), name_w, short_op(r.op),
               op_w, r.shape, shape_w, compact_count(r.params), params_w, r.madds_text, madds_w,
               w ? fmt::format("{:.3g}", r.weights.min) : "-", num_w, w ? fmt::format("{:.3g}", r.weights.max) : "-",
               num_w, w ? fmt::format("{:.3g}", r.weights.absmax) : "-", num_w);
  }
  fmt::print("{} layers, {} parameters, {} multiply-adds\n", rows.size(), parameter_total(g), total_madds);

  fmt::print("\nweights a format cannot hold: overflow / underflow to zero / subnormal\n");
  std::vector<std::size_t> cell_w;
  for (const Format& f : kFormats) {
    std::size_t w = f.name.size();
    for (const Row& r : rows) {
      const StoreCounts& c = r.weights.per_format[&f - kFormats.data()];
      w = std::max(w, fmt::format("{}/{}/{}", c.overflow, c.underflow_to_zero, c.subnormal).size());
    }
    cell_w.push_back(w);
  }
  fmt::print("{:<{}} {:>{}}", "layer", name_w, "weights", params_w + 1);
  for (std::size_t f = 0; f < kFormats.size(); ++f) fmt::print(" {:>{}}", kFormats[f].name, cell_w[f]);
  fmt::print("\n");
  for (const Row& r : rows) {
    if (r.weights.count == 0) continue;
    fmt::print("{:<{}} {:>{}}", fit(r.name, name_w), name_w, compact_count(r.weights.count), params_w + 1);
    for (std::size_t f = 0; f < kFormats.size(); ++f) {
      const StoreCounts& c = r.weights.per_format[f];
      fmt::print(" {:>{}}", fmt::format("{}/{}/{}", c.overflow, c.underflow_to_zero, c.subnormal), cell_w[f]);
    }
    fmt::print("\n");
  }
}

void run_inspect(const InspectOptions& opt) {
  Graph g = load_onnx(opt.model);
  const std::vector<Shape> shapes = input_shapes(g, opt);
  if (shapes.empty()) {  // symbolic dimensions and nothing to set them: shown by name
    const SymbolicShapes sym(g);
    const std::vector<Row> rows = symbolic_rows(sym);
    if (opt.csv) return print_csv(rows);
    std::string inputs;
    for (std::size_t i = 0; i < g.inputs.size(); ++i) inputs += fmt::format("{}{} {}", i ? ", " : "", g.inputs[i].name, sym.input_shape(i));
    std::string names;
    for (const std::string& s : sym.symbols()) names += (names.empty() ? "" : ", ") + s;
    Probed total{};
    for (std::size_t k = 0; k < 3; ++k)
      for (const Node& n : sym.graphs()[k].nodes) total[k] += multiply_adds(sym.graphs()[k], n);
    return print_table(sym.graph(), fmt::format("{} ({} symbolic)", inputs, names), rows, sym.describe(total));
  }
  infer_shapes(g, shapes);
  const std::vector<Row> rows = layer_rows(g);
  if (opt.csv) return print_csv(rows);
  std::string inputs;
  std::int64_t total = 0;
  for (std::size_t i = 0; i < shapes.size(); ++i) inputs += fmt::format("{}{} {}", i ? ", " : "", g.inputs[i].name, compact_shape(shapes[i]));
  for (const Row& r : rows) total += r.madds;
  print_table(g, inputs, rows, std::to_string(total));
}

}  // namespace

void set_inspect_command(CLI::App& app, int& status) {
  auto opt = std::make_shared<InspectOptions>();
  CLI::App* sub = app.add_subcommand("inspect", "List a model's layers: shapes, parameters, multiply-adds, and "
                                                "how many weights 16- and 8-bit formats cannot hold");
  sub->add_option("model", opt->model, "The ONNX model")->required();
  sub->add_option("--input-shape", opt->input_shapes,
                  "Input shape such as 1,1,28,28 (once per input, in order); default: the declared shape, symbolic "
                  "dimensions (a batch N) shown by name");
  sub->add_option("--shape", opt->named_shapes, "NAME=DIMS such as x=1x3x224x224 for an input (repeat the option); "
                                                "inputs not named keep their declared fixed shape")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  add_input_options(sub, opt->inputs, opt->sample_axis,
                    "Data whose shapes set the inputs' (one sample of each): FILE.npy, NAME=FILE.npy (repeat), or FILE.npz");
  sub->add_flag("--csv", opt->csv, "Print CSV with exact values instead of an aligned table");
  sub->callback([opt, &status] {
    run_inspect(*opt);
    status = 0;
  });
}

}  // namespace fpaudit::cli
