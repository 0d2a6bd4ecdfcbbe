// RNN, GRU and LSTM (expanded into their time steps by infer_shapes): the exact reference against
// the ONNX equations evaluated here in binary64 on the same numbers, for every direction, both
// layouts, the optional inputs (B, sequence_lens, initial_h, initial_c, P) and outputs (Y, Y_h,
// Y_c), clip, linear_before_reset and the activations with their alpha/beta; and the bound of
// every node of every step checked on every element in every chain (theory/recurrent.md).
#include <cmath>
#include <functional>

#include <doctest/doctest.h>

#include "bound_check.h"
#include "core/reference_arithmetic.h"
#include "graph/loader.h"
#include "op_test_support.h"

using namespace fpaudit;
using namespace fpaudit::test;

namespace {

/// One recurrent layer as a test builds it; the vectors are the model's constants (row-major).
struct Layer {
  std::string op = "GRU";
  std::int64_t hidden = 3, input = 2, seq = 4, batch = 2;
  std::string direction = "forward";
  bool batch_first = false, linear_before_reset = false, bias = true, peepholes = false;
  bool initial = false, outputs_y = true, runtime_weights = false;
  std::vector<std::int64_t> lengths = {};    // sequence_lens; empty: absent
  std::vector<std::string> activations = {};  // empty: the defaults
  std::vector<float> alphas = {}, betas = {};
  std::optional<float> clip = {};

  std::int64_t gates() const { return op == "RNN" ? 1 : op == "GRU" ? 3 : 4; }
  std::int64_t dirs() const { return direction == "bidirectional" ? 2 : 1; }
};

/// Deterministic values of moderate size (weights around ±0.6, so that the gates do not saturate).
std::vector<float> values(std::size_t n, double phase, double scale) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<float>(scale * std::sin(1.7 * static_cast<double>(i) + phase));
  return v;
}

struct Data {
  std::vector<float> x, w, r, b, h0, c0, p;
};

Data data_of(const Layer& l) {
  const auto G = static_cast<std::size_t>(l.gates()), H = static_cast<std::size_t>(l.hidden),
             D = static_cast<std::size_t>(l.dirs()), B = static_cast<std::size_t>(l.batch);
  const auto I = static_cast<std::size_t>(l.input);
  return {values(static_cast<std::size_t>(l.seq * l.batch * l.input), 0.3, 1.5), values(D * G * H * I, 1.1, 0.6),
          values(D * G * H * H, 2.3, 0.6), values(D * 2 * G * H, 0.7, 0.4), values(D * B * H, 1.9, 0.5),
          values(D * B * H, 0.2, 0.5), values(D * 3 * H, 2.9, 0.5)};
}

