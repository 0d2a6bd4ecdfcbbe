#include "core/arithmetic.h"

#include <algorithm>
#include <array>
#include <stdexcept>

#include "core/chain_arithmetic.h"
#include "core/mixed_arithmetic.h"
#include "graph/graph.h"

namespace fpaudit {

std::string_view unary_fn_name(UnaryFn f) {
  constexpr std::array<std::string_view, 9> names = {"exp", "log", "tanh", "sigmoid", "erf", "gelu", "sqrt", "reciprocal", "rsqrt"};
  return names[static_cast<int>(f)];
}

void Arithmetic::round_storage(std::span<double> values) const {
  for (double& v : values) v = round(v, Target::Storage);
}

void Arithmetic::fma_scaled(const double* x, double scale, double shift, double* y, long n) const {
  for (long i = 0; i < n; ++i) y[i] = fma(x[i], scale, shift);
}

void Arithmetic::binary(BinaryOp op, const double* x, std::ptrdiff_t incx, const double* w, std::ptrdiff_t incw, double* y,
                        long n) const {
  for (long i = 0; i < n; ++i) {
    const double a = x[i * incx], b = w[i * incw];
    switch (op) {
      case BinaryOp::Add: y[i] = add(a, b); break;
      case BinaryOp::Sub: y[i] = sub(a, b); break;
      case BinaryOp::Mul: y[i] = mul(a, b); break;
      case BinaryOp::Div: y[i] = div(a, b); break;
    }
  }
}

void Arithmetic::gemm(const GemmArgs& g) const {
  for (long m = 0; m < g.M; ++m)
    for (long n = 0; n < g.N; ++n) {
      double acc = dot(g.W + m * g.ldw, g.w_step, g.X + n * g.x_step, g.ldx, g.K);
      if (g.bias) acc = add(acc, round(g.bias[m], Target::Accumulator), Target::Accumulator);
      g.Y[m * g.ldy + n] = g.round_to_storage ? round(acc, Target::Storage) : acc;
    }
}

namespace {
ChainSpec named(const char* name, const Format& storage, const Format& accumulator) {
  ChainSpec c;
  c.name = name;
  c.storage = storage;
  c.accumulator = accumulator;
  c.schedule = DotSchedule::sequential();
  return c;
}

const std::array kChains = {
    named("fp32", binary32(), binary32()),
    named("fp16", binary16(), binary16()),
    named("fp16-acc32", binary16(), binary32()),
    named("bf16", bfloat16(), bfloat16()),
    named("bf16-acc32", bfloat16(), binary32()),
    named("fp8-e4m3-acc32", e4m3(), binary32()),
    named("fp8-e5m2-acc32", e5m2(), binary32()),
};

/// "NAME" or "NAME@SCHEDULE": a plain chain.
ChainSpec parse_plain_chain(std::string_view text) {
  const std::size_t at = text.find('@');
  const std::string_view name = text.substr(0, at);
  for (const ChainSpec& c : kChains) {
    if (c.name != name) continue;
    ChainSpec spec = c;
    if (at != std::string_view::npos) {
      const std::string_view sched = text.substr(at + 1);
      if (!parse_schedule(sched, spec.schedule))
        throw std::invalid_argument("unknown schedule '" + std::string(sched) +
                                    "' (expected sequential, two-lane, blocked-B, pairwise-L or tensor-core[-B[+G]])");
      spec.name = std::string(text);
    }
    return spec;
  }
  std::string known;
  for (const ChainSpec& c : kChains) known += (known.empty() ? "" : ", ") + c.name;
  throw std::invalid_argument("unknown chain '" + std::string(name) + "' (known: " + known + ")");
}

/// Whether `text` begins with a chain name followed by its end, '@' or '+': an item of a chain
/// list that starts a chain rather than continuing a mixed chain's selectors.
bool starts_chain(std::string_view text) {
  for (const ChainSpec& c : kChains)
    if (text.substr(0, c.name.size()) == c.name &&
        (text.size() == c.name.size() || text[c.name.size()] == '@' || text[c.name.size()] == '+'))
      return true;
  return false;
}
}  // namespace

bool ChainSpec::keeps(const Node& node) const {
  if (!kept) return false;
  for (const std::string& s : keep)
    if (s == node.op_type || s == node.name) return true;
  return false;
}

std::span<const ChainSpec> named_chains() { return kChains; }

ChainSpec parse_chain(std::string_view text) {
  const std::size_t colon = text.find(':');
  // BASE+KEPT:SELECTORS. Schedules may hold a '+' (tensor-core-8+4): the split is the first '+'
  // after which a chain name begins.
  const std::string_view chains = text.substr(0, colon);
  std::size_t plus = chains.find('+');
  while (plus != std::string_view::npos && !starts_chain(chains.substr(plus + 1))) plus = chains.find('+', plus + 1);
  if (colon == std::string_view::npos && plus == std::string_view::npos) return parse_plain_chain(text);
  if (plus == std::string_view::npos || colon == std::string_view::npos)
    throw std::invalid_argument("'" + std::string(text) + "': a mixed chain is BASE+KEPT:SELECTORS (e.g. fp16+fp32:Softmax,/head/Gemm)");
  ChainSpec spec = parse_plain_chain(chains.substr(0, plus));
  spec.kept = std::make_shared<const ChainSpec>(parse_plain_chain(chains.substr(plus + 1)));
  std::string_view rest = text.substr(colon + 1);
  while (true) {
    const std::size_t comma = rest.find(',');
    const std::string_view sel = rest.substr(0, comma);
    if (sel.empty()) throw std::invalid_argument("'" + std::string(text) + "': empty node selector");
    spec.keep.emplace_back(sel);
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  spec.name = std::string(text);
  return spec;
}

std::vector<ChainSpec> parse_chain_list(std::string_view text) {
  // Items, with a mixed chain's selectors joined back onto it.
  std::vector<std::string> items;
  bool in_mixed = false;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string_view item = text.substr(start, comma - start);
    start = comma + 1;
    if (item.empty()) continue;
    if (in_mixed && !starts_chain(item)) {
      items.back().append(",").append(item);
      continue;
    }
    items.emplace_back(item);
    in_mixed = item.find(':') != std::string_view::npos;
  }
  std::vector<ChainSpec> out;
  for (const std::string& item : items) {
    ChainSpec spec = parse_chain(item);
    for (const ChainSpec& have : out)
      if (have.name == spec.name) throw std::invalid_argument("chain '" + spec.name + "' listed twice");
    out.push_back(std::move(spec));
  }
  if (out.empty()) throw std::invalid_argument("no chains given");
  return out;
}

ChainSpec mixed_chain(const ChainSpec& base, const ChainSpec& kept, const std::vector<std::string>& nodes) {
  ChainSpec spec = base;
  spec.kept = std::make_shared<const ChainSpec>(kept);
  spec.keep = nodes;
  spec.kept_summary.clear();
  spec.name = base.name + "+" + kept.name + ":";
  for (std::size_t i = 0; i < nodes.size(); ++i) spec.name += (i ? "," : "") + nodes[i];
  return spec;
}

bool same_storage(const ChainSpec& a, const ChainSpec& b) {
  if (!(a.storage == b.storage) || (a.kept == nullptr) != (b.kept == nullptr)) return false;
  return !a.kept || (a.kept->storage == b.kept->storage && a.keep == b.keep);
}

std::unique_ptr<Arithmetic> make_chain_arithmetic(const ChainSpec& spec) {
  if (spec.kept) return std::make_unique<MixedArithmetic>(spec);
  return std::make_unique<ChainArithmetic>(spec);
}

}  // namespace fpaudit
