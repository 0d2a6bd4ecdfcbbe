#include "graph/symbolic_shapes.h"

#include <algorithm>

#include <fmt/format.h>

#include "graph/errors.h"
#include "graph/loader.h"

namespace fpaudit {

namespace {

/// Symbol j's value at probe k: distinct primes, none a multiple or a small affine image of
/// another, and above any window or kernel a model applies to a symbolic spatial dimension.
std::int64_t probe_value(int k, std::size_t j) {
  static constexpr std::array<std::int64_t, 12> primes = {61, 67, 71, 73, 79, 83, 89, 97, 101, 103, 107, 109};
  return primes[static_cast<std::size_t>(k) * 4 + j % 4] + 128 * static_cast<std::int64_t>(j / 4);
}

std::string symbol_name(const ValueInfo& in, std::size_t axis) {
  const std::string& name = axis < in.dim_names.size() ? in.dim_names[axis] : std::string();
  return name.empty() ? fmt::format("{}.{}", in.name, axis) : name;
}

/// "16N", "N", "-N", "N+2", "3N-1".
std::string affine_text(std::int64_t a, const std::string& s, std::int64_t b) {
  std::string out = a == 1 ? s : a == -1 ? fmt::format("-{}", s) : fmt::format("{}{}", a, s);
  if (b > 0) out += fmt::format("+{}", b);
  if (b < 0) out += fmt::format("{}", b);
  return out;
}

}  // namespace

std::vector<std::string> input_symbols(const Graph& loaded) {
  std::vector<std::string> out;
  for (const ValueInfo& in : loaded.inputs)
    for (std::size_t d = 0; d < in.shape.size(); ++d)
      if (in.shape[d] < 0 && std::find(out.begin(), out.end(), symbol_name(in, d)) == out.end()) out.push_back(symbol_name(in, d));
  return out;
}

SymbolicShapes::SymbolicShapes(const Graph& loaded) : symbols_(input_symbols(loaded)) {
  for (int k = 0; k < 3; ++k) {
    std::vector<Shape> shapes;
    for (const ValueInfo& in : loaded.inputs) {
      if (!in.has_shape) fail(loaded.source, fmt::format("input '{}' has no declared shape; give it with --shape or --input", in.name));
      Shape s = in.shape;
      for (std::size_t d = 0; d < s.size(); ++d) {
        if (s[d] >= 0) continue;
        const auto j = static_cast<std::size_t>(std::find(symbols_.begin(), symbols_.end(), symbol_name(in, d)) - symbols_.begin());
        s[d] = probe_value(k, j);
      }
      shapes.push_back(std::move(s));
    }
    graphs_[static_cast<std::size_t>(k)] = loaded;
    try {
      infer_shapes(graphs_[static_cast<std::size_t>(k)], shapes);
    } catch (const ModelError& e) {
      // A model that fixes what its inputs leave open (a Gemm after a symbolic spatial size).
      std::string why = e.what(), values;
      const std::string prefix = loaded.source.string() + ": ";
      if (why.rfind(prefix, 0) == 0) why.erase(0, prefix.size());
      for (std::size_t j = 0; j < symbols_.size(); ++j) values += fmt::format("{}{}={}", j ? ", " : "", symbols_[j], probe_value(k, j));
      fail(loaded.source, fmt::format("its shapes cannot be followed for any value of its symbolic dimensions (at {}: {}); give "
                                      "them with --shape NAME=DIMS or --input DATA", values, why));
    }
  }
  if (graphs_[1].nodes.size() != graphs_[0].nodes.size() || graphs_[2].nodes.size() != graphs_[0].nodes.size())
    fail(loaded.source, "the model folds differently for different values of its symbolic dimensions; give --shape or --input");
}

std::string SymbolicShapes::describe(const Probed& v) const {
  if (v[0] == v[1] && v[1] == v[2]) return std::to_string(v[0]);
  for (std::size_t j = 0; j < symbols_.size(); ++j) {
    const std::int64_t x0 = probe_value(0, j), x1 = probe_value(1, j), x2 = probe_value(2, j);
    if ((v[1] - v[0]) % (x1 - x0) != 0) continue;
    const std::int64_t a = (v[1] - v[0]) / (x1 - x0), b = v[0] - a * x0;
    if (a != 0 && a * x2 + b == v[2]) return affine_text(a, symbols_[j], b);
  }
  // a times a product of several symbols (N*H*W multiply-adds of a convolution).
  const std::size_t n = std::min<std::size_t>(symbols_.size(), 6);
  for (unsigned mask = 1; mask < (1u << n); ++mask) {
    if ((mask & (mask - 1)) == 0) continue;  // one symbol: the affine case above
    Probed p{1, 1, 1};
    std::string name;
    for (std::size_t j = 0; j < n; ++j) {
      if (!(mask & (1u << j))) continue;
      for (std::size_t k = 0; k < 3; ++k) p[k] *= probe_value(static_cast<int>(k), j);
      if (!name.empty()) name += '*';
      name += symbols_[j];
    }
    if (v[0] % p[0] != 0) continue;
    const std::int64_t a = v[0] / p[0];
    if (a != 0 && a * p[1] == v[1] && a * p[2] == v[2]) return a == 1 ? name : fmt::format("{}{}", a, name);
  }
  return "?";
}

std::string SymbolicShapes::shape_text(const std::array<const Shape*, 3>& s) const {
  if (s[0]->size() != s[1]->size() || s[0]->size() != s[2]->size()) return "?";  // the rank itself depends on them
  if (s[0]->empty()) return "scalar";
  std::string out;
  for (std::size_t d = 0; d < s[0]->size(); ++d) {
    if (d) out += 'x';
    out += describe({(*s[0])[d], (*s[1])[d], (*s[2])[d]});
  }
  return out;
}

std::string SymbolicShapes::input_shape(std::size_t k) const {
  return shape_text({&graphs_[0].inputs.at(k).shape, &graphs_[1].inputs.at(k).shape, &graphs_[2].inputs.at(k).shape});
}

std::string SymbolicShapes::value_shape(const std::string& name) const {
  std::array<const Shape*, 3> s{};
  for (std::size_t k = 0; k < 3; ++k) {
    const Constant* c = graphs_[k].constant(name);
    const ValueInfo* v = graphs_[k].value(name);
    if (!c && !v) return "?";
    s[k] = c ? &c->shape : &v->shape;
  }
  return shape_text(s);
}

}  // namespace fpaudit
