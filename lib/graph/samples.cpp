#include "graph/samples.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "graph/errors.h"
#include "graph/loader.h"

namespace fpaudit {

namespace {

bool is_integer(DType t) { return t == DType::Int64 || t == DType::Int32 || t == DType::Int8 || t == DType::UInt8; }

/// Whether data of type `data` may feed an input declared `declared`: any float type for a float
/// input (values are exact in binary64 and rounded into each chain's storage), any integer type
/// for an integer input (held exactly), bool for bool.
bool fits_type(DType declared, DType data) {
  if (declared == DType::Undefined) return true;
  if (is_float(declared)) return is_float(data);
  if (is_integer(declared)) return is_integer(data);
  return declared == data;
}

std::string input_list(const Graph& graph) {
  std::string names;
  for (const ValueInfo& in : graph.inputs) names += (names.empty() ? "'" : ", '") + in.name + "'";
  return names;
}

/// Positional keys NumPy gives unnamed arrays (numpy.savez(f, a, b)): arr_0, arr_1, ...
int positional_index(const std::string& key) {
  if (key.size() < 5 || key.compare(0, 4, "arr_") != 0) return -1;
  int k = 0;
  for (std::size_t i = 4; i < key.size(); ++i) {
    if (key[i] < '0' || key[i] > '9' || k > 100000) return -1;
    k = k * 10 + (key[i] - '0');
  }
  return k;
}

/// The auto rule (samples.h): axis 0 or none.
int auto_axis(const ValueInfo& in, const Shape& data) {
  if (!in.has_shape || data.empty()) return -1;
  if (data.size() == in.shape.size() + 1) return 0;
  if (data.size() == in.shape.size() && !in.shape.empty() && (in.shape[0] < 0 || in.shape[0] == 1)) return 0;  // symbolic, or 1
  return -1;
}

bool matches_declared(const ValueInfo& in, const Shape& s) {
  if (!in.has_shape) return true;
  if (in.shape.size() != s.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (in.shape[i] >= 0 && in.shape[i] != s[i]) return false;
  return true;
}

}  // namespace

std::vector<InputArray> read_input_file(const std::string& name, const std::filesystem::path& path) {
  std::vector<InputArray> out;
  if (path.extension() == ".npz") {
    if (!name.empty())
      fail(path, fmt::format("an .npz holds arrays keyed by input name; give it without '{}=' (or give input '{}' an .npy)", name, name));
    for (auto& [key, array] : read_npz(path)) out.push_back({key, std::move(array), fmt::format("{}[{}]", source_name(path), key)});
    return out;
  }
  out.push_back({name, read_npy(path), source_name(path)});
  return out;
}

SampleAxis parse_sample_axis(const std::string& text) {
  if (text == "auto") return {};
  if (text == "none") return {SampleAxis::Kind::None, 0};
  int axis = 0;
  const bool digits = !text.empty() && text.size() <= 2 && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (digits) axis = std::stoi(text);
  if (!digits) throw ModelError(fmt::format("--sample-axis '{}': expected auto, none or an axis 0, 1, 2 ...", text));
  return {SampleAxis::Kind::Fixed, axis};
}

SampleSet::SampleSet(const Graph& graph, std::vector<InputArray> given, SampleAxis axis) {
  const std::size_t n_inputs = graph.inputs.size();
  std::vector<int> owner(n_inputs, -1);  // given index per graph input
  const bool positional = !given.empty() && std::all_of(given.begin(), given.end(), [&](const InputArray& g) {
    const int k = positional_index(g.name);
    return k >= 0 && std::none_of(graph.inputs.begin(), graph.inputs.end(), [&](const ValueInfo& in) { return in.name == g.name; });
  });
  for (std::size_t g = 0; g < given.size(); ++g) {
    int k = -1;
    if (given[g].name.empty()) {
      if (n_inputs != 1 || given.size() != 1)
        fail(given[g].source, fmt::format("the model has {} runtime inputs ({}); name each one: --input NAME=FILE.npy, or one "
                                          ".npz keyed by input names", n_inputs, input_list(graph)));
      k = 0;
    } else if (positional) {
      k = positional_index(given[g].name);
      if (k >= static_cast<int>(n_inputs))
        fail(given[g].source, fmt::format("positional array '{}' but the model has {} runtime input{} ({})", given[g].name,
                                          n_inputs, n_inputs == 1 ? "" : "s", input_list(graph)));
    } else {
      for (std::size_t i = 0; i < n_inputs; ++i)
        if (graph.inputs[i].name == given[g].name) k = static_cast<int>(i);
      if (k < 0)
        fail(given[g].source, fmt::format("the model has no runtime input '{}' (its inputs: {})", given[g].name, input_list(graph)));
    }
    if (owner[static_cast<std::size_t>(k)] >= 0)
      fail(given[g].source, fmt::format("input '{}' is given twice (also by {})", graph.inputs[static_cast<std::size_t>(k)].name,
                                        given[static_cast<std::size_t>(owner[static_cast<std::size_t>(k)])].source));
    owner[static_cast<std::size_t>(k)] = static_cast<int>(g);
  }
  for (std::size_t k = 0; k < n_inputs; ++k)
    if (owner[k] < 0)
      fail(graph.source, fmt::format("input '{}' has no data; give it with --input {}=FILE.npy (or in the .npz)",
                                     graph.inputs[k].name, graph.inputs[k].name));

  long count = -1;
  std::string count_source;
  for (std::size_t k = 0; k < n_inputs; ++k) {
    InputArray& g = given[static_cast<std::size_t>(owner[k])];
    const ValueInfo& in = graph.inputs[k];
    const Shape& s = g.array.shape;
    auto refuse = [&](const std::string& problem) { fail(g.source, fmt::format("input '{}': {}", in.name, problem)); };
    if (!fits_type(in.dtype, g.array.dtype))
      refuse(fmt::format("the model's input is {} but the array holds {} data", dtype_name(in.dtype), dtype_name(g.array.dtype)));
    for (std::int64_t v : g.array.ints)
      if (v > (std::int64_t{1} << 53) || v < -(std::int64_t{1} << 53))
        refuse(fmt::format("integer {} is beyond 2^53, which fpaudit cannot hold exactly", v));
    int a = axis.kind == SampleAxis::Kind::None ? -1 : axis.kind == SampleAxis::Kind::Fixed ? axis.axis : auto_axis(in, s);
    if (a >= static_cast<int>(s.size()))
      refuse(fmt::format("--sample-axis {} but the array {} has {} dimension{}", a, shape_string(s), s.size(), s.size() == 1 ? "" : "s"));
    Shape sample = s;
    if (a >= 0) {
      if (in.has_shape && in.shape.size() + 1 == s.size()) sample.erase(sample.begin() + a);
      else sample[static_cast<std::size_t>(a)] = 1;
      const long here = static_cast<long>(s[static_cast<std::size_t>(a)]);
      if (here == 0) refuse(fmt::format("the array {} holds no samples (axis {} is empty)", shape_string(s), a));
      // One sample along the axis goes with any count, as NumPy broadcasts a dimension of 1.
      if (count > 1 && here > 1 && here != count)
        refuse(fmt::format("{} samples along axis {}, but {} holds {}", here, a, count_source, count));
      if (here > count) {
        count = here;
        count_source = g.source;
      }
      split_ = true;
    }
    if (!matches_declared(in, sample))
      refuse(fmt::format("{} does not fit the model's input {} ({}; choose with --sample-axis N|none)",
                         a >= 0 ? fmt::format("a sample {} of the array {}", shape_string(sample), shape_string(s))
                                : fmt::format("the whole array {}", shape_string(s)),
                         shape_string(in.shape), a >= 0 ? fmt::format("sample axis {}", a) : std::string("no sample axis")));
    arrays_.push_back(std::move(g.array));
    names_.push_back(in.name);
    sources_.push_back(g.source);
    dtypes_.push_back(in.dtype == DType::Undefined ? arrays_.back().dtype : in.dtype);
    axes_.push_back(a);
    sample_shapes_.push_back(std::move(sample));
  }
  count_ = count < 0 ? 1 : count;
}

std::vector<double> SampleSet::values(std::size_t k, long i) const {
  const Constant& c = arrays_[k];
  const bool floats = is_float(c.dtype);
  const std::size_t total = static_cast<std::size_t>(element_count(c.shape));
  auto at = [&](std::size_t j) { return floats ? c.values[j] : static_cast<double>(c.ints[j]); };
  std::vector<double> out;
  if (axes_[k] < 0) {
    out.resize(total);
    for (std::size_t j = 0; j < total; ++j) out[j] = at(j);
    return out;
  }
  const auto a = static_cast<std::size_t>(axes_[k]);
  const std::size_t length = static_cast<std::size_t>(c.shape[a]);
  std::size_t inner = 1;
  for (std::size_t d = a + 1; d < c.shape.size(); ++d) inner *= static_cast<std::size_t>(c.shape[d]);
  const std::size_t outer = total / (length * inner);
  const std::size_t index = length == 1 ? 0 : static_cast<std::size_t>(i);  // a length of 1 broadcasts
  out.resize(outer * inner);
  for (std::size_t o = 0; o < outer; ++o)
    for (std::size_t j = 0; j < inner; ++j) out[o * inner + j] = at((o * length + index) * inner + j);
  return out;
}

Constant SampleSet::sample(std::size_t k, long i) const {
  Constant c;
  c.dtype = dtypes_[k];
  c.shape = sample_shapes_[k];
  std::vector<double> v = values(k, i);
  if (is_float(c.dtype)) c.values = std::move(v);
  else c.ints.assign(v.begin(), v.end());
  return c;
}

void SampleSet::check_finite(long n) const {
  for (std::size_t k = 0; k < arrays_.size(); ++k) {
    if (!is_float(arrays_[k].dtype)) continue;
    for (long i = 0; i < (axes_[k] < 0 ? 1 : n); ++i) {
      const std::vector<double> v = values(k, i);
      for (std::size_t j = 0; j < v.size(); ++j)
        if (!std::isfinite(v[j]))
          fail(sources_[k], fmt::format("sample {} element {} is {}", i, j, std::isnan(v[j]) ? "NaN" : v[j] > 0 ? "+Inf" : "-Inf"));
    }
  }
}

Constant first_samples(const Constant& c, long n) {
  if (c.shape.empty() || c.shape[0] <= n) return c;
  Constant out = c;
  const std::int64_t per = element_count(c.shape) / c.shape[0];
  out.shape[0] = n;
  if (!out.values.empty()) out.values.resize(static_cast<std::size_t>(n * per));
  if (!out.ints.empty()) out.ints.resize(static_cast<std::size_t>(n * per));
  return out;
}

}  // namespace fpaudit
