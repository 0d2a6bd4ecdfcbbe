// RNN, GRU and LSTM, expanded by infer_shapes into their time steps (theory/recurrent.md).
//
// Each step is built from operators fpaudit already evaluates and bounds: every gate's
// pre-activation is two Gemms, x_t·Wᵀ + Wb and h·Rᵀ + Rb (one dot product per element in the
// chain's fixed summation order, the bias added to the finished sum), then one Add; the
// activations are the elementwise operators of the same names; the state updates are Mul, Sub
// and Add. The bound of a step is therefore the composition of the existing rules, and the
// error carried by h (and c) from one step enters the next through the Gemm's propagated-input
// term: nothing new to prove beyond that composition. Node names say where each node came from:
// "<layer>/t<time>/<part>", with "fw/" or "bw/" before the time in a bidirectional layer.
#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "graph/errors.h"
#include "graph/subgraph.h"

namespace fpaudit {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

/// One activation with the scaling values ONNX gives it (defaults: those of the operators of the
/// same names).
struct Activation {
  std::string name;  // lower case
  double alpha = 0, beta = 0;
};

/// The activations of each direction (f, g[, h]), with activation_alpha/beta consumed in order
/// by the functions that take them.
std::vector<std::vector<Activation>> activations(const NodeBuilder& b, std::size_t per_direction, std::size_t directions) {
  const Node& node = b.owner();
  std::vector<std::string> names = node.attr_strings("activations", {});
  if (names.empty()) {
    const std::vector<std::string> defaults = node.op_type == "RNN" ? std::vector<std::string>{"Tanh"}
                                              : node.op_type == "GRU" ? std::vector<std::string>{"Sigmoid", "Tanh"}
                                                                      : std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"};
    for (std::size_t d = 0; d < directions; ++d) names.insert(names.end(), defaults.begin(), defaults.end());
  }
  if (names.size() == per_direction && directions == 2) names.insert(names.end(), names.begin(), names.end());
  if (names.size() != per_direction * directions)
    b.fail(fmt::format("has {} activations; {} expected ({} per direction)", names.size(), per_direction * directions,
                       per_direction));
  const std::vector<double> alphas = node.attr_floats("activation_alpha", {});
  const std::vector<double> betas = node.attr_floats("activation_beta", {});
  std::size_t next_alpha = 0, next_beta = 0;
  auto take = [](const std::vector<double>& list, std::size_t& next, double fallback) {
    return next < list.size() ? list[next++] : fallback;
  };
  std::vector<std::vector<Activation>> out(directions);
  for (std::size_t i = 0; i < names.size(); ++i) {
    Activation a{lower(names[i])};
    if (a.name == "affine") a = {a.name, take(alphas, next_alpha, 1.0), take(betas, next_beta, 0.0)};
    else if (a.name == "leakyrelu") a.alpha = take(alphas, next_alpha, 0.01);
    else if (a.name == "thresholdedrelu" || a.name == "elu") a.alpha = take(alphas, next_alpha, 1.0);
    else if (a.name == "scaledtanh") a = {a.name, take(alphas, next_alpha, 1.0), take(betas, next_beta, 1.0)};
    else if (a.name == "hardsigmoid") a = {a.name, take(alphas, next_alpha, 0.2), take(betas, next_beta, 0.5)};
    else if (a.name != "relu" && a.name != "tanh" && a.name != "sigmoid" && a.name != "softsign" && a.name != "softplus")
      b.fail(fmt::format("activation '{}' is not one ONNX defines for recurrent layers", names[i]));
    out[i / per_direction].push_back(a);
  }
  return out;
}

/// The layer's fixed parameters, read once.
struct Recurrent {
  std::string op;
  std::int64_t gates = 0, hidden = 0, seq = 0, batch = 0, input = 0;
  std::size_t directions = 1;
  bool reverse_only = false, batch_first = false, linear_before_reset = false;
  std::optional<double> clip;
  DType dtype = DType::Float32;
  std::vector<std::vector<Activation>> acts;
  std::vector<std::int64_t> lengths;  // per batch entry; empty: every entry runs all steps
};

/// An input by ONNX position, or "" when absent.
std::string input(const Node& n, std::size_t i) { return i < n.inputs.size() ? n.inputs[i] : std::string(); }

Recurrent read_layer(const NodeBuilder& b) {
  const Node& node = b.owner();
  Recurrent r;
  r.op = node.op_type;
  r.gates = r.op == "RNN" ? 1 : r.op == "GRU" ? 3 : 4;
  const std::size_t max_inputs = r.op == "LSTM" ? 8 : 6;
  if (node.inputs.size() < 3 || node.inputs.size() > max_inputs)
    b.fail(fmt::format("has {} inputs; {} takes 3 to {}", node.inputs.size(), r.op, max_inputs));
  if (node.outputs.size() > (r.op == "LSTM" ? 3u : 2u)) b.fail("has more outputs than the operator defines");
  const std::string direction = node.attr_string("direction", "forward");
  if (direction == "bidirectional") r.directions = 2;
  else if (direction == "reverse") r.reverse_only = true;
  else if (direction != "forward") b.fail(fmt::format("direction '{}' is not forward, reverse or bidirectional", direction));
  r.hidden = node.attr_int("hidden_size", 0);
  r.batch_first = node.attr_int("layout", 0) == 1;
  r.linear_before_reset = node.attr_int("linear_before_reset", 0) != 0;
  if (node.attr_int("input_forget", 0) != 0)
    b.fail("input_forget (coupled input and forget gates) is not supported");
  if (node.has_attr("clip")) r.clip = node.attr_float("clip", 0);

  const ValueInfo& x = b.value(node.inputs[0]);
  if (!is_float(x.dtype) || x.shape.size() != 3)
    b.fail(fmt::format("input X must be a floating-point tensor of rank 3, it is {} {}", dtype_name(x.dtype),
                       shape_string(x.shape)));
  r.dtype = x.dtype;
  r.seq = x.shape[r.batch_first ? 1 : 0];
  r.batch = x.shape[r.batch_first ? 0 : 1];
  r.input = x.shape[2];
  if (r.seq == 0) b.fail("X has no time steps");
  const ValueInfo& w = b.value(node.inputs[1]);
  if (r.hidden <= 0 && w.shape.size() == 3) r.hidden = w.shape[1] / r.gates;  // hidden_size is optional in ONNX
  const auto dirs = static_cast<std::int64_t>(r.directions);
  auto expect = [&](std::size_t i, const Shape& shape, std::string_view role) {
    const std::string name = input(node, i);
    if (name.empty()) return;
    if (b.value(name).shape != shape)
      b.fail(fmt::format("input {} ('{}') has shape {}, {} expected", role, name, shape_string(b.value(name).shape),
                         shape_string(shape)));
  };
  if (r.hidden <= 0) b.fail("hidden_size must be positive");
  expect(1, {dirs, r.gates * r.hidden, r.input}, "W");
  expect(2, {dirs, r.gates * r.hidden, r.hidden}, "R");
  expect(3, {dirs, 2 * r.gates * r.hidden}, "B");
  expect(4, {r.batch}, "sequence_lens");
  const Shape state = r.batch_first ? Shape{r.batch, dirs, r.hidden} : Shape{dirs, r.batch, r.hidden};
  expect(5, state, "initial_h");
  if (r.op == "LSTM") {
    expect(6, state, "initial_c");
    expect(7, {dirs, 3 * r.hidden}, "P");
  }
  r.acts = activations(b, r.op == "RNN" ? 1 : r.op == "GRU" ? 2 : 3, r.directions);

  if (const std::string lens = input(node, 4); !lens.empty()) {
    const Constant* c = b.constant_value(lens);
    if (!c || is_float(c->dtype))
      b.fail(fmt::format("sequence_lens '{}' is computed at run time; fpaudit needs it constant (the steps each batch "
                         "entry runs are fixed when the layer is expanded)", lens));
    for (std::int64_t len : c->ints)
      if (len < 0 || len > r.seq) b.fail(fmt::format("a sequence length of {} is outside [0, {}]", len, r.seq));
    if (std::any_of(c->ints.begin(), c->ints.end(), [&](std::int64_t len) { return len != r.seq; })) r.lengths = c->ints;
  }
  return r;
}

/// Builds one direction's steps; returns (per time index) the h each step writes into Y, and the
/// final h and c.
class Direction {
 public:
  Direction(NodeBuilder& b, const Recurrent& r, const std::vector<std::string>& inputs, std::size_t d, bool reverse)
      : b_(b), r_(r), in_(inputs), d_(d), reverse_(reverse), acts_(r.acts[d]) {
    tag_ = r.directions == 2 ? (reverse ? "bw/" : "fw/") : "";
  }