ModelBuilder build(const Layer& l, const Data& d) {
  ModelBuilder m(14);
  const std::int64_t D = l.dirs(), GH = l.gates() * l.hidden;
  const std::vector<std::int64_t> x_dims = l.batch_first ? std::vector<std::int64_t>{l.batch, l.seq, l.input}
                                                         : std::vector<std::int64_t>{l.seq, l.batch, l.input};
  const std::vector<std::int64_t> state = l.batch_first ? std::vector<std::int64_t>{l.batch, D, l.hidden}
                                                        : std::vector<std::int64_t>{D, l.batch, l.hidden};
  m.input("X", kFloat, x_dims);
  if (l.runtime_weights) m.input("W", kFloat, {D, GH, l.input});
  else m.initializer(float_tensor("W", {D, GH, l.input}, d.w));
  m.initializer(float_tensor("R", {D, GH, l.hidden}, d.r));
  std::vector<std::string> in = {"X", "W", "R", "", "", "", "", ""};
  if (l.bias) {
    m.initializer(float_tensor("B", {D, 2 * GH}, d.b));
    in[3] = std::string("B");
  }
  if (!l.lengths.empty()) {
    m.initializer(int32_tensor("L", {l.batch}, std::vector<std::int32_t>(l.lengths.begin(), l.lengths.end())));
    in[4] = std::string("L");
  }
  if (l.initial) {
    m.initializer(float_tensor("H0", state, d.h0));
    in[5] = std::string("H0");
    if (l.op == "LSTM") {
      m.initializer(float_tensor("C0", state, d.c0));
      in[6] = std::string("C0");
    }
  }
  if (l.peepholes) {
    m.initializer(float_tensor("P", {D, 3 * l.hidden}, d.p));
    in[7] = std::string("P");
  }
  std::size_t given = in.size();  // trailing absent inputs are left out, as exporters do
  while (given > 3 && in[given - 1].empty()) --given;
  std::vector<std::string> out = {l.outputs_y ? "Y" : "", "Y_h"};
  if (l.op == "LSTM") out.push_back("Y_c");
  auto& n = m.node(l.op, {}, {}, "layer");
  for (std::size_t i = 0; i < given; ++i) n.add_input(in[i]);
  for (const auto& s : out) n.add_output(s);
  if (l.outputs_y) m.output("Y");
  m.output("Y_h");
  if (l.op == "LSTM") m.output("Y_c");
  set_attr(n, "hidden_size", l.hidden);
  set_attr(n, "direction", l.direction);
  if (l.batch_first) set_attr(n, "layout", std::int64_t{1});
  if (l.linear_before_reset) set_attr(n, "linear_before_reset", std::int64_t{1});
  if (l.clip) set_attr(n, "clip", *l.clip);
  if (!l.activations.empty()) {
    auto* a = n.add_attribute();
    a->set_name("activations");
    a->set_type(onnx::AttributeProto::STRINGS);
    for (const auto& s : l.activations) a->add_strings(s);
  }
  for (const auto& [key, list] : {std::pair{"activation_alpha", &l.alphas}, std::pair{"activation_beta", &l.betas}}) {
    if (list->empty()) continue;
    auto* a = n.add_attribute();
    a->set_name(key);
    a->set_type(onnx::AttributeProto::FLOATS);
    for (float v : *list) a->add_floats(v);
  }
  return m;
}

using Fn = std::function<double(double)>;

/// The ONNX activation functions, in binary64.
Fn activation(const std::string& name, double alpha, double beta) {
  if (name == "Sigmoid") return [](double x) { return 1 / (1 + std::exp(-x)); };
  if (name == "Tanh") return [](double x) { return std::tanh(x); };
  if (name == "Relu") return [](double x) { return std::max(x, 0.0); };
  if (name == "Affine") return [=](double x) { return alpha * x + beta; };
  if (name == "LeakyRelu") return [=](double x) { return x < 0 ? alpha * x : x; };
  if (name == "ThresholdedRelu") return [=](double x) { return x > alpha ? x : 0.0; };
  if (name == "ScaledTanh") return [=](double x) { return alpha * std::tanh(beta * x); };
  if (name == "HardSigmoid") return [=](double x) { return std::clamp(alpha * x + beta, 0.0, 1.0); };
  if (name == "Elu") return [=](double x) { return x < 0 ? alpha * (std::exp(x) - 1) : x; };
  if (name == "Softsign") return [](double x) { return x / (1 + std::fabs(x)); };
  return [](double x) { return std::log1p(std::exp(x)); };  // Softplus
}