  void build() {
    slice_parameters();
    h_ = initial(5, "h0");
    if (r_.op == "LSTM") c_ = initial(6, "c0");
    y_.assign(static_cast<std::size_t>(r_.seq), "");
    for (std::int64_t s = 0; s < r_.seq; ++s) step(reverse_ ? r_.seq - 1 - s : s);
  }

  const std::vector<std::string>& y() const { return y_; }
  const std::string& h() const { return h_; }
  const std::string& c() const { return c_; }

 private:
  std::string part(const std::string& p) const { return tag_ + p; }
  /// The gate's letter as ONNX names it: RNN i; GRU z, r, h; LSTM i, o, f, c (W's row order).
  std::string gate_name(std::int64_t g) const {
    const std::string letters = r_.op == "RNN" ? "i" : r_.op == "GRU" ? "zrh" : "iofc";
    return std::string(1, letters[static_cast<std::size_t>(g)]);
  }

  /// W, R, B (and P) of this direction cut per gate; on constants these fold at once.
  void slice_parameters() {
    const std::string d = b_.int64_scalar(part("dir"), static_cast<std::int64_t>(d_));
    auto pick = [&](const std::string& value, const std::string& p) {
      return b_.op("Gather", {value, d}, part(p), {{"axis", std::int64_t{0}}});
    };
    auto rows = [&](const std::string& value, std::int64_t first, const std::string& p) {
      std::vector<std::int64_t> idx(static_cast<std::size_t>(r_.hidden));
      for (std::int64_t k = 0; k < r_.hidden; ++k) idx[static_cast<std::size_t>(k)] = first + k;
      const std::string i = b_.int64s(part(p + "/rows"), idx, {r_.hidden});
      return b_.op("Gather", {value, i}, part(p), {{"axis", std::int64_t{0}}});
    };
    const std::string w = pick(in_[1], "W"), rr = pick(in_[2], "R");
    const std::string bias = in_[3].empty() ? "" : pick(in_[3], "B");
    const std::string zero = b_.floats(part("zero_bias"), r_.dtype, 0.0, {r_.hidden});
    for (std::int64_t g = 0; g < r_.gates; ++g) {
      const std::string n = gate_name(g);
      gate_w_.push_back(rows(w, g * r_.hidden, "W" + n));
      gate_r_.push_back(rows(rr, g * r_.hidden, "R" + n));
      gate_wb_.push_back(bias.empty() ? zero : rows(bias, g * r_.hidden, "Wb" + n));
      gate_rb_.push_back(bias.empty() ? zero : rows(bias, (r_.gates + g) * r_.hidden, "Rb" + n));
    }
    if (r_.op == "LSTM" && !in_[7].empty()) {
      const std::string p = pick(in_[7], "P");
      for (std::int64_t g = 0; g < 3; ++g) peephole_.push_back(rows(p, g * r_.hidden, std::string("P") + "iof"[g]));
    }
    if (!r_.lengths.empty()) zero_h_ = b_.floats(part("zero_h"), r_.dtype, 0.0, {r_.batch, r_.hidden});
  }

  std::string initial(std::size_t i, const std::string& p) {
    if (in_[i].empty()) return b_.floats(part(p), r_.dtype, 0.0, {r_.batch, r_.hidden});
    return b_.op("Gather", {in_[i], b_.int64_scalar(part(p + "/dir"), static_cast<std::int64_t>(d_))}, part(p),
                 {{"axis", std::int64_t{0}}});
  }

  /// x·Wᵀ + Wb + (h·Rᵀ + Rb) of gate g; `h` may be r⊙h (GRU) and `scale` multiplies the
  /// recurrent term (GRU with linear_before_reset).
  std::string pre_activation(const std::string& at, std::int64_t g, const std::string& x, const std::string& h,
                             const std::string& scale = "") {
    const std::string n = at + gate_name(g);
    const std::map<std::string, AttributeValue> t{{"transB", std::int64_t{1}}};
    const auto gi = static_cast<std::size_t>(g);
    const std::string xw = b_.op("Gemm", {x, gate_w_[gi], gate_wb_[gi]}, n + "/x", t);
    std::string hr = b_.op("Gemm", {h, gate_r_[gi], gate_rb_[gi]}, n + "/h", t);
    if (!scale.empty()) hr = b_.op("Mul", {scale, hr}, n + "/rh");
    return b_.op("Add", {xw, hr}, n + "/pre");
  }