/// Y, Y_h (and Y_c) by the ONNX equations, in binary64, on the float32 data.
std::vector<std::vector<double>> expected(const Layer& l, const Data& d) {
  const std::int64_t H = l.hidden, I = l.input, T = l.seq, N = l.batch, D = l.dirs(), G = l.gates();
  std::vector<std::string> names = l.activations;
  if (names.empty())
    for (int k = 0; k < D; ++k)
      for (const char* s : l.op == "RNN" ? std::vector<const char*>{"Tanh"}
                           : l.op == "GRU" ? std::vector<const char*>{"Sigmoid", "Tanh"}
                                           : std::vector<const char*>{"Sigmoid", "Tanh", "Tanh"})
        names.push_back(s);
  std::size_t ai = 0, bi = 0;
  std::vector<Fn> fns;
  for (const auto& s : names) {
    const bool a = s == "Affine" || s == "LeakyRelu" || s == "ThresholdedRelu" || s == "ScaledTanh" || s == "HardSigmoid" || s == "Elu";
    const bool b = s == "Affine" || s == "ScaledTanh" || s == "HardSigmoid";
    const double da = s == "LeakyRelu" ? 0.01 : s == "HardSigmoid" ? 0.2 : 1.0, db = s == "HardSigmoid" ? 0.5 : s == "ScaledTanh" ? 1.0 : 0.0;
    const double alpha = a && ai < l.alphas.size() ? l.alphas[ai++] : da;
    const double beta = b && bi < l.betas.size() ? l.betas[bi++] : db;
    fns.push_back(activation(s, alpha, beta));
  }
  const std::size_t per = names.size() / static_cast<std::size_t>(D);
  auto X = [&](std::int64_t t, std::int64_t n, std::int64_t i) {
    return static_cast<double>(l.batch_first ? d.x[(n * T + t) * I + i] : d.x[(t * N + n) * I + i]);
  };
  auto state0 = [&](const std::vector<float>& v, std::int64_t dir, std::int64_t n, std::int64_t j) {
    return static_cast<double>(l.batch_first ? v[(n * D + dir) * H + j] : v[(dir * N + n) * H + j]);
  };
  std::vector<double> Y(static_cast<std::size_t>(T * D * N * H), 0.0), Yh(static_cast<std::size_t>(D * N * H)), Yc = Yh;
  for (std::int64_t dir = 0; dir < D; ++dir) {
    const bool reverse = l.direction == "reverse" || dir == 1;
    const Fn f = fns[dir * per], g = per > 1 ? fns[dir * per + 1] : fns[dir * per], h = per > 2 ? fns[dir * per + 2] : g;
    auto clip = [&](double v) { return l.clip ? std::clamp(v, -static_cast<double>(*l.clip), static_cast<double>(*l.clip)) : v; };
    for (std::int64_t n = 0; n < N; ++n) {
      std::vector<double> hs(static_cast<std::size_t>(H)), cs(static_cast<std::size_t>(H));
      for (std::int64_t j = 0; j < H; ++j) {
        hs[j] = l.initial ? state0(d.h0, dir, n, j) : 0.0;
        cs[j] = l.initial && l.op == "LSTM" ? state0(d.c0, dir, n, j) : 0.0;
      }
      const std::int64_t len = l.lengths.empty() ? T : l.lengths[n];
      // pre(g, j, v) = x·W_g,j + Wb + v·R_g,j + Rb for the recurrent vector v.
      auto xw = [&](std::int64_t t, std::int64_t gate, std::int64_t j) {
        double s = l.bias ? d.b[dir * 2 * G * H + gate * H + j] : 0.0;
        for (std::int64_t i = 0; i < I; ++i) s += X(t, n, i) * d.w[(dir * G * H + gate * H + j) * I + i];
        return s;
      };
      auto hr = [&](const std::vector<double>& v, std::int64_t gate, std::int64_t j) {
        double s = l.bias ? d.b[dir * 2 * G * H + (G + gate) * H + j] : 0.0;
        for (std::int64_t k = 0; k < H; ++k) s += v[k] * d.r[(dir * G * H + gate * H + j) * H + k];
        return s;
      };
      auto P = [&](std::int64_t k, std::int64_t j) { return l.peepholes ? static_cast<double>(d.p[dir * 3 * H + k * H + j]) : 0.0; };
      for (std::int64_t s = 0; s < len; ++s) {
        const std::int64_t t = reverse ? len - 1 - s : s;
        std::vector<double> nh(static_cast<std::size_t>(H)), nc(static_cast<std::size_t>(H));
        if (l.op == "RNN") {
          for (std::int64_t j = 0; j < H; ++j) nh[j] = f(clip(xw(t, 0, j) + hr(hs, 0, j)));
        } else if (l.op == "GRU") {
          std::vector<double> z(H), r(H), rh(H);
          for (std::int64_t j = 0; j < H; ++j) {
            z[j] = f(clip(xw(t, 0, j) + hr(hs, 0, j)));
            r[j] = f(clip(xw(t, 1, j) + hr(hs, 1, j)));
            rh[j] = r[j] * hs[j];
          }
          for (std::int64_t j = 0; j < H; ++j) {
            const double cand = g(clip(xw(t, 2, j) + (l.linear_before_reset ? r[j] * hr(hs, 2, j) : hr(rh, 2, j))));
            nh[j] = (1 - z[j]) * cand + z[j] * hs[j];
          }
        } else {
          // At the expansion's first step the state is the constant initial c, so infer_shapes
          // folds P⊙c into a constant of the model's dtype (binary32), as it folds every
          // product of constants (lib/graph/README.md).
          const bool folded = s == 0 && t == (reverse ? T - 1 : 0);
          auto peep = [&](std::int64_t k, std::int64_t j) {
            const double p = P(k, j) * cs[j];
            return folded ? static_cast<double>(static_cast<float>(p)) : p;
          };
          for (std::int64_t j = 0; j < H; ++j) {
            const double i = f(clip(xw(t, 0, j) + hr(hs, 0, j) + peep(0, j)));
            const double fg = f(clip(xw(t, 2, j) + hr(hs, 2, j) + peep(2, j)));
            const double c = g(clip(xw(t, 3, j) + hr(hs, 3, j)));
            nc[j] = fg * cs[j] + i * c;
            const double o = f(clip(xw(t, 1, j) + hr(hs, 1, j) + P(1, j) * nc[j]));
            nh[j] = o * h(nc[j]);
          }
        }
        hs = nh;
        if (l.op == "LSTM") cs = nc;
        for (std::int64_t j = 0; j < H; ++j) {
          const std::int64_t at = l.batch_first ? ((n * T + t) * D + dir) * H + j : ((t * D + dir) * N + n) * H + j;
          Y[at] = hs[j];
        }
      }
      for (std::int64_t j = 0; j < H; ++j) {
        const std::int64_t at = l.batch_first ? (n * D + dir) * H + j : (dir * N + n) * H + j;
        Yh[at] = hs[j];
        Yc[at] = cs[j];
      }
    }
  }
  std::vector<std::vector<double>> out;
  if (l.outputs_y) out.push_back(Y);
  out.push_back(Yh);
  if (l.op == "LSTM") out.push_back(Yc);
  return out;
}