  std::string clip(const std::string& v, const std::string& p) {
    if (!r_.clip) return v;
    if (clip_low_.empty()) {
      clip_low_ = b_.floats(part("clip_low"), r_.dtype, -*r_.clip, {});
      clip_high_ = b_.floats(part("clip_high"), r_.dtype, *r_.clip, {});
    }
    return b_.op("Min", {b_.op("Max", {v, clip_low_}, p + "/clip_low"), clip_high_}, p + "/clip");
  }

  std::string activate(const Activation& a, const std::string& v, const std::string& p) {
    const std::string& n = a.name;
    auto scalar = [&](double value, const std::string& s) { return b_.floats(p + "/" + s, r_.dtype, value, {}); };
    if (n == "relu") return b_.op("Relu", {v}, p);
    if (n == "tanh") return b_.op("Tanh", {v}, p);
    if (n == "sigmoid") return b_.op("Sigmoid", {v}, p);
    if (n == "softplus") return b_.op("Softplus", {v}, p);
    if (n == "leakyrelu") return b_.op("LeakyRelu", {v}, p, {{"alpha", a.alpha}});
    if (n == "thresholdedrelu") return b_.op("ThresholdedRelu", {v}, p, {{"alpha", a.alpha}});
    if (n == "elu") return b_.op("Elu", {v}, p, {{"alpha", a.alpha}});
    if (n == "hardsigmoid") return b_.op("HardSigmoid", {v}, p, {{"alpha", a.alpha}, {"beta", a.beta}});
    if (n == "affine")
      return b_.op("Add", {b_.op("Mul", {v, scalar(a.alpha, "alpha")}, p + "/scale"), scalar(a.beta, "beta")}, p);
    if (n == "scaledtanh") {
      const std::string inner = b_.op("Tanh", {b_.op("Mul", {v, scalar(a.beta, "beta")}, p + "/scale")}, p + "/tanh");
      return b_.op("Mul", {inner, scalar(a.alpha, "alpha")}, p);
    }
    // softsign: x / (1 + |x|)
    const std::string denominator = b_.op("Add", {b_.op("Abs", {v}, p + "/abs"), scalar(1.0, "one")}, p + "/denominator");
    return b_.op("Div", {v, denominator}, p);
  }

  /// Gate g's activation (with clipping, and a peephole term when given).
  std::string gate(const std::string& at, std::int64_t g, const Activation& a, const std::string& x,
                   const std::string& h, const std::string& scale = "", const std::string& peep = "",
                   const std::string& state = "") {
    std::string pre = pre_activation(at, g, x, h, scale);
    const std::string name = at + gate_name(g);
    if (!peep.empty()) pre = b_.op("Add", {pre, b_.op("Mul", {peep, state}, name + "/peephole")}, name + "/pre_peephole");
    return activate(a, clip(pre, name), name);
  }

  void step(std::int64_t t) {
    const std::string at = part(fmt::format("t{}/", t));
    const std::string x = b_.op("Gather", {in_[0], b_.int64_scalar(at + "step", t)}, at + "x", {{"axis", std::int64_t{0}}});
    std::string h, c;
    if (r_.op == "RNN") {
      h = gate(at, 0, acts_[0], x, h_);
    } else if (r_.op == "GRU") {
      const std::string z = gate(at, 0, acts_[0], x, h_), rg = gate(at, 1, acts_[0], x, h_);
      const std::string candidate =
          r_.linear_before_reset ? gate(at, 2, acts_[1], x, h_, rg) : gate(at, 2, acts_[1], x, b_.op("Mul", {rg, h_}, at + "r_h"));
      // h = (1 − z)⊙h̃ + z⊙h, as ONNX writes it.
      if (one_.empty()) one_ = b_.floats(part("one"), r_.dtype, 1.0, {});
      const std::string keep = b_.op("Mul", {b_.op("Sub", {one_, z}, at + "1-z"), candidate}, at + "(1-z)h~");
      h = b_.op("Add", {keep, b_.op("Mul", {z, h_}, at + "z_h")}, at + "H");
    } else {
      const bool peep = !peephole_.empty();
      const std::string i = gate(at, 0, acts_[0], x, h_, "", peep ? peephole_[0] : "", c_);
      const std::string f = gate(at, 2, acts_[0], x, h_, "", peep ? peephole_[2] : "", c_);
      const std::string candidate = gate(at, 3, acts_[1], x, h_);
      c = b_.op("Add", {b_.op("Mul", {f, c_}, at + "f_c"), b_.op("Mul", {i, candidate}, at + "i_c~")}, at + "C");
      const std::string o = gate(at, 1, acts_[0], x, h_, "", peep ? peephole_[1] : "", c);
      h = b_.op("Mul", {o, activate(acts_[2], c, at + "h(C)")}, at + "H");
    }
    if (r_.lengths.empty()) {
      h_ = h;
      c_ = c;
      y_[static_cast<std::size_t>(t)] = h;
      return;
    }
    // Batch entries past their length keep their state and write zeros into Y (a reverse
    // direction starts at each entry's own last step: the steps before it keep the initial state).
    std::vector<std::int64_t> live(static_cast<std::size_t>(r_.batch));
    for (std::size_t k = 0; k < live.size(); ++k) live[k] = t < r_.lengths[k] ? 1 : 0;
    const std::string mask = b_.constant(at + "live", Constant{DType::Bool, {r_.batch, 1}, {}, live});
    y_[static_cast<std::size_t>(t)] = b_.op("Where", {mask, h, zero_h_}, at + "Y");
    h_ = b_.op("Where", {mask, h, h_}, at + "H_kept");
    if (!c.empty()) c_ = b_.op("Where", {mask, c, c_}, at + "C_kept");
  }