std::vector<Feed> feeds(const Layer& l, const Data& d) {
  const Shape x = l.batch_first ? Shape{l.batch, l.seq, l.input} : Shape{l.seq, l.batch, l.input};
  std::vector<Feed> f = {{x, {d.x.begin(), d.x.end()}}};
  if (l.runtime_weights) f.push_back({{l.dirs(), l.gates() * l.hidden, l.input}, {d.w.begin(), d.w.end()}});
  return f;
}

/// The exact reference agrees with the equations (to binary64 roundings), and every node's
/// bound holds on every element in every chain.
void check_layer(const Layer& l) {
  const Data d = data_of(l);
  const ModelBuilder m = build(l, d);
  const auto exact = make_reference_arithmetic("exact");
  const auto got = run_model(m, feeds(l, d), *exact);
  const auto want = expected(l, d);
  REQUIRE(got.size() == want.size());
  for (std::size_t k = 0; k < got.size(); ++k) {
    REQUIRE(got[k].size() == want[k].size());
    for (std::size_t i = 0; i < got[k].size(); ++i) {
      INFO("output " << k << " element " << i);
      CHECK(std::fabs(got[k][i] - want[k][i]) <= 1e-13 * (1 + std::fabs(want[k][i])));
    }
  }
  check_bounds_every_chain(m, feeds(l, d));
}

}  // namespace

TEST_CASE("RNN: forward, reverse and bidirectional, with bias, initial state and both layouts") {
  check_layer({.op = "RNN"});
  check_layer({.op = "RNN", .direction = "reverse", .initial = true});
  check_layer({.op = "RNN", .direction = "bidirectional", .batch_first = true, .initial = true});
  check_layer({.op = "RNN", .bias = false, .activations = {"Relu"}});
}