  NodeBuilder& b_;
  const Recurrent& r_;
  const std::vector<std::string>& in_;
  std::size_t d_;
  bool reverse_;
  const std::vector<Activation>& acts_;
  std::string tag_;
  std::vector<std::string> gate_w_, gate_r_, gate_wb_, gate_rb_, peephole_;
  std::string zero_h_, clip_low_, clip_high_, one_;
  std::string h_, c_;
  std::vector<std::string> y_;
};

/// Stacks per-direction [batch, H] values into [dirs, batch, H] (or [batch, dirs, H] with
/// layout 1), written to `output`.
void stack_states(NodeBuilder& b, const Recurrent& r, const std::vector<std::string>& per_direction,
                  const std::string& output, const std::string& p) {
  std::vector<std::string> parts;
  for (std::size_t d = 0; d < per_direction.size(); ++d)
    parts.push_back(b.op("Reshape", {per_direction[d], b.int64s(p + std::to_string(d) + "/shape", {1, r.batch, r.hidden}, {3})},
                         p + std::to_string(d)));
  const std::string stacked = parts.size() == 1 ? parts[0] : b.op("Concat", parts, p + "stack", {{"axis", std::int64_t{0}}});
  if (r.batch_first) b.op("Transpose", {stacked}, p + "layout", {{"perm", std::vector<std::int64_t>{1, 0, 2}}}, output);
  else b.op("Identity", {stacked}, p + "out", {}, output);
}

}  // namespace

void expand_recurrent(NodeBuilder& b) {
  const Node& node = b.owner();
  const Recurrent r = read_layer(b);
  std::vector<std::string> in(8);
  for (std::size_t i = 0; i < node.inputs.size(); ++i) in[i] = node.inputs[i];
  // Time-major X and [dirs, batch, H] states inside; layout 1 is transposed in and out.
  if (r.batch_first) {
    const std::map<std::string, AttributeValue> swap{{"perm", std::vector<std::int64_t>{1, 0, 2}}};
    in[0] = b.op("Transpose", {in[0]}, "X_time_major", swap);
    for (std::size_t i : {5u, 6u})
      if (!in[i].empty()) in[i] = b.op("Transpose", {in[i]}, i == 5 ? "initial_h_dir_major" : "initial_c_dir_major", swap);
  }
  std::vector<Direction> dirs;
  dirs.reserve(r.directions);
  for (std::size_t d = 0; d < r.directions; ++d) {
    dirs.emplace_back(b, r, in, d, r.reverse_only || d == 1);
    dirs.back().build();
  }
  if (!node.outputs.empty() && !node.outputs[0].empty()) {
    // Y: [seq, dirs, batch, H] (layout 1: [batch, seq, dirs, H]), each step's h in time order.
    std::vector<std::string> steps;
    for (std::int64_t t = 0; t < r.seq; ++t) {
      std::vector<std::string> per_dir;
      for (std::size_t d = 0; d < r.directions; ++d) {
        const std::string p = fmt::format("Y/t{}/{}", t, d);
        per_dir.push_back(b.op("Reshape", {dirs[d].y()[static_cast<std::size_t>(t)],
                                           b.int64s(p + "/shape", {1, 1, r.batch, r.hidden}, {4})}, p));
      }
      steps.push_back(per_dir.size() == 1 ? per_dir[0]
                                          : b.op("Concat", per_dir, fmt::format("Y/t{}", t), {{"axis", std::int64_t{1}}}));
    }
    const std::string stacked = steps.size() == 1 ? steps[0] : b.op("Concat", steps, "Y/stack", {{"axis", std::int64_t{0}}});
    if (r.batch_first) b.op("Transpose", {stacked}, "Y/layout", {{"perm", std::vector<std::int64_t>{2, 0, 1, 3}}}, node.outputs[0]);
    else b.op("Identity", {stacked}, "Y/out", {}, node.outputs[0]);
  }
  std::vector<std::string> hs, cs;
  for (const Direction& d : dirs) {
    hs.push_back(d.h());
    cs.push_back(d.c());
  }
  if (node.outputs.size() > 1 && !node.outputs[1].empty()) stack_states(b, r, hs, node.outputs[1], "Y_h/");
  if (node.outputs.size() > 2 && !node.outputs[2].empty()) stack_states(b, r, cs, node.outputs[2], "Y_c/");
}

}  // namespace fpaudit