TEST_CASE("GRU: linear_before_reset 0 and 1, every direction, sequence_lens, clip, layout 1") {
  check_layer({.op = "GRU"});
  check_layer({.op = "GRU", .linear_before_reset = true, .initial = true});
  check_layer({.op = "GRU", .direction = "bidirectional", .lengths = {4, 2}});
  check_layer({.op = "GRU", .direction = "reverse", .batch_first = true, .lengths = {1, 3}, .clip = 0.5f});
  check_layer({.op = "GRU", .hidden = 2, .seq = 3, .batch = 1, .outputs_y = false, .runtime_weights = true});
}

TEST_CASE("LSTM: peepholes, initial h and c, Y_c, bidirectional with sequence_lens, layout 1") {
  check_layer({.op = "LSTM"});
  check_layer({.op = "LSTM", .peepholes = true, .initial = true});
  check_layer({.op = "LSTM", .direction = "bidirectional", .batch_first = true, .peepholes = true, .initial = true,
               .lengths = {3, 4}, .clip = 1.0f});
}

TEST_CASE("activations with their alpha and beta, consumed in order") {
  check_layer({.op = "GRU", .activations = {"HardSigmoid", "ScaledTanh"}, .alphas = {0.3f, 0.9f}, .betas = {0.4f, 1.2f}});
  check_layer({.op = "LSTM", .activations = {"Sigmoid", "Softsign", "Affine"}, .alphas = {0.7f}, .betas = {0.1f}});
  check_layer({.op = "RNN", .direction = "bidirectional", .activations = {"LeakyRelu", "Elu"}, .alphas = {0.2f, 0.8f}});
  check_layer({.op = "RNN", .activations = {"Softplus"}});
  check_layer({.op = "RNN", .activations = {"ThresholdedRelu"}, .alphas = {0.1f}});
}

TEST_CASE("each step's nodes are named after the layer, the direction and the time step") {
  Layer l{.op = "GRU", .direction = "bidirectional"};
  const Data d = data_of(l);
  Graph g = build(l, d).parse();
  infer_shapes(g, std::vector<Shape>{{l.seq, l.batch, l.input}});
  auto has = [&](const std::string& name) {
    return std::any_of(g.nodes.begin(), g.nodes.end(), [&](const Node& n) { return n.name == name; });
  };
  CHECK(has("layer/fw/t0/z/x"));   // x_0·W_zᵀ + Wb_z, forward direction
  CHECK(has("layer/bw/t3/h/h"));   // (r⊙h)·R_hᵀ + Rb_h at the reverse direction's first step
  CHECK(has("layer/fw/t3/H"));
  CHECK_FALSE(has("layer"));
}

TEST_CASE("recurrent layers: bad inputs are refused with one line") {
  Layer l{.op = "LSTM"};
  const Data d = data_of(l);
  ModelBuilder forget = build(l, d);
  set_attr(*forget.model.mutable_graph()->mutable_node(0), "input_forget", std::int64_t{1});
  CHECK(refusal(forget, feeds(l, d)) ==
        "model.onnx: node 'layer' (LSTM): input_forget (coupled input and forget gates) is not supported");
  ModelBuilder bad = build(l, d);
  for (auto& a : *bad.model.mutable_graph()->mutable_node(0)->mutable_attribute())
    if (a.name() == "direction") a.set_s("sideways");
  CHECK(refusal(bad, feeds(l, d)) ==
        "model.onnx: node 'layer' (LSTM): direction 'sideways' is not forward, reverse or bidirectional");
  Layer wide = l;
  wide.input = 3;  // X has 3 features, W is made for 2
  ModelBuilder mismatch = build(wide, data_of(wide));
  *mismatch.model.mutable_graph()->mutable_initializer(0) = float_tensor("W", {1, 12, 2}, d.w);
  CHECK(refusal(mismatch, feeds(wide, data_of(wide))) ==
        "model.onnx: node 'layer' (LSTM): input W ('W') has shape [1, 12, 2], [1, 12, 3] expected");
}
